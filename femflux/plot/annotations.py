"""Text drawn over a picture: fonts, text actors, the colour bar with its
round tick labels and title, legends' text, and the time and warp labels.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .colors import _rgb
from .fields import field_unit

if TYPE_CHECKING:
    import pyvista as pv

    from .view import _View


def _font(window: tuple[int, int], size: float) -> int:
    """Font size in pixels for a design size at a 900-pixel-high window."""
    return max(8, round(size * min(window[1] / 900, window[0] / 1200)))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _bar_title(view: _View) -> str:
    """Colour-bar title: field, unit (with the factor taken out of the numbers)."""
    f = view.field
    label = f.label
    if view.exponent:
        factor = f"×10{str(view.exponent).translate(_SUPERSCRIPT)}"
        unit = field_unit(f.name)
        label = label[: -len(unit) - 2] + f"({factor} {unit})" if unit else f"{label} ({factor})"
    return label + ", log scale" if view.log else label


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    """A few round values inside [lo, hi] for the colour-bar labels."""
    from matplotlib.ticker import LogLocator, MaxNLocator

    if log:
        ticks = LogLocator(base=10, numticks=7).tick_values(lo, hi)
        inside = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
        if len(inside) < 2:
            ticks = LogLocator(base=10, subs=(1, 2, 5), numticks=7).tick_values(lo, hi)
    else:
        ticks = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    tol = 1e-9 * max(abs(lo), abs(hi))
    inside = [float(t) for t in ticks if lo - tol <= t <= hi + tol]
    return [0.0 if abs(t) <= tol else t for t in inside] or [lo, hi]


_BAR = (0.2, 0.075, 0.6, 0.035)  # colour bar x, y, width, height (fractions of the window)


def _scalar_bar_args(view: _View) -> dict:
    """The bare colour bar of VTK at the bottom; labels and title are drawn separately."""
    x, y, width, height = _BAR
    return {
        "title": view.field.label,
        "vertical": False,
        "position_x": x,
        "position_y": y,
        "width": width,
        "height": height,
        "n_labels": 0,
    }


def _bar_ticks(view: _View) -> list[tuple[float, str]]:
    """(position along the bar in [0, 1], text) of the colour-bar labels."""
    lo, hi = (v / view.scale for v in view.clim)
    if view.field.reduction == "region":
        ids = range(round(lo + 0.5), round(hi - 0.5) + 1)
        return [((i - lo) / (hi - lo), view.region_names.get(i, f"region {i}")) for i in ids]
    ticks = _ticks(lo, hi, view.log)
    if view.log:
        return [(math.log(t / lo) / math.log(hi / lo), _log_tick(t)) for t in ticks]
    return [((t - lo) / (hi - lo), f"{t:g}") for t in ticks]


def _log_tick(t: float) -> str:
    """A log-scale label: 0.01 ... 1000 as numbers, other powers of ten as 10⁻⁵."""
    exponent = round(math.log10(t))
    if 1e-2 <= t <= 1e3 or not math.isclose(t, 10.0**exponent):
        return f"{t:g}"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _style_scalar_bar(p: pv.Plotter, view: _View) -> None:
    """Tick marks and round labels below the colour bar, its title above it."""
    bar = p.scalar_bars[view.field.label]
    bar.SetTitle("")
    bar.SetBarRatio(1.0)
    w, h = view.window
    x, y, width, height = _BAR
    x0, x1, y0 = x * w, (x + width) * w - 4, y * h  # VTK keeps 4 pixels on the right
    size = _font(view.window, 19)
    marks = []
    for frac, text in _bar_ticks(view):
        xt = x0 + frac * (x1 - x0)
        marks.append((xt, y0))
        _add_text(p, text, xt, y0 - 1.45 * size, size, justify="center")
    _add_ticks(p, marks, 0.35 * size, 1.5 * max(1.0, h / 900))
    _add_text(p, _bar_title(view), 0.5 * w, (y + height) * h + 0.6 * size,
              _font(view.window, 22), justify="center")


def _add_ticks(p: pv.Plotter, marks: list[tuple[float, float]], length: float, width: float):
    """Short vertical lines hanging below pixel positions (x, y)."""
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor2D, vtkPolyDataMapper2D

    points, lines = vtkPoints(), vtkCellArray()
    for k, (xt, yt) in enumerate(marks):
        points.InsertNextPoint(xt, yt, 0)
        points.InsertNextPoint(xt, yt - length, 0)
        lines.InsertNextCell(2, (2 * k, 2 * k + 1))
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(lines)
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(0.15, 0.15, 0.15)
    actor.GetProperty().SetLineWidth(width)
    p.add_actor(actor, reset_camera=False, pickable=False)


def _font_file() -> str:
    """DejaVu Sans (shipped with matplotlib): Greek letters, superscripts, same as 1D plots."""
    from matplotlib import font_manager

    return font_manager.findfont("DejaVu Sans")


def _use_font(prop: Any, size: int, color: str) -> None:
    """Set a VTK text property to DejaVu Sans of ``size`` pixels in ``color``."""
    from vtkmodules.vtkCommonCore import VTK_FONT_FILE

    prop.SetFontFamily(VTK_FONT_FILE)
    prop.SetFontFile(_font_file())
    prop.SetFontSize(size)
    prop.SetColor(*_rgb(color))
    prop.SetBold(False)
    prop.SetItalic(False)
    prop.SetShadow(False)


def _add_text(p: pv.Plotter, text: str, x: float, y: float, size: int, color: str = "black",
              justify: str = "left") -> None:
    """Text whose baseline starts (or is centred, or ends) at pixel (x, y)."""
    from vtkmodules.vtkRenderingCore import vtkTextActor

    actor = vtkTextActor()
    actor.SetInput(text.replace("|", "\u2223"))  # VTK reads "|" as markup
    actor.SetPosition(x, y)
    prop = actor.GetTextProperty()
    _use_font(prop, size, color)
    {"left": prop.SetJustificationToLeft, "center": prop.SetJustificationToCentered,
     "right": prop.SetJustificationToRight}[justify]()
    p.add_actor(actor, reset_camera=False, pickable=False)


def _add_labels(p: pv.Plotter, view: _View, time: float | None) -> None:
    """Time in the upper left corner, the warp factor in the upper right one."""
    w, h = view.window
    size = _font(view.window, 22)
    if time is not None:
        _add_text(p, f"t = {time:.2e} s", 0.02 * w, h - 1.5 * size, size)
    if view.warp:
        text = "deformation to scale" if view.warp == 1 else f"deformation × {view.warp:g}"
        small = _font(view.window, 19)
        _add_text(p, text, 0.98 * w, h - 1.5 * small, small, "#444444", justify="right")
