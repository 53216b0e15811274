"""Line graphs of a transient run's history (SPEC 6): columns of
``summary.json`` ``history`` (``boundaries.cathode.current``, ...) against
``t`` or another column (a potential, for a voltammogram), with matplotlib.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import CaseError
from ..results.history import columns, unit
from ..results.units import labelled_by_source


def history_table(source) -> dict[str, np.ndarray]:
    """The history columns of a results folder (or its summary.json, or a
    summary dict)."""
    if isinstance(source, dict):
        summary = source
    else:
        path = Path(source)
        path = path / "summary.json" if path.is_dir() else path
        if path.name != "summary.json" or not path.exists():
            raise CaseError(f"{source}: not a results folder (no summary.json)")
        summary = json.loads(path.read_text())
    if not summary.get("history"):
        raise CaseError(f"{source}: no history (a steady run has none)")
    return columns(summary["history"])


def _label(column: str) -> str:
    u = unit(column)
    return f"{column} ({u})" if u and u != "1" else column


@labelled_by_source
def plot_history(source, ys: list[str], x: str = "t", out=None, window=(1000, 700)):
    """A line graph of the history columns ``ys`` against column ``x``;
    written to ``out`` (PNG) when given; returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = history_table(source)
    for name in [x, *ys]:
        if name not in table:
            near = [c for c in table if c.endswith(name.split(".")[-1])][:5]
            hint = f" (e.g. {', '.join(near)})" if near else f" (columns: {', '.join(table)})"
            raise CaseError(f"no history column {name!r}{hint}")
    fig, ax = plt.subplots(figsize=(window[0] / 100, window[1] / 100), dpi=100)
    units = {unit(y) for y in ys}
    for y in ys:
        ax.plot(table[x], table[y], marker="." if len(table[x]) < 60 else None,
                label=y if len(ys) > 1 else None)
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(ys[0]) if len(ys) == 1 else ", ".join(sorted(units)))
    if len(ys) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    if out is not None:
        fig.savefig(out)
        plt.close(fig)
    return fig
