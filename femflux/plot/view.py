"""What stays fixed across the frames of a picture or animation.

Owns the validated user options (``_Options``) and their resolution, over
all frames, into a ``_View``: dimension, field and 1D curves, colour range
and map, log scale, warp factor, clip plane or slices, contour levels, arrow
lattice and camera.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

from .arrows import _arrow_spacing
from .camera import _CAMERAS, _middle_axis, _size
from .colors import _CENTRED, _COLORMAPS, _region_colors
from .fields import _AXES, _default_field, _Field, _resolve_field, _species, _values
from .loading import _frame

if TYPE_CHECKING:
    import pyvista as pv

    from .loading import _Meta


@dataclass
class _Options:
    """The user's picture options, validated."""

    slice_axis: str | None = None
    clip: bool | None = None
    warp: float | bool | str | None = None
    contours: int | None = None
    log: bool = False
    camera: str = "iso"
    window: tuple[int, int] = (1200, 900)
    arrows: bool = True

    def __post_init__(self) -> None:
        if self.slice_axis is not None:
            self.slice_axis = str(self.slice_axis).lower()
            if self.slice_axis == "all":
                self.slice_axis = "xyz"
            if self.slice_axis not in ("x", "y", "z", "xyz"):
                raise CaseError(f"slice axis must be x, y, z or xyz, not {self.slice_axis!r}")
        if self.camera not in _CAMERAS:
            raise CaseError(f"camera must be one of iso, x, y, z, not {self.camera!r}")
        if self.contours is not None:
            if not isinstance(self.contours, int | np.integer) or self.contours < 0:
                raise CaseError(f"contours must be a whole number >= 0, not {self.contours!r}")
            if self.contours > MAX_CONTOURS:
                raise CaseError(f"contours must be at most {MAX_CONTOURS}, not {self.contours}")
        self.window = _window(self.window)
        if isinstance(self.warp, str) and self.warp != "auto":
            raise CaseError(f"warp must be a factor or 'auto', not {self.warp!r}")
        if isinstance(self.warp, int | float) and not isinstance(self.warp, bool):
            if not math.isfinite(self.warp) or self.warp < 0:
                raise CaseError(f"warp factor must be >= 0, not {self.warp!r}")


MAX_WINDOW = 8192  # pixels a side
MAX_CONTOURS = 1000


def _window(window: Any) -> tuple[int, int]:
    """(width, height) in pixels from a pair or a "WxH" string."""
    try:
        if isinstance(window, str):
            window = window.lower().split("x")
        w, h = (int(v) for v in window)
    except (TypeError, ValueError) as exc:
        raise CaseError(f"window must be WIDTHxHEIGHT in pixels, not {window!r}") from exc
    if w < 16 or h < 16:
        raise CaseError(f"window must be at least 16x16 pixels, not {w}x{h}")
    if w > MAX_WINDOW or h > MAX_WINDOW:
        raise CaseError(f"window must be at most {MAX_WINDOW}x{MAX_WINDOW} pixels, not {w}x{h}")
    return w, h


@dataclass
class _View:
    """Everything that stays fixed across the frames of a picture or animation."""

    dim: int
    field: _Field | None
    lines: list[_Field]
    twin: _Field | None
    clim: tuple[float, float]
    exponent: int
    twin_clim: tuple[float, float]
    cmap: str | list[str]
    log: bool
    warp: float
    bounds: tuple[float, ...]
    warp_pad: tuple[float, ...]  # largest warped displacement along x, y, z
    cut: tuple[int, float, float] | None  # axis, position, side removed (+1 or -1)
    slices: list[tuple[int, float]]
    contours: list[float]
    arrows: bool
    arrow_spacing: float
    arrow_factor: float
    camera: str
    window: tuple[int, int]
    region_names: dict[int, str]

    @property
    def scale(self) -> float:
        """Divisor of the numbers shown on the colour bar."""
        return 10.0**self.exponent


def _cell_dimension(cell_type: int) -> int:
    """Topological dimension of a VTK cell type."""
    try:
        from vtkmodules.vtkCommonDataModel import vtkCellTypeUtilities as cells
    except ImportError:  # VTK < 9.6
        from vtkmodules.vtkCommonDataModel import vtkCellTypes as cells
    return int(cells.GetDimension(int(cell_type)))


def _dimension(ds: pv.UnstructuredGrid) -> int:
    """1, 2 or 3: lines on the x axis, a flat map in the xy plane, or anything else."""
    dim = max((_cell_dimension(t) for t in np.unique(ds.celltypes)), default=3)
    extent = np.ptp(np.asarray(ds.points), axis=0)
    flat = extent <= 1e-9 * max(float(extent.max()), 1e-300)
    if dim == 1 and flat[1] and flat[2]:
        return 1
    if dim == 2 and flat[2]:
        return 2
    return 3


def _nice_factor(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``x``."""
    exponent = math.floor(math.log10(x))
    mantissa = x / 10**exponent
    step = 5 if mantissa >= 5 else 2 if mantissa >= 2 else 1
    return float(step * 10**exponent)


def _auto_warp(max_u: float, size: float) -> float:
    """Warp factor that makes the largest displacement about 10 % of the size."""
    if max_u <= 0:
        return 0.0
    factor = 0.1 * size / max_u
    return 1.0 if factor <= 1 else _nice_factor(factor)


def _range(values: np.ndarray, log: bool) -> tuple[float, float] | None:
    """Finite (and, with log, positive) min and max of ``values``."""
    v = values[np.isfinite(values)]
    if log:
        v = v[v > 0]
    return (float(v.min()), float(v.max())) if v.size else None


def _union(a: tuple[float, float] | None, b: tuple[float, float] | None):
    """Smallest interval holding both intervals (either may be None)."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _clim(rng: tuple[float, float] | None, log: bool, centred: bool) -> tuple[float, float]:
    """Colour range: the data range, symmetric about 0 for signed fields, never empty."""
    lo, hi = rng if rng is not None else (0.0, 1.0)
    if centred and lo < 0 < hi:
        lo, hi = -max(-lo, hi), max(-lo, hi)
    if hi <= lo:
        pad = abs(hi) * 0.01 or 1.0
        lo, hi = (hi / 1.1, hi * 1.1) if log else (lo - pad, hi + pad)
    return lo, hi


def _display_exponent(clim: tuple[float, float], log: bool) -> int:
    """Power of ten (a multiple of 3) taken out of the colour-bar numbers."""
    top = max(abs(clim[0]), abs(clim[1]))
    if log or top == 0 or 1e-2 <= top < 1e4:
        return 0
    return 3 * math.floor(math.log10(top) / 3)


def _lines_1d(ds: pv.DataSet, name: str | None, where: str) -> tuple[list[_Field], _Field | None]:
    """Curves of a 1D picture: the field, or every species with phi on a twin axis."""
    if name is not None:
        fields = [_resolve_field(ds, name, where)]
    else:
        species = _species(ds)
        default = _default_field(ds)
        fields = [_resolve_field(ds, n, where) for n in species or ([default] if default else [])]
        if species and "phi" in ds.point_data.keys():
            return fields, _resolve_field(ds, "phi", where)
    # in 1D a vector is its (signed) x component
    fields = [
        _Field(f.name, f.array, f.association, "component", 0) if f.reduction == "magnitude" else f
        for f in fields
    ]
    return fields, None


def _make_view(frames: Sequence[Any], meta: _Meta, name: str | None, opts: _Options) -> _View:
    """Resolve the field, colour range, warp, cut and camera over all frames.

    ``frames`` holds datasets or paths of VTK files; they are read one at a
    time so long series need not fit in memory.
    """
    first = _frame(frames[0])
    dim = _dimension(first)
    f, lines, twin = _pick_fields(first, dim, name, meta.name)
    log = bool(opts.log) and f is not None and f.reduction != "region"
    rng, twin_rng, max_u, u_extent = _scan(frames, first, lines, twin, log)
    if log and rng is None:
        raise CaseError(f"log scale needs positive values, and {f.name} has none")
    bounds = tuple(float(b) for b in first.bounds)
    size = _size(bounds)
    warp = _warp_factor(opts.warp, max_u, size, dim)
    kind = f.kind if f else "species"
    clim = _clim(rng, log, kind in _CENTRED)
    if kind == "region":
        n = int(max(rng[1] if rng else 0, *meta.region_names, 0)) + 1
        clim = (-0.5, n - 0.5)
    cut, slices = _cuts(dim, bounds, opts)
    spacing = _arrow_spacing(dim, bounds, cut, slices)
    arrows = bool(
        opts.arrows and f is not None and dim > 1 and f.reduction == "magnitude"
        and not (f.array == "u" and warp)
    )
    return _View(
        dim=dim,
        field=f,
        lines=lines,
        twin=twin,
        clim=clim,
        exponent=_display_exponent(clim, log),
        twin_clim=_clim(twin_rng, False, True),
        cmap=_region_colors(round(clim[1] + 0.5)) if kind == "region" else _COLORMAPS[kind],
        log=log,
        warp=warp,
        bounds=bounds,
        warp_pad=tuple(warp * u_extent),
        cut=cut,
        slices=slices,
        contours=_levels(opts.contours, kind, clim, log),
        arrows=arrows,
        arrow_spacing=spacing,
        arrow_factor=0.9 * spacing / clim[1] if arrows and clim[1] > 0 else 0.0,
        camera=opts.camera if dim == 3 else "z",
        window=opts.window,
        region_names=meta.region_names,
    )


def _pick_fields(ds: pv.UnstructuredGrid, dim: int, name: str | None, where: str):
    """(coloured field, curves of a 1D graph, curve on its second axis)."""
    if dim == 1:
        lines, twin = _lines_1d(ds, name, where)
        return (lines[0] if lines else None), lines, twin
    name = name if name is not None else _default_field(ds)
    f = _resolve_field(ds, name, where) if name is not None else None
    return f, ([f] if f else []), None


def _scan(frames: Sequence[Any], first: pv.UnstructuredGrid, lines: list[_Field],
          twin: _Field | None, log: bool):
    """Ranges over all frames: of the curves/field, of the twin curve, of |u| and of
    each component of u."""
    rng = twin_rng = None
    max_u, u_extent = 0.0, np.zeros(3)
    for item in frames:
        ds = first if item is frames[0] else _frame(item)
        for g in lines:
            rng = _union(rng, _range(_values(ds, g), log))
        if twin is not None:
            twin_rng = _union(twin_rng, _range(_values(ds, twin), False))
        if "u" in ds.point_data.keys():
            u = np.nan_to_num(np.asarray(ds.point_data["u"], dtype=float).reshape(ds.n_points, -1))
            max_u = max(max_u, float(np.linalg.norm(u, axis=1).max(initial=0.0)))
            u_extent[: u.shape[1]] = np.maximum(u_extent[: u.shape[1]], np.abs(u).max(axis=0))
    return rng, twin_rng, max_u, u_extent


def _warp_factor(warp: Any, max_u: float, size: float, dim: int) -> float:
    """The displacement scale: auto when ``u`` exists and warp is None or True."""
    if dim == 1 or max_u <= 0 or warp is False:
        return 0.0
    if warp is None or warp is True or warp == "auto":
        return _auto_warp(max_u, size)
    return float(warp)


def _cuts(dim: int, bounds: tuple[float, ...], opts: _Options):
    """Clip plane (axis, position) and slice planes of a 3D picture."""
    if dim != 3:
        return None, []
    centre = [(bounds[2 * i] + bounds[2 * i + 1]) / 2 for i in range(3)]
    if opts.slice_axis:
        return None, [(_AXES.index(a), centre[_AXES.index(a)]) for a in opts.slice_axis]
    if opts.clip is False:
        return None, []
    axis = _middle_axis(bounds) if opts.camera == "iso" else _AXES.index(opts.camera)
    side = 1.0 if _CAMERAS[opts.camera][0][axis] >= 0 else -1.0  # the half facing the camera
    return (axis, centre[axis], side), []


def _levels(n: int | None, kind: str, clim: tuple[float, float], log: bool) -> list[float]:
    """Contour values: ``n`` levels inside the colour range (10 for phi by default)."""
    if n is None:
        n = 10 if kind == "phi" else 0
    if n <= 0 or kind == "region":
        return []
    lo, hi = clim
    if log:
        return list(np.geomspace(lo, hi, n + 2)[1:-1])
    return list(np.linspace(lo, hi, n + 2)[1:-1])
