"""The sweep's table: one row per point with its values, its status and one-line
message, and the collected outputs (dotted ``summary.json`` paths), written
as ``sweep.csv`` and returned as a pandas DataFrame (if pandas is importable)
or a dict of lists.

Columns: ``point``, the varied keys (as given), ``status``
(``ok``/``not_converged``/``bad_input``/``error``), ``message``, then the
collected paths (SI units; empty for points that did not converge).  The
default outputs are every boundary's flux of each species, current and
potential, in the order of the points' summaries.
"""

from __future__ import annotations

import csv
import io
import json
import math

from .folder import OK, write_text

FIXED_COLUMNS = ("point", "status", "message")


def default_collect(summaries) -> list[str]:
    """Every ``boundaries.<name>.flux.<species>``, ``.current`` and ``.potential``
    found in ``summaries``, first-seen order."""
    paths: dict[str, None] = {}
    for summary in summaries:
        for name, entry in (summary or {}).get("boundaries", {}).items():
            for species in entry.get("flux", {}):
                paths[f"boundaries.{name}.flux.{species}"] = None
            for quantity in ("current", "potential"):
                if quantity in entry:
                    paths[f"boundaries.{name}.{quantity}"] = None
    return list(paths)


def lookup(summary: dict | None, path: str):
    """The value at the dotted ``path`` of ``summary``, or None."""
    value = summary
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def missing(collect: list[str], summaries) -> list[str]:
    """The collected paths that no summary has."""
    return [path for path in collect
            if all(lookup(s, path) is None for s in summaries if s is not None)]


def rows(points: list[dict], records: list[dict | None], summaries: list[dict | None],
         collect: list[str]) -> tuple[list[str], list[dict]]:
    """The columns and one row per point (None for no value)."""
    keys = list(points[0]) if points else []
    columns = ["point", *keys, "status", "message", *collect]
    table = []
    for i, values in enumerate(points):
        record = records[i] or {"status": "not_run", "message": ""}
        row = {"point": i, **values, "status": record["status"],
               "message": record.get("message", "")}
        ok = record["status"] == OK
        for path in collect:
            row[path] = lookup(summaries[i], path) if ok else None
        table.append(row)
    return columns, table


def write_csv(path, columns: list[str], table: list[dict]) -> None:
    """``sweep.csv`` (atomically): a header of the column names, full precision."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([_cell(row.get(column)) for column in columns])
    write_text(path, stream.getvalue())


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def as_table(columns: list[str], table: list[dict]):
    """A pandas DataFrame if pandas is importable (None -> NaN), else a dict of lists."""
    data = {column: [row.get(column) for row in table] for column in columns}
    try:
        import pandas
    except ImportError:
        return data
    return pandas.DataFrame(data, columns=columns)
