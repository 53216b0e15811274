"""The sweep's input (SPEC 6 "Sweeps"): the ``[sweep]`` table and ``--vary KEY=VALUES``.

Owns the reading and checking of what a sweep varies, never its running
(that is :mod:`femflux.study`):

- VALUES: a TOML list, or ``linspace(a, b, n)`` / ``logspace(a, b, n)``
  (numpy's meaning: logspace runs from 10^a to 10^b); on the command line also
  ``v1,v2,...`` with each item read as ``--set`` reads a VALUE;
- ``[sweep]``: ``vary = { "boundary.right.potential" = "linspace(-1, 1, 21)" }``
  (a TOML table of dotted keys; unquoted dotted keys, which TOML nests, are
  flattened back), ``zip``, ``chain``, ``collect`` (dotted ``summary.json``
  paths);
- :func:`check_sweep`: every varied key can be applied with each of its values
  exactly as ``--set`` applies it (:mod:`.overrides`) and gives a valid case;
  ``zip`` lists have one length; ``chain`` needs steady points and no varied
  initial values; ``collect`` paths have the shape of ``summary.json``.

Every error is a :class:`CaseError` naming the key (``[sweep] vary
'boundary.right.potential'`` or ``--vary 'boundary.right.potential'``).
"""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any

import numpy as np

from ..errors import CaseError
from .schema import SWEEP_KEYS, Case, Sweep
from .table import _show, _suggest, _Table

#: the top-level keys of summary.json a collected path may start with
SUMMARY_PATHS = ("converged", "time", "steps", "newton_iterations", "rejected_steps",
                 "continuation_steps", "dofs", "wall_time_s", "boundaries", "regions", "probes")
_SPACING = re.compile(r"\s*(linspace|logspace)\s*\((.*)\)\s*\Z", re.DOTALL)


# -- VALUES -----------------------------------------------------------------------------


def parse_values(value, where: str) -> tuple[list[Any], bool]:
    """The values of one varied key and whether they came from ``logspace``.

    ``value`` is a list (TOML values) or a ``linspace(a, b, n)`` /
    ``logspace(a, b, n)`` string; ``where`` names the key in messages.
    """
    if isinstance(value, list):
        if not value:
            raise CaseError(f"{where} has no values (an empty list)")
        return list(value), False
    if isinstance(value, str):
        match = _SPACING.match(value)
        if match:
            return _spaced(match.group(1), match.group(2), value, where), \
                match.group(1) == "logspace"
    raise CaseError(f"{where} must be a list of values, linspace(a, b, n) or logspace(a, b, n) "
                    f"(got {_show(value)})")


def _spaced(kind: str, arguments: str, text: str, where: str) -> list[float]:
    parts = [part.strip() for part in arguments.split(",")]
    if len(parts) != 3:
        raise CaseError(f"{where}: {kind} takes three arguments a, b, n (got {text!r})")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise CaseError(f"{where}: {kind}(a, b, n) needs numbers a and b (got {text!r})") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise CaseError(f"{where}: {kind}(a, b, n) needs finite a and b (got {text!r})")
    if not re.fullmatch(r"[0-9]+", parts[2]) or int(parts[2]) < 1:
        raise CaseError(f"{where}: {kind}(a, b, n) needs a whole number n >= 1 (got {text!r})")
    n = int(parts[2])
    values = np.linspace(a, b, n) if kind == "linspace" else np.logspace(a, b, n)
    if not np.all(np.isfinite(values)):
        raise CaseError(f"{where}: {text!r} gives values that are not finite")
    return [float(v) for v in values]


def parse_vary(text: str) -> tuple[str, list[Any], bool]:
    """``--vary KEY=VALUES``: the key, its values and whether they are logspace.

    VALUES is a TOML list (``[0.1, 0.2]``), ``linspace(a, b, n)``,
    ``logspace(a, b, n)``, or items separated by commas (``0.1,0.2``, ``direct,iterative``),
    each read as ``--set`` reads a VALUE (TOML, else the bare string).
    """
    from .overrides import _toml_value

    if not isinstance(text, str) or "=" not in text:
        raise CaseError(f"--vary {text!r} must read KEY=VALUES")
    key, _, values = text.partition("=")
    key, values = key.strip(), values.strip()
    where = f"--vary {key!r}"
    if not key:
        raise CaseError(f"--vary {text!r}: the key is missing (KEY=VALUES)")
    if not values:
        raise CaseError(f"{where} has no values")
    if _SPACING.match(values):
        parsed, log = parse_values(values, where)
        return key, parsed, log
    if values.startswith("["):
        try:
            parsed = tomllib.loads(f"values = {values}")["values"]
        except tomllib.TOMLDecodeError as exc:
            raise CaseError(f"{where}: {values!r} is not a TOML list ({exc})") from None
        return key, parse_values(parsed, where)[0], False
    items = [item.strip() for item in values.split(",")]
    if not all(items):
        raise CaseError(f"{where}: empty item in {values!r}")
    return key, [_toml_value(item) for item in items], False


# -- the [sweep] table ----------------------------------------------------------------------


def read_sweep(data) -> Sweep:
    """The ``[sweep]`` table as a :class:`Sweep` (not yet checked against the case)."""
    if not isinstance(data, dict):
        raise CaseError(f"[sweep] must be a table (got {_show(data)})")
    t = _Table(data, SWEEP_KEYS, "[sweep]", "sweep")
    if not t.has("vary"):
        raise CaseError("[sweep] vary is required: vary = { \"KEY\" = VALUES, ... }")
    vary = t.get("vary")
    if not isinstance(vary, dict) or not vary:
        raise CaseError(f"[sweep] vary must be a table of dotted keys and their values, e.g. "
                        f"vary = {{ \"boundary.right.potential\" = \"linspace(-1, 1, 21)\" }} "
                        f"(got {_show(vary)})")
    sweep = Sweep(zip=t.boolean("zip", False), chain=t.boolean("chain", False),
                  collect=read_collect(t.get("collect", []), "[sweep] collect"))
    for key, value in _flatten(vary):
        values, log = parse_values(value, f"[sweep] vary {key!r}")
        sweep.vary[key] = values
        if log:
            sweep.log_keys.append(key)
    return sweep


def _flatten(table: dict, prefix: str = ""):
    """(dotted key, VALUES) pairs; nested tables (unquoted dotted TOML keys) are flattened."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def read_collect(value, where: str) -> list[str]:
    """``collect``: a list of dotted summary.json paths (their shape is checked
    by :func:`check_collect`)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CaseError(f"{where} must be a list of dotted summary.json paths, e.g. "
                        f"[\"boundaries.right.current\"] (got {_show(value)})")
    return [v.strip() for v in value]


# -- checks against the case ----------------------------------------------------------------


def check_sweep(case: Case, sweep: Sweep, label: str = "[sweep]") -> None:
    """Check ``sweep`` against ``case`` (its base): each varied key applied with
    each of its values as ``--set`` would gives a valid case; see the module
    docstring for the rest.  ``label`` names the source in messages
    (``[sweep]`` or ``--vary``)."""
    from .reader import load_case

    if not sweep.vary:
        raise CaseError(f"{label}: nothing to vary (give --vary KEY=VALUES or a [sweep] table)")
    where = "[sweep] vary" if label == "[sweep]" else "--vary"
    if sweep.zip:
        lengths = {key: len(values) for key, values in sweep.vary.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{key!r} {n}" for key, n in lengths.items())
            raise CaseError(f"{label} zip needs lists of one length (got {shown})")
    base = base_raw(case)
    for key, values in sweep.vary.items():
        parts = key.split(".")
        if parts[0] == "sweep":
            raise CaseError(f"{where} {key!r}: the sweep cannot vary itself")
        if sweep.chain and "initial" in parts:
            raise CaseError(f"{where} {key!r}: a chained sweep starts each point from the "
                            f"previous solution, so it cannot vary initial values")
        seen = set()
        for value in values:
            if repr(value) in seen:
                continue
            seen.add(repr(value))
            try:
                point = load_case(base, overrides={key: value})
            except CaseError as exc:
                raise CaseError(f"{where} {key!r} = {value!r}: {exc}") from None
            if sweep.chain and not point.solver.steady:
                raise CaseError(f"{label} chain needs steady points ([solver] steady = true): "
                                f"continuation starts each point from the previous steady state")
    check_collect(case, sweep.collect, f"{label} collect" if label == "[sweep]" else "--collect")


def check_collect(case: Case, paths: list[str], where: str) -> None:
    """Each collected path has the shape of a summary.json entry: a known top
    level, a species after ``flux`` and ``amount``, a probe of the case
    (boundary and region names are the mesh's, and a boundary's quantities
    depend on its conditions: those are checked after the points are solved)."""
    for path in paths:
        parts = path.split(".")
        head = parts[0]
        if head not in SUMMARY_PATHS:
            raise CaseError(f"{where} {path!r}: summary.json has no {head!r}"
                            f"{_suggest(head, SUMMARY_PATHS)} ({', '.join(SUMMARY_PATHS)})")
        if head in ("boundaries", "regions", "probes") and len(parts) < 3:
            raise CaseError(f"{where} {path!r} is a table, not a value "
                            f"(e.g. boundaries.NAME.current)")
        if head == "boundaries":  # flux.SPECIES, current, potential, measure, ...
            _check_species_part(case, path, parts, parts[2] == "flux", where)
        elif head == "regions":
            if parts[2] != "amount":
                raise CaseError(f"{where} {path!r}: a region has amount, not {parts[2]!r}")
            _check_species_part(case, path, parts, True, where)
        elif head == "probes" and parts[1] not in case.output.probes:
            names = ", ".join(case.output.probes) or "none"
            raise CaseError(f"{where} {path!r}: no probe {parts[1]!r} in [output] probes "
                            f"(probes: {names})")
        elif head not in ("boundaries", "regions", "probes") and len(parts) > 1:
            raise CaseError(f"{where} {path!r}: {head} is a value, not a table")


def _check_species_part(case: Case, path: str, parts: list[str], by_species: bool,
                        where: str) -> None:
    if not by_species:
        if len(parts) > 3:
            raise CaseError(f"{where} {path!r}: {parts[2]} is a value, not a table")
        return
    if len(parts) != 4:
        raise CaseError(f"{where} {path!r} needs a species: {'.'.join(parts[:3])}.SPECIES")
    names = case.species_names
    if parts[3] not in names:
        raise CaseError(f"{where} {path!r}: no species {parts[3]!r}{_suggest(parts[3], names)} "
                        f"(species: {', '.join(names)})")


def base_raw(case: Case) -> dict:
    """The case as run without its ``[sweep]`` table: what every point starts from."""
    return {key: value for key, value in case.raw.items() if key != "sweep"}


def sweep_warning(sweep: Sweep) -> str:
    """The warning of a case that holds ``[sweep]`` when it is solved on its own."""
    n = len(sweep.points)
    return (f"[sweep] ({n} points) is not run by femflux run or femflux.solve, which solve the "
            f"base case: femflux sweep CASE.toml runs the sweep")
