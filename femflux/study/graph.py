"""The sweep's picture (``sweep.png``): the first collected output against the
first varied key (for a zip sweep, all keys vary along it), one line per
combination of the other varied keys (a product sweep), over the points that
converged.  A key given by ``logspace``,
or positive values spanning two decades or more, gets a log axis (so does an
output spanning two decades); values that are not numbers are spaced evenly
and labelled.
"""

from __future__ import annotations

import math
import numbers
import textwrap
import threading
from pathlib import Path

from .folder import OK


def draw(path: Path, table: list[dict], keys: list[str], output: str, log_keys: list[str],
         title: str = "", zipped: bool = False) -> Path | None:
    """Draw ``output`` against ``keys[0]`` into ``path`` (one line: with
    ``zipped`` the keys vary together); None when nothing converged or the
    output is not a number."""
    ok = [row for row in table if row["status"] == OK and _number(row.get(output))]
    if not ok or not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_key, others = keys[0], ([] if zipped else keys[1:])
    numeric = all(_number(row[x_key]) for row in ok)
    labels = list(dict.fromkeys(str(row[x_key]) for row in ok))
    lines: dict[tuple, list[dict]] = {}
    for row in ok:
        lines.setdefault(tuple(_text(row[k]) for k in others), []).append(row)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=150)
    try:
        for combo, rows in lines.items():
            xs = [float(r[x_key]) if numeric else labels.index(str(r[x_key])) for r in rows]
            ys = [float(r[output]) for r in rows]
            label = ", ".join(f"{k} = {v}" for k, v in zip(others, combo, strict=True)) or None
            ax.plot(xs, ys, "o-", ms=4, label=label)
        xs = [float(r[x_key]) for r in ok] if numeric else []
        if numeric and (x_key in log_keys or _decades(xs)):
            ax.set_xscale("log")
        if _decades([float(r[output]) for r in ok]):
            ax.set_yscale("log")
        if not numeric:
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_xlabel(x_key)
        ax.set_ylabel(output)
        if title:
            ax.set_title("\n".join(textwrap.wrap(title, 80)), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        if others and len(lines) <= 12:
            ax.legend(fontsize=7)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial.png")
        fig.savefig(partial)
        partial.replace(path)
    finally:
        plt.close(fig)
    return path


def import_in_background() -> threading.Thread:
    """Import matplotlib (Agg) and pyplot in a daemon thread: 0.3 s of CPU
    that a sweep spends while a core idles (the last points running) rather
    than after the last point; :func:`draw` then finds them imported (or
    waits for the import to finish).  A failed import is left to :func:`draw`."""

    def load() -> None:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401
        except Exception:  # noqa: BLE001, S110 - draw() imports again and reports
            pass

    thread = threading.Thread(target=load, name="femflux-import-matplotlib", daemon=True)
    thread.start()
    return thread


def _number(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _decades(values: list[float]) -> bool:
    return min(values) > 0 and max(values) >= 100 * min(values)


def _text(value) -> str:
    return f"{value:.4g}" if _number(value) else str(value)
