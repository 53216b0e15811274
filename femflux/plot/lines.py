"""1D results as matplotlib line graphs against x (m): the curves, the
second axis for phi, shaded regions and axis formatting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .fields import _values, field_unit

if TYPE_CHECKING:
    import pyvista as pv
    from matplotlib.figure import Figure

    from .fields import _Field
    from .view import _View


def _profile(ds: pv.DataSet, f: _Field) -> tuple[np.ndarray, np.ndarray]:
    """(x, values) of a field along a 1D mesh, sorted by x."""
    values = _values(ds, f)
    pts = ds.points if f.association == "point" else ds.cell_centers().points
    x = np.asarray(pts)[:, 0]
    order = np.argsort(x, kind="stable")
    return x[order], values[order]


def _region_spans(ds: pv.DataSet) -> list[tuple[int, float, float]]:
    """(region id, xmin, xmax) of every region of a 1D mesh."""
    if "region" not in ds.cell_data.keys():
        return []
    region = np.asarray(ds.cell_data["region"]).reshape(-1)
    spans = []
    for r in np.unique(region):
        x = np.asarray(ds.extract_cells(region == r).points)[:, 0]
        spans.append((int(r), float(x.min()), float(x.max())))
    return spans


def _ylim(clim: tuple[float, float], log: bool) -> tuple[float, float]:
    """Axis limits: the colour range with a 5 % margin."""
    lo, hi = clim
    if log:
        return lo / 1.5, hi * 1.5
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _line_figure(ds: pv.DataSet, view: _View, time: float | None) -> Figure:
    """A matplotlib line graph of a 1D result (x in m on the abscissa)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import EngFormatter

    w, h = view.window
    scale = min(w / 1200, h / 900)
    rc = {"font.size": 17 * scale, "lines.linewidth": 2.5 * scale, "axes.linewidth": scale,
          "xtick.major.width": scale, "ytick.major.width": scale}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(w / 100, h / 100), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        _shade_regions(ax, ds, view)
        handles = []
        for f in view.lines:
            x, y = _profile(ds, f)
            handles += ax.plot(x, np.where(y > 0, y, np.nan) if view.log else y, label=f.name)
        _format_axis(ax, view.clim, view.log, _line_ylabel(view.lines))
        if view.twin is not None:
            ax2 = ax.twinx()
            x, y = _profile(ds, view.twin)
            handles += ax2.plot(x, y, color="0.25", linestyle="--", label=view.twin.name)
            _format_axis(ax2, view.twin_clim, False, view.twin.label)
        ax.xaxis.set_major_formatter(EngFormatter(unit="m"))
        ax.set_xlabel("x")
        ax.set_xlim(view.bounds[0], view.bounds[1])
        ax.grid(alpha=0.3)
        if len(handles) > 1:  # above the axes: never on the curves, still in animations
            fig.legend(handles=handles, loc="outside upper right", ncols=len(handles),
                       frameon=False)
        if time is not None:
            ax.set_title(f"t = {time:.2e} s", loc="left")
    return fig


def _format_axis(ax: Any, clim: tuple[float, float], log: bool, label: str) -> None:
    """Limits, scale, number format and label of an ordinate."""
    from matplotlib.ticker import NullFormatter

    ax.set_ylim(*_ylim(clim, log))
    ax.set_ylabel(label)
    if log:
        ax.set_yscale("log")
        if clim[1] >= 100 * clim[0]:  # many decades: label the decades only
            ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4), useMathText=True)


def _line_ylabel(lines: list[_Field]) -> str:
    """Ordinate label: the field and unit, or 'concentration' for several species."""
    if len(lines) == 1:
        return lines[0].label
    units = {field_unit(f.name) for f in lines}
    return f"concentration ({units.pop()})" if len(units) == 1 else "value (SI)"


def _shade_regions(ax: Any, ds: pv.DataSet, view: _View) -> None:
    """Shade every other region and write the region names along the top."""
    spans = _region_spans(ds)
    if len(spans) < 2:
        return
    for k, (r, x0, x1) in enumerate(sorted(spans, key=lambda s: s[1])):
        if k % 2:
            ax.axvspan(x0, x1, color="0.5", alpha=0.1, linewidth=0)
        name = view.region_names.get(r, f"region {r}")
        ax.text((x0 + x1) / 2, 0.98, name, transform=ax.get_xaxis_transform(), ha="center",
                va="top", color="0.35", fontsize="small")
