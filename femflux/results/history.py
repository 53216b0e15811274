"""The time-resolved observables of a transient run as one table (SPEC 6).

``summary.json`` ``history`` is a list of nested entries, one per accepted
step and t = 0 (``t``, ``dt``, ``newton_iterations``, ``amount.<species>``,
``free_energy``, ``boundaries.<name>.flux.<species>``,
``boundaries.<name>.current``, ``boundaries.<name>.potential``,
``regions.<name>.amount.<species>``, ``enclosures.<name>.pressure``,
``enclosures.<name>.amount``, ``probes.<name>.<field>``).  Here it
becomes columns named by their dotted paths: ``history.csv`` in the results
folder, ``Result.history`` in Python.  Values are SI: :func:`unit` gives each
column's unit.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .units import amount_unit

#: units of the probe fields that are not concentrations (mol/m^3)
_FIELD_UNITS = {"phi": "V", "u": "m", "sigma": "Pa", "sigma_h": "Pa", "von_mises": "Pa"}


def flatten(entry: dict, prefix: str = "") -> dict[str, float]:
    """{dotted path: value} of one nested history entry."""
    out = {}
    for key, value in entry.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def columns(history: list[dict]) -> dict[str, np.ndarray]:
    """The history as {column: values}, columns in order of first appearance;
    a column some entries lack (or a null free energy) holds NaN there, and a
    column that is null throughout is left out."""
    rows = [flatten(entry) for entry in history]
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    table = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if all(v is None for v in values):
            continue
        table[name] = np.array([np.nan if v is None else float(v) for v in values])
    return table


def unit(column: str) -> str:
    """The SI unit of a history column (its dotted path); amounts in
    :func:`~femflux.results.units.amount_unit` (mol, or atoms)."""
    parts = column.split(".")
    if parts[0] in ("t", "dt"):
        return "s"
    if parts[0] == "newton_iterations":
        return "1"
    if parts[0] == "free_energy":
        return "J"
    if parts[0] == "temperature":
        return "K"
    amount = amount_unit()
    if parts[0] == "amount" or "amount" in parts[:-1]:
        return amount
    if parts[0] == "enclosures":
        return {"pressure": "Pa", "amount": "mol"}.get(parts[-1], "")
    if parts[0] == "boundaries":
        return {"flux": f"{amount}/s", "current": "A", "potential": "V",
                "electrode_potential": "V", "enclosure_pressure": "Pa"}.get(parts[2], "")
    if parts[0] == "probes":
        field = parts[-1]
        if field.startswith("mu_"):
            return "J/mol"
        base = field.split("_")[0] if field.split("_")[0] in ("u", "sigma") else field
        return _FIELD_UNITS.get(base, f"{amount}/m^3")
    return ""


def write_csv(path: Path, history: list[dict]) -> None:
    """history.csv: a header of dotted paths, one row per entry, SI values."""
    table = columns(history)
    names = list(table)
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(names)
        for k in range(len(history)):
            writer.writerow(["" if math.isnan(table[n][k]) else repr(float(table[n][k]))
                             for n in names])


def as_table(history: list[dict]):
    """A pandas DataFrame of the columns when pandas is installed, else the
    dict {column: numpy array}."""
    table = columns(history)
    try:
        import pandas
    except ImportError:
        return table
    return pandas.DataFrame(table)
