"""Pictures and animations of femflux results and meshes.

Public functions
----------------
- :func:`plot_result` -- a picture of a results folder, a ``.vtu`` file or a
  PyVista dataset (PyVista for 2D and 3D, matplotlib for 1D).
- :func:`plot_mesh` -- the named boundaries and regions of a mesh, one colour
  each, so that users can check their tags.
- :func:`animate` -- a GIF (or MP4) of a transient series.
- :func:`to_pyvista` -- a scikit-fem mesh (or :class:`femflux.mesh.FemMesh`)
  with point and cell data as a :class:`pyvista.UnstructuredGrid`.
- :func:`field_unit` -- the SI unit of a result field.
- :func:`tag_colors` -- the colours :func:`plot_mesh` gives to each tag.

PyVista, VTK and matplotlib are imported inside the functions so that
``import femflux`` stays fast.  Pictures are rendered off-screen whenever a
file is written or no display is available.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

if TYPE_CHECKING:
    import pyvista as pv
    from matplotlib.figure import Figure

__all__ = ["animate", "field_unit", "plot_mesh", "plot_result", "tag_colors", "to_pyvista"]

# File extensions read as results by plot_result; anything else is a mesh file.
_RESULT_EXTENSIONS = {".vtu", ".vtk", ".vtp", ".vts", ".vtr", ".vti", ".pvtu", ".pvd"}
_AXES = "xyz"
_TENSOR_SUFFIX = {a + b: 3 * i + j for i, a in enumerate(_AXES) for j, b in enumerate(_AXES)}
_INTERNAL = {"vtkOriginalPointIds", "vtkOriginalCellIds", "vtkGhostType", "vtkValidPointMask"}
_SCALAR = "femflux_scalar"  # the array a picture is coloured by
_COLORMAPS = {
    "species": "viridis",
    "mu": "cividis",
    "flux": "viridis",
    "displacement": "viridis",
    "phi": "coolwarm",
    "signed": "RdBu_r",
    "stress": "plasma",
}
_CENTRED = {"phi", "signed"}  # diverging maps, centred on 0 when the range spans 0
_CAMERAS = {
    # direction from the focal point to the camera, view-up
    "iso": ((1.0, 1.0, 1.0), (0.0, 0.0, 1.0)),
    "x": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "y": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "z": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "back": ((-1.0, -1.0, -1.0), (0.0, 0.0, 1.0)),
}
_ARROWS_PER_PICTURE = 300
_BAR_BOTTOM = 0.17  # fraction of the window height kept for the colour bar
_TOP_MARGIN = 0.07  # fraction kept for the time label
_VTK_CELL_TYPES = {(1, 2): 3, (2, 3): 5, (2, 4): 9, (3, 4): 10, (3, 8): 12, (3, 6): 13}
_SKFEM_TO_VTK_HEX = [0, 3, 6, 2, 1, 5, 7, 4]


# --------------------------------------------------------------------------- fields


def field_unit(name: str) -> str:
    """SI unit of the result field ``name`` (section 3 of the spec).

    Species are concentrations (mol/m³); ``phi`` is in V, ``u`` in m, stresses
    in Pa, ``mu_*`` in J/mol, fluxes ``J_*`` in mol/(m² s) and ``region`` has
    no unit.  Component names (``u_x``, ``sigma_xy``) have the unit of their field.
    """
    base, _, suffix = name.rpartition("_")
    if name == "phi":
        return "V"
    if name == "u" or (base == "u" and suffix in _AXES):
        return "m"
    if name in ("sigma", "sigma_h", "von_mises") or (base == "sigma" and suffix in _TENSOR_SUFFIX):
        return "Pa"
    if name.startswith("mu_"):
        return "J/mol"
    if name.startswith("J_"):
        return "mol/(m² s)"
    if name == "region":
        return ""
    return "mol/m³"


def _kind(array: str) -> str:
    """Category of a result array, which sets its colour map."""
    if array == "phi":
        return "phi"
    if array == "u":
        return "displacement"
    if array in ("sigma", "von_mises"):
        return "stress"
    if array == "sigma_h":
        return "signed"
    if array.startswith("mu_"):
        return "mu"
    if array.startswith("J_"):
        return "flux"
    if array == "region":
        return "region"
    return "species"


@dataclass(frozen=True)
class _Field:
    """A plottable quantity: one array of the dataset reduced to a scalar.

    ``reduction`` is ``scalar``, ``magnitude`` (vectors), ``von_mises``
    (tensors), ``component`` (``u_x``, ``sigma_xy``) or ``region``.
    """

    name: str
    array: str
    association: str
    reduction: str
    component: int = 0

    @property
    def kind(self) -> str:
        return "signed" if self.reduction == "component" else _kind(self.array)

    @property
    def label(self) -> str:
        """Colour-bar title: the field name and its SI unit."""
        shown = f"|{self.name}|" if self.reduction == "magnitude" else self.name
        if self.reduction == "von_mises":
            shown = f"von Mises ({self.name})"
        unit = field_unit(self.name)
        return f"{shown} ({unit})" if unit else shown


def _ncomp(array: np.ndarray) -> int:
    return 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))


def _available(ds: pv.DataSet) -> list[str]:
    """Names of the point and cell arrays of ``ds`` a user may ask for."""
    names = [*ds.point_data.keys(), *ds.cell_data.keys()]
    return [n for n in dict.fromkeys(names) if n not in _INTERNAL and n != _SCALAR]


def _resolve_field(ds: pv.DataSet, name: str, where: str) -> _Field:
    """The field ``name`` of ``ds``; CaseError listing the available ones if absent."""
    for association, data in (("point", ds.point_data), ("cell", ds.cell_data)):
        if name in data.keys() and name not in _INTERNAL:
            ncomp = _ncomp(np.asarray(data[name]))
            reduction = {1: "scalar", 9: "von_mises"}.get(ncomp, "magnitude")
            if name == "region":
                reduction = "region"
            return _Field(name, name, association, reduction)
    base, _, suffix = name.rpartition("_")
    for association, data in (("point", ds.point_data), ("cell", ds.cell_data)):
        if base and base in data.keys():
            ncomp = _ncomp(np.asarray(data[base]))
            if ncomp == 9 and suffix in _TENSOR_SUFFIX:
                return _Field(name, base, association, "component", _TENSOR_SUFFIX[suffix])
            if ncomp in (2, 3) and suffix in _AXES[:ncomp]:
                return _Field(name, base, association, "component", _AXES.index(suffix))
    available = ", ".join(_available(ds)) or "none"
    raise CaseError(f"field {name!r} not in {where}; available: {available}")


def _species(ds: pv.DataSet) -> list[str]:
    """Concentration arrays of ``ds`` (scalar point arrays named after a species)."""
    return [
        name
        for name in ds.point_data.keys()
        if name not in _INTERNAL
        and name != _SCALAR
        and _kind(name) == "species"
        and _ncomp(np.asarray(ds.point_data[name])) == 1
    ]


def _default_field(ds: pv.DataSet) -> str | None:
    """What a scientist looks at first: the first species, else phi, von Mises, ..."""
    species = _species(ds)
    if species:
        return species[0]
    for name in ("phi", "von_mises", "u"):
        if name in ds.point_data.keys():
            return name
    available = _available(ds)
    return available[0] if available else None


def _values(ds: pv.DataSet, f: _Field) -> np.ndarray:
    """The scalar values of field ``f`` on the points or cells of ``ds``."""
    data = ds.point_data if f.association == "point" else ds.cell_data
    a = np.asarray(data[f.array], dtype=float)
    n = a.shape[0]
    if f.reduction in ("scalar", "region"):
        return a.reshape(n)
    a = a.reshape(n, -1)
    if f.reduction == "magnitude":
        return np.linalg.norm(a, axis=1)
    if f.reduction == "component":
        return a[:, f.component]
    s = a.reshape(n, 3, 3)
    dev = s - np.einsum("nii->n", s)[:, None, None] / 3.0 * np.eye(3)
    return np.sqrt(1.5 * np.einsum("nij,nij->n", dev, dev))


# --------------------------------------------------------------------------- loading


@dataclass
class _Meta:
    """What a picture needs besides the dataset: its name, region names and time."""

    name: str = "the dataset"
    region_names: dict[int, str] = dataclasses.field(default_factory=dict)
    model: str | None = None
    time: float | None = None


def _meta(summary: dict, name: str, time: float | None = None) -> _Meta:
    """Picture metadata from a summary.json dictionary."""
    names = summary.get("region_names") or {}
    if isinstance(names, list):
        names = dict(enumerate(names))
    try:
        region_names = {int(k): str(v) for k, v in names.items()}
    except (AttributeError, TypeError, ValueError):
        region_names = {}
    return _Meta(name, region_names, summary.get("model"), time)


def _read_summary(folder: Path) -> dict:
    """summary.json of a results folder, or {} when there is none."""
    path = folder / "summary.json"
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot read ({exc})") from exc
    return summary if isinstance(summary, dict) else {}


def _as_grid(ds: Any) -> pv.UnstructuredGrid:
    """Any PyVista dataset as an UnstructuredGrid (multi-blocks are merged)."""
    import pyvista as pv

    if isinstance(ds, pv.MultiBlock):
        ds = ds.combine()
    if not isinstance(ds, pv.UnstructuredGrid):
        ds = ds.cast_to_unstructured_grid()
    return ds


def _read_grid(path: Path) -> pv.UnstructuredGrid:
    """Read a VTK file; CaseError naming the file if that fails."""
    import pyvista as pv

    if not path.is_file():
        raise CaseError(f"{path}: no such file")
    try:
        ds = pv.read(path)
    except Exception as exc:  # VTK and meshio raise anything
        raise CaseError(f"{path}: cannot read ({exc})") from exc
    grid = _as_grid(ds)
    if grid.n_points == 0:
        raise CaseError(f"{path}: the file holds no points")
    return grid


def _read_pvd(pvd: Path) -> list[tuple[float | None, Path]]:
    """(time, file) of every data set of a ParaView collection, in time order."""
    try:
        root = ET.parse(pvd).getroot()
    except (OSError, ET.ParseError) as exc:
        raise CaseError(f"{pvd}: cannot read ({exc})") from exc
    frames = []
    for entry in root.iter("DataSet"):
        if entry.get("file"):
            t = entry.get("timestep")
            frames.append((float(t) if t is not None else None, pvd.parent / entry.get("file")))
    return sorted(frames, key=lambda f: -math.inf if f[0] is None else f[0])


def _step_time(path: Path) -> float | None:
    """Time of a step_NNNNN.vtu from the series.pvd next to it."""
    pvd = path.parent / "series.pvd"
    if not path.name.startswith("step_") or not pvd.is_file():
        return None
    for t, file in _read_pvd(pvd):
        if file.name == path.name:
            return t
    return None


def _load_result(source: Any, summary: dict | None = None) -> tuple[pv.UnstructuredGrid, _Meta]:
    """The dataset and metadata of a results folder, VTK file or PyVista dataset."""
    import pyvista as pv

    if isinstance(source, pv.DataSet | pv.MultiBlock):
        return _as_grid(source), _meta(summary or {}, "the dataset")
    path = Path(source)
    if path.is_dir():
        solution = path / "solution.vtu"
        if not solution.is_file():
            raise CaseError(f"{path}: not a femflux results folder (no solution.vtu)")
        summary = summary or _read_summary(path)
        time = summary.get("time") if summary.get("steady") is False else None
        return _read_grid(solution), _meta(summary, "solution.vtu", time)
    if not path.exists():
        raise CaseError(f"{path}: no such file or results folder")
    summary = summary or _read_summary(path.parent)
    if path.suffix.lower() == ".pvd":  # a series: its last frame
        time, last = _series(path)[-1]
        return _read_grid(last), _meta(summary, last.name, time)
    time = _step_time(path)
    if time is None and path.name == "solution.vtu" and summary.get("steady") is False:
        time = summary.get("time")
    return _read_grid(path), _meta(summary, path.name, time)


def _series(directory: str | Path) -> list[tuple[float | None, Path]]:
    """(time, file) of every frame of a transient results folder."""
    path = Path(directory)
    if path.is_file() and path.suffix == ".pvd":
        pvd, folder = path, path.parent
    elif path.is_dir():
        pvd, folder = path / "series.pvd", path
    else:
        raise CaseError(f"{path}: no such results folder")
    if pvd.is_file():
        frames = _read_pvd(pvd)
    else:
        frames = [(None, f) for f in sorted(folder.glob("step_*.vtu"))]
    if not frames:
        raise CaseError(f"{folder}: no series.pvd or step_*.vtu (not a transient results folder)")
    for _, file in frames:
        if not file.is_file():
            raise CaseError(f"{pvd}: frame {file.name} is missing")
    return frames


# --------------------------------------------------------------------------- geometry


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


def _size(bounds: Sequence[float]) -> float:
    """Largest extent of a bounding box (xmin, xmax, ymin, ymax, zmin, zmax)."""
    return max(float(np.max(np.asarray(bounds[1::2]) - np.asarray(bounds[::2]))), 1e-300)


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


def _middle_axis(bounds: Sequence[float]) -> int:
    """Axis of middle extent: the cut normal to it contains the longest axis."""
    extent = np.asarray(bounds[1::2]) - np.asarray(bounds[::2])
    return int(np.argsort(extent, kind="stable")[1])


# --------------------------------------------------------------------------- options


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
        self.window = _window(self.window)
        if isinstance(self.warp, str) and self.warp != "auto":
            raise CaseError(f"warp must be a factor or 'auto', not {self.warp!r}")
        if isinstance(self.warp, int | float) and not isinstance(self.warp, bool):
            if not math.isfinite(self.warp) or self.warp < 0:
                raise CaseError(f"warp factor must be >= 0, not {self.warp!r}")


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


def _frame(item: Any) -> pv.UnstructuredGrid:
    """A frame: a dataset as it is, a path read from disk."""
    return _read_grid(Path(item)) if isinstance(item, str | Path) else _as_grid(item)


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


# --------------------------------------------------------------------------- arrows


def _plane_axes(dim: int, cut_axis: int | None) -> tuple[int, ...]:
    """Axes spanned by an arrow lattice: the plane of a 2D map or cut, or all three."""
    if dim == 2:
        return (0, 1)
    if cut_axis is None:
        return (0, 1, 2)
    return tuple(a for a in range(3) if a != cut_axis)


def _arrow_spacing(dim, bounds, cut, slices) -> float:
    """Lattice spacing giving about a few hundred arrows."""
    if dim == 1:
        return 0.0
    cut_axis = cut[0] if cut else slices[0][0] if slices else None
    axes = _plane_axes(dim, cut_axis)
    extent = [max(bounds[2 * a + 1] - bounds[2 * a], 1e-12 * _size(bounds)) for a in axes]
    n = _ARROWS_PER_PICTURE / (len(slices) if slices else 1)
    return float(np.prod(extent) / n) ** (1.0 / len(axes))


def _lattice(bounds, axes: tuple[int, ...], h: float, fixed: dict[int, float]) -> np.ndarray:
    """Points of a square lattice of spacing ``h`` centred in ``bounds`` along ``axes``."""
    coords = []
    for a in range(3):
        if a in axes:
            lo, hi = bounds[2 * a], bounds[2 * a + 1]
            n = max(1, int((hi - lo) / h))
            start = lo + (hi - lo - (n - 1) * h) / 2
            coords.append(start + h * np.arange(n))
        else:
            coords.append(np.array([fixed.get(a, bounds[2 * a])]))
    grid = np.meshgrid(*coords, indexing="ij")
    return np.column_stack([g.ravel() for g in grid])


def _arrow_points(view: _View) -> list[tuple[np.ndarray, int, float]]:
    """Sample points of the arrows, the normal axis of their plane and the side of the
    plane the arrows are drawn on (+1, -1, or 0 for centred on the plane)."""
    b, h = view.bounds, view.arrow_spacing
    if view.dim == 2:
        return [(_lattice(b, (0, 1), h, {}), 2, 0.0)]
    if view.slices:
        return [(_lattice(b, _plane_axes(3, a), h, {a: pos}), a, 0.0) for a, pos in view.slices]
    if view.cut:
        a, pos, side = view.cut
        inside = pos - side * 1e-6 * _size(b)
        return [(_lattice(b, _plane_axes(3, a), h, {a: inside}), a, side)]
    return [(_lattice(b, (0, 1, 2), h, {}), 0, 0.0)]


def _arrow_glyphs(ds: pv.DataSet, view: _View) -> pv.PolyData | None:
    """Arrows of the vector field sampled on a lattice, scaled by magnitude."""
    import pyvista as pv

    f = view.field
    parts = []
    for points, normal, side in _arrow_points(view):
        probe = pv.PolyData(points).sample(ds)
        valid = np.asarray(probe["vtkValidPointMask"]).astype(bool)
        vec = np.asarray(probe[f.array], dtype=float).reshape(len(points), -1)[valid]
        vec = np.pad(vec, ((0, 0), (0, 3 - vec.shape[1])))
        pos = points[valid]
        if view.warp and "u" in probe.point_data.keys():
            pos = pos + view.warp * np.asarray(probe["u"], dtype=float)[valid]
        # on a cut face, the whole arrow sits on the side the camera sees
        pos[:, normal] += side * (np.abs(vec[:, normal]) * view.arrow_factor / 2
                                  + 0.06 * view.arrow_spacing)
        mag = np.linalg.norm(vec, axis=1)
        keep = mag > 0.02 * view.clim[1]
        if keep.any():
            cloud = pv.PolyData(pos[keep])
            cloud["vec"], cloud["mag"] = vec[keep], mag[keep]
            parts.append(cloud)
    if not parts:
        return None
    arrow = pv.Arrow(start=(-0.5, 0, 0), tip_length=0.3, tip_radius=0.12, shaft_radius=0.045)
    cloud = parts[0].merge(parts[1:]) if len(parts) > 1 else parts[0]
    return cloud.glyph(orient="vec", scale="mag", factor=view.arrow_factor, geom=arrow)


# --------------------------------------------------------------------------- drawing


def _font(window: tuple[int, int], size: float) -> int:
    """Font size in pixels for a design size at a 900-pixel-high window."""
    return max(8, round(size * min(window[1] / 900, window[0] / 1200)))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _display_exponent(clim: tuple[float, float], log: bool) -> int:
    """Power of ten (a multiple of 3) taken out of the colour-bar numbers."""
    top = max(abs(clim[0]), abs(clim[1]))
    if log or top == 0 or 1e-2 <= top < 1e4:
        return 0
    return 3 * math.floor(math.log10(top) / 3)


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


def _off_screen(out: Any) -> bool:
    """Render off-screen when writing a file or when there is no display."""
    import pyvista as pv

    if out is not None or pv.OFF_SCREEN:
        return True
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.platform.startswith("linux") and no_display


def _new_plotter(window: tuple[int, int], off_screen: bool, shape=(1, 1)) -> pv.Plotter:
    """A white, anti-aliased plotter of the given pixel size."""
    import pyvista as pv

    if off_screen and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        from vtkmodules.vtkCommonCore import vtkLogger

        # VTK warns about the missing X server before falling back to EGL/OSMesa
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)
    p = pv.Plotter(off_screen=off_screen, window_size=list(window), shape=shape, border=False)
    p.set_background("white", all_renderers=True)
    p.enable_anti_aliasing("msaa", multi_samples=8)
    from vtkmodules.vtkRenderingCore import vtkMapper

    vtkMapper.SetResolveCoincidentTopologyToPolygonOffset()  # lines drawn on surfaces show
    return p


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


def _attach_scalar(ds: pv.UnstructuredGrid, view: _View) -> pv.UnstructuredGrid:
    """A shallow copy of ``ds`` holding the coloured values as ``_SCALAR``."""
    ds = ds.copy(deep=False)
    if view.field is None:
        return ds
    values = _values(ds, view.field) / view.scale
    if view.log:
        values = np.maximum(values, view.clim[0])
    if view.field.association == "point":
        ds.point_data[_SCALAR] = values
    elif view.field.reduction == "region":
        ds.cell_data[_SCALAR] = values
    else:  # cell values averaged to the points: a smooth picture
        ds.point_data[_SCALAR] = _cell_to_point(ds, values)
    return ds


def _cell_to_point(ds: pv.UnstructuredGrid, values: np.ndarray) -> np.ndarray:
    """Point values: the average of the values of the cells around each point."""
    import pyvista as pv

    carrier = pv.UnstructuredGrid(ds.cells, ds.celltypes, ds.points)
    carrier.cell_data["v"] = values
    return np.asarray(carrier.cell_data_to_point_data().point_data["v"])


def _pieces(ds: pv.UnstructuredGrid, view: _View) -> list[pv.PolyData]:
    """Surfaces to draw: the domain, its clipped half or its slices (warped if asked)."""
    if view.slices:
        normals = np.eye(3)
        centre = [(view.bounds[2 * i] + view.bounds[2 * i + 1]) / 2 for i in range(3)]
        pieces = []
        for axis, pos in view.slices:
            origin = list(centre)
            origin[axis] = pos
            pieces.append(ds.slice(normal=normals[axis], origin=origin))
    elif view.cut:
        axis, pos, side = view.cut
        origin = [(view.bounds[2 * i] + view.bounds[2 * i + 1]) / 2 for i in range(3)]
        origin[axis] = pos
        pieces = [_surface(ds.clip(normal=side * np.eye(3)[axis], origin=origin))]
    else:
        pieces = [_surface(ds)]
    pieces = [p for p in pieces if p.n_cells]
    if view.warp and "u" in ds.point_data.keys():
        pieces = [p.warp_by_vector("u", factor=view.warp) for p in pieces]
    return pieces


def _surface(ds: pv.DataSet) -> pv.PolyData:
    """Outer surface of a dataset (the dataset itself for surfaces)."""
    try:
        return ds.extract_surface(algorithm="dataset_surface")
    except TypeError:  # PyVista < 0.47
        return ds.extract_surface()


def _lift(poly: pv.PolyData, view: _View, height: float = 2e-3) -> pv.PolyData:
    """Lines moved slightly towards the camera so that they stay visible on the surfaces
    they lie on (with a parallel projection this changes depth only)."""
    back = np.asarray(_CAMERAS[view.camera][0], dtype=float)
    back *= height * _size(view.bounds) / np.linalg.norm(back)
    return poly.translate(tuple(back), inplace=False)


def _region_edges(surface: pv.PolyData) -> pv.PolyData | None:
    """Lines where regions meet on a surface (and the border of a flat surface)."""
    if surface.n_cells == 0:
        return None
    if "region" in surface.cell_data.keys():
        region = np.asarray(surface.cell_data["region"])
        patches = [_surface(surface.extract_cells(region == r)) for r in np.unique(region)]
    else:
        patches = [surface]
    edges = [
        patch.extract_feature_edges(
            boundary_edges=True, feature_edges=False, manifold_edges=False,
            non_manifold_edges=False, clear_data=True,
        )
        for patch in patches
    ]
    edges = [e for e in edges if e.n_cells]
    if not edges:
        return None
    return edges[0].merge(edges[1:]) if len(edges) > 1 else edges[0]


def _add_field(p: pv.Plotter, piece: pv.PolyData, view: _View, bar: bool) -> None:
    """Colour one surface by the field (or light grey when there is none)."""
    flat = view.dim == 2
    shading = {"lighting": not flat, "ambient": 0.35, "diffuse": 0.65, "specular": 0.0}
    f = view.field
    if f is None:
        p.add_mesh(piece, color="#d9d9d9", show_edges=True, edge_color="#7f7f7f", **shading)
        return
    kwargs = {
        "scalars": _SCALAR,
        "preference": "cell" if f.reduction == "region" else "point",
        "cmap": view.cmap,
        "clim": tuple(v / view.scale for v in view.clim),
        "log_scale": view.log,
        "show_scalar_bar": bar,
        "scalar_bar_args": _scalar_bar_args(view),
        "interpolate_before_map": True,
    }
    if f.reduction == "region":
        kwargs |= {"n_colors": len(view.cmap), "interpolate_before_map": False}
    if view.arrows and view.dim == 3 and not (view.cut or view.slices):
        kwargs["opacity"] = 0.35  # the arrows inside the body show through
    p.add_mesh(piece, **kwargs, **shading)
    if bar:
        _style_scalar_bar(p, view)


def _add_lines(p: pv.Plotter, lines: pv.PolyData | None, view: _View, *, halo: bool = False,
               **kwargs) -> None:
    """Draw a set of lines (region outlines, contours) if there are any; with ``halo``
    over a wider white line so that they show on dark and light colours alike."""
    if lines is None or not lines.n_cells:
        return
    if halo:
        width = 3 * kwargs.get("line_width", 1.0)
        p.add_mesh(_lift(lines, view), lighting=False, color="white", opacity=0.5,
                   line_width=width)
    p.add_mesh(_lift(lines, view, 4e-3 if halo else 2e-3), lighting=False, **kwargs)


def _contour_lines(piece: pv.PolyData, view: _View) -> pv.PolyData | None:
    """Iso-lines of the coloured field on a surface."""
    if not view.contours or view.field is None:
        return None
    levels = [v / view.scale for v in view.contours]
    return piece.contour(isosurfaces=levels, scalars=_SCALAR)


def _add_reference(p: pv.Plotter, ds: pv.UnstructuredGrid, view: _View) -> None:
    """Thin context lines: the bounding box in 3D, the undeformed shape when warped."""
    lw = max(1.0, view.window[1] / 900)
    if view.dim == 3:
        p.add_mesh(ds.outline(), color="#9a9a9a", line_width=lw, lighting=False)
    elif view.warp:
        _add_lines(p, _region_edges(_surface(ds)), view, color="#9a9a9a", line_width=lw)


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


def _camera_bounds(view: _View) -> list[float]:
    """The undeformed bounds grown by the largest warped displacement."""
    pad = np.repeat(view.warp_pad, 2) * np.tile([-1.0, 1.0], 3)
    return list(np.asarray(view.bounds) + pad)


def _fit(p: pv.Plotter, bounds, camera: str, *, bottom=0.0, top=0.0, right=0.0,
         size_px: tuple[int, int] | None = None) -> None:
    """Parallel-projection camera looking from ``camera`` (iso, x, y, z, back) that fits
    the box ``bounds`` into the viewport (``size_px``, default the window) less its
    ``bottom``, ``top`` and ``right`` fractions."""
    direction, up = _CAMERAS[camera]
    back = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    v_up = np.asarray(up, dtype=float) - np.dot(up, back) * back
    v_up /= np.linalg.norm(v_up)
    v_right = np.cross(v_up, back)
    corners = np.array([[bounds[i], bounds[2 + j], bounds[4 + k]]
                        for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    size = _size(bounds)
    u, v = corners @ v_right, corners @ v_up
    width, height = max(np.ptp(u), 1e-9 * size), max(np.ptp(v), 1e-9 * size)
    w_px, h_px = size_px or p.window_size
    margin = 0.05
    free_w = w_px * (1 - right) * (1 - 2 * margin)
    free_h = h_px * (1 - bottom - top) * (1 - 2 * margin)
    scale = max(width / free_w, height / free_h)  # metres per pixel
    # put the picture's centre at the centre of the free area
    du = (w_px * (1 - right) / 2 - w_px / 2) * scale
    dv = (h_px * (bottom + (1 - bottom - top) / 2) - h_px / 2) * scale
    centre = corners.mean(axis=0)
    shift = v_right * ((u.max() + u.min()) / 2 - centre @ v_right - du)
    shift += v_up * ((v.max() + v.min()) / 2 - centre @ v_up - dv)
    focal = centre + shift
    p.enable_parallel_projection()
    p.camera_position = [tuple(focal + back * 4 * size), tuple(focal), tuple(v_up)]
    p.camera.parallel_scale = scale * h_px / 2
    p.renderer.ResetCameraClippingRange()


def _set_camera(p: pv.Plotter, view: _View) -> None:
    """Camera of a result picture, fixed by the undeformed bounds."""
    bottom = _BAR_BOTTOM if view.field else 0.0
    _fit(p, _camera_bounds(view), view.camera, bottom=bottom, top=_TOP_MARGIN)


def _draw(p: pv.Plotter, ds: pv.UnstructuredGrid, view: _View, time: float | None) -> None:
    """Draw one frame of a 2D or 3D result into ``p``."""
    ds = _attach_scalar(ds, view)
    lw = max(1.0, view.window[1] / 900)
    for i, piece in enumerate(_pieces(ds, view)):
        _add_field(p, piece, view, bar=i == 0)
        _add_lines(p, _region_edges(piece), view, color="#222222", line_width=lw)
        _add_lines(p, _contour_lines(piece, view), view, color="#1a1a1a", line_width=1.3 * lw,
                   halo=True)
    if view.arrows:
        glyphs = _arrow_glyphs(ds, view)
        if glyphs is not None:
            p.add_mesh(_lift(glyphs, view), color="black", lighting=view.dim == 3)
    _add_reference(p, ds, view)
    _add_labels(p, view, time)
    _set_camera(p, view)


# --------------------------------------------------------------------------- 1D


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


def _figure_pixels(fig: Figure) -> np.ndarray:
    """RGB pixels of a matplotlib figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


# --------------------------------------------------------------------------- public


def plot_result(
    source: Any,
    field: str | None = None,
    out: str | Path | None = None,
    *,
    slice_axis: str | None = None,
    clip: bool | None = None,
    warp: float | bool | str | None = None,
    contours: int | None = None,
    log: bool = False,
    camera: str = "iso",
    window: tuple[int, int] = (1200, 900),
    arrows: bool = True,
    summary: dict | None = None,
) -> pv.Plotter | Figure:
    """Picture of a femflux result.

    Parameters
    ----------
    source
        A results folder (its ``solution.vtu``; ``summary.json`` gives region
        names and time), a ``.vtu``/``.vtk`` file (a ``step_NNNNN.vtu`` gets its
        time from ``series.pvd``), a ``.pvd`` series (its last frame), a PyVista
        dataset, or a mesh file / :class:`~femflux.mesh.FemMesh` / scikit-fem
        mesh (then :func:`plot_mesh` draws its tags).
    field
        Array to show; default the first species (else ``phi``, ``von_mises``,
        ...).  Vectors (``u``, ``J_*``) are coloured by magnitude, the stress
        tensor ``sigma`` by von Mises; components are ``u_x``, ``J_K_y``,
        ``sigma_xy``.  ``region`` colours the regions by name.
    out
        PNG written at exactly ``window`` pixels (rendering is off-screen).
    slice_axis
        3D only: ``"x"``, ``"y"``, ``"z"`` (one slice through the centre) or
        ``"xyz"`` (three orthogonal slices).
    clip
        3D only: cut half of the body away (along a plane containing the
        longest axis, facing the camera) so the inside shows.  ``None`` (the
        default) clips unless slices are asked for; ``False`` shows the
        whole outer surface.
    warp
        Deformation scale when ``u`` exists: ``None``/``True``/``"auto"`` make
        the largest displacement 10 % of the size (a 1-2-5 factor, written in
        the picture), a number is the factor, ``0``/``False`` switch it off.
    contours
        Number of iso-lines drawn on the coloured surfaces (``phi`` gets 10 by
        default, other fields none).
    log
        Logarithmic colour scale (non-positive values are clipped).
    camera
        ``"iso"``, ``"x"``, ``"y"`` or ``"z"`` (the direction the camera looks
        from).  2D results are always flat maps seen from +z.
    window
        Picture size in pixels (width, height).
    arrows
        Draw the arrows of flux fields ``J_*`` (in-plane part on cuts and slices).
    summary
        summary.json contents, for region names and time when ``source`` is a
        dataset.

    Returns
    -------
    pyvista.Plotter | matplotlib.figure.Figure
        The plotter (still open: call ``show()`` or ``close()``) for 2D and
        3D results; a matplotlib Figure for 1D results (line graphs against
        x in m, all species together with ``phi`` on a second axis by default).

    Raises
    ------
    CaseError
        Missing path, unreadable file, absent field or bad option.
    """
    if _is_mesh_source(source):
        return plot_mesh(source, out=out, window=window)
    opts = _Options(slice_axis, clip, warp, contours, log, camera, window, arrows)
    ds, meta = _load_result(source, summary)
    view = _make_view([ds], meta, field, opts)
    if view.dim == 1:
        fig = _line_figure(ds, view, meta.time)
        if out is not None:
            _save_figure(fig, out)
        return fig
    p = _new_plotter(opts.window, _off_screen(out))
    _draw(p, ds, view, meta.time)
    if out is not None:
        _save_screenshot(p, out)
    return p


def _is_mesh_source(source: Any) -> bool:
    """True for a FemMesh, a scikit-fem mesh or a file that is not a VTK result."""
    if hasattr(source, "boundaries") and hasattr(source, "regions"):
        return True
    if type(source).__module__.startswith("skfem"):
        return True
    if isinstance(source, str | Path):
        path = Path(source)
        return path.is_file() and path.suffix.lower() not in _RESULT_EXTENSIONS
    return False


def _prepare_out(out: str | Path) -> Path:
    """The output path, with its folder created."""
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CaseError(f"{path}: cannot create the folder ({exc})") from exc
    return path


def _save_screenshot(p: pv.Plotter, out: str | Path) -> None:
    """Write the plotter's picture as a PNG (or any image format PyVista knows)."""
    path = _prepare_out(out)
    try:
        p.screenshot(str(path))
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot write the picture ({exc})") from exc


def _save_figure(fig: Figure, out: str | Path) -> None:
    """Write a matplotlib figure at its exact pixel size."""
    import imageio.v3 as iio

    path = _prepare_out(out)
    try:
        iio.imwrite(path, _figure_pixels(fig))
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot write the picture ({exc})") from exc


def animate(
    directory: str | Path,
    field: str | None,
    out: str | Path,
    *,
    fps: float = 10,
    window: tuple[int, int] = (1000, 750),
    **options: Any,
) -> Path:
    """Animation of a transient results folder (its series.pvd or step_*.vtu).

    Every frame is drawn like :func:`plot_result` (``options`` are its keyword
    options: slice_axis, clip, warp, contours, log, camera, arrows) with one
    colour range, warp factor and camera for the whole series, and the time
    ``t = 1.23e-03 s`` in a corner.  1D series animate the line graph.

    ``out`` ending in ``.gif`` is written with imageio; ``.mp4`` needs the
    ``imageio-ffmpeg`` package.  Returns the path written.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise CaseError(f"{path}: animations are written as .gif or .mp4")
    if suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as exc:
            raise CaseError(
                f"{path}: writing .mp4 needs imageio-ffmpeg (pip install imageio-ffmpeg), "
                "or write a .gif"
            ) from exc
    if not fps > 0:
        raise CaseError(f"fps must be > 0, not {fps!r}")
    unknown = set(options) - {"slice_axis", "clip", "warp", "contours", "log", "camera", "arrows"}
    if unknown:
        raise CaseError(f"unknown animation option(s): {', '.join(sorted(unknown))}")
    opts = _Options(window=window, **options)
    frames = _series(directory)
    folder = frames[0][1].parent
    meta = _meta(_read_summary(folder), frames[0][1].name)
    view = _make_view([f for _, f in frames], meta, field, opts)
    images = [_frame_image(_read_grid(f), view, _frame_time(f, t)) for t, f in frames]
    _write_movie(_prepare_out(path), images, fps)
    return path


def _frame_time(path: Path, t: float | None) -> float | None:
    """Time of a frame: from series.pvd, else the file's TimeValue field data."""
    if t is not None:
        return t
    import pyvista as pv

    data = pv.read(path).field_data
    for key in ("TimeValue", "time", "t"):
        if key in data.keys():
            return float(np.asarray(data[key]).ravel()[0])
    return None


def _frame_image(ds: pv.UnstructuredGrid, view: _View, time: float | None) -> np.ndarray:
    """RGB pixels of one animation frame."""
    if view.dim == 1:
        return _figure_pixels(_line_figure(ds, view, time))
    p = _new_plotter(view.window, True)
    try:
        _draw(p, ds, view, time)
        return np.asarray(p.screenshot(return_img=True))[..., :3]
    finally:
        p.close()


def _write_movie(path: Path, images: list[np.ndarray], fps: float) -> None:
    """Write frames as a looping GIF or an H.264 MP4."""
    import imageio.v2 as imageio
    import imageio.v3 as iio

    try:
        if path.suffix.lower() == ".gif":
            iio.imwrite(path, np.stack(images), extension=".gif", duration=1000 / fps, loop=0)
        else:
            imageio.mimwrite(path, images, fps=fps, macro_block_size=2)
    except (OSError, ValueError, RuntimeError) as exc:
        raise CaseError(f"{path}: cannot write the animation ({exc})") from exc


# --------------------------------------------------------------------------- meshes


def to_pyvista(
    fem_mesh: Any,
    point_data: dict[str, Any] | None = None,
    cell_data: dict[str, Any] | None = None,
) -> pv.UnstructuredGrid:
    """A scikit-fem mesh (or FemMesh) as a PyVista UnstructuredGrid.

    Lines, triangles, quadrilaterals, tetrahedra, hexahedra and wedges are
    supported (quadratic meshes keep their corner vertices); 1D and 2D points
    get y = z = 0 and z = 0.  Point arrays have one row per mesh vertex and
    cell arrays one per element, each shaped (n,) or (n, k); (k, n) arrays
    (scikit-fem's layout) are transposed and 2-component vectors padded to 3.
    A FemMesh adds its ``region`` ids as cell data unless ``cell_data`` has one.
    """
    import pyvista as pv

    mesh = getattr(fem_mesh, "mesh", fem_mesh)
    points = _points3(mesh)
    t = np.asarray(mesh.t)
    dim = mesh.dim()
    cell_type = _VTK_CELL_TYPES.get((dim, t.shape[0]))
    if cell_type is None:
        raise CaseError(f"cannot draw {type(mesh).__name__} elements")
    if cell_type == 12:
        t = t[_SKFEM_TO_VTK_HEX]
    if cell_type == 10:
        t = _positive_tets(points, t)
    grid = pv.UnstructuredGrid({cell_type: t.T.astype(np.int64)}, points)
    for name, values in (point_data or {}).items():
        grid.point_data[name] = _vtk_array(values, grid.n_points, name)
    cell_data = dict(cell_data or {})
    if "region" not in cell_data and hasattr(fem_mesh, "region_ids"):
        cell_data["region"] = fem_mesh.region_ids
    for name, values in cell_data.items():
        grid.cell_data[name] = _vtk_array(values, grid.n_cells, name)
    return grid


def _positive_tets(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Tetrahedra reordered where needed so that VTK sees positive volumes."""
    a, b, c, d = (points[t[i]] for i in range(4))
    negative = np.einsum("ij,ij->i", np.cross(b - a, c - a), d - a) < 0
    t = t.copy()
    t[1, negative], t[2, negative] = t[2, negative], t[1, negative]
    return t


def _points3(mesh: Any) -> np.ndarray:
    """Mesh vertices as an (n, 3) array (missing coordinates are 0)."""
    p = np.asarray(mesh.p, dtype=float)
    points = np.zeros((p.shape[1], 3))
    points[:, : p.shape[0]] = p.T
    return points


def _vtk_array(values: Any, n: int, name: str) -> np.ndarray:
    """An array with ``n`` rows, vectors padded to 3 components."""
    a = np.asarray(values)
    if a.ndim == 2 and a.shape[0] != n and a.shape[1] == n:
        a = a.T
    if a.shape[0] != n:
        raise ValueError(f"array {name!r} has {a.shape[0]} rows, the mesh needs {n}")
    if a.ndim == 2 and a.shape[1] == 2:
        a = np.column_stack([a, np.zeros(n, dtype=a.dtype)])
    return a


def _region_colors(n: int) -> list[str]:
    """``n`` distinct categorical colours (hex)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    base = [to_hex(c) for name in ("tab10", "Dark2", "tab20b") for c in colormaps[name].colors]
    colors = list(dict.fromkeys(base))
    while len(colors) < n:  # golden-angle hues for very many tags
        k = len(colors)
        colors.append(_hsv_hex((k * 0.618034) % 1.0, 0.65, 0.85))
    return colors[:n]


def _hsv_hex(h: float, s: float, v: float) -> str:
    from matplotlib.colors import hsv_to_rgb, to_hex

    return to_hex(hsv_to_rgb((h, s, v)))


def _lighten(color: str, alpha: float) -> str:
    """``color`` seen with opacity ``alpha`` over white."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([alpha * c + (1 - alpha) for c in to_rgb(color)])


def tag_colors(fem_mesh: Any) -> dict[str, str]:
    """Colours of :func:`plot_mesh`: ``"region <name>"`` / ``"boundary <name>"`` -> hex.

    Boundaries get strong categorical colours; regions get light tints of
    other hues (what a semi-transparent region looks like over white).  All
    colours are distinct.
    """
    boundaries = list(getattr(fem_mesh, "boundaries", {}) or {})
    regions = list(getattr(fem_mesh, "regions", {}) or {})
    palette = _region_colors(len(boundaries) + len(regions))
    colors = {f"boundary {b}": palette[i] for i, b in enumerate(boundaries)}
    start = len(boundaries)
    for i, r in enumerate(regions):
        colors[f"region {r}"] = _lighten(palette[start + i], 0.45)
    return colors


def _as_fem_mesh(source: Any) -> Any:
    """A FemMesh from a path (femflux.mesh.read_mesh), a FemMesh or a skfem mesh."""
    if hasattr(source, "mesh") and hasattr(source, "boundaries"):
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise CaseError(f"{path}: no such mesh file")
        from femflux.mesh import read_mesh

        return read_mesh(path)
    from femflux.mesh import FemMesh

    boundaries = dict(getattr(source, "boundaries", None) or {})
    regions = dict(getattr(source, "subdomains", None) or {})
    regions = regions or {"domain": np.arange(source.nelements)}
    return FemMesh(mesh=source, boundaries=boundaries, regions=regions)


def _facet_polydata(mesh: Any, facets: np.ndarray) -> pv.PolyData:
    """The facets of a mesh as points (1D), lines (2D) or polygons (3D)."""
    import pyvista as pv

    points = _points3(mesh)
    f = np.asarray(mesh.facets)[:, np.asarray(facets, dtype=int)]
    if f.shape[0] == 1:
        return pv.PolyData(points[f[0]])
    if f.shape[0] == 4:
        f = _cyclic_quads(points, f)
    cells = np.column_stack([np.full(f.shape[1], f.shape[0]), f.T]).ravel()
    if f.shape[0] == 2:
        return pv.PolyData(points, lines=cells)
    return pv.PolyData(points, faces=cells)


def _cyclic_quads(points: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Quadrilateral facets reordered around their perimeter (scikit-fem may sort them)."""
    orders = np.array([[0, 1, 2, 3], [0, 1, 3, 2], [0, 2, 1, 3]])
    perimeters = []
    for order in orders:
        q = points[f[order]]  # (4, n, 3)
        perimeters.append(np.linalg.norm(q - np.roll(q, -1, axis=0), axis=2).sum(axis=0))
    best = orders[np.argmin(perimeters, axis=0)]  # (n, 4)
    return np.take_along_axis(f, best.T, axis=0)


def plot_mesh(source: Any, out: str | Path | None = None, window=(1200, 900)) -> pv.Plotter:
    """Picture of the named boundaries and regions of a mesh, for checking tags.

    ``source`` is a mesh file (read with :func:`femflux.mesh.read_mesh`), a
    :class:`~femflux.mesh.FemMesh` or a scikit-fem mesh.  Every tag has its own
    colour (see :func:`tag_colors`) and a legend entry with its size.  1D and
    2D: regions are light fills showing the elements, boundaries thick lines
    (2D) or dots (1D).  3D: three views -- the regions cut open (light,
    opaque tints) and the boundary surfaces (opaque, strong colours) seen from
    +x+y+z and from -x-y-z; untagged outer faces are pale grey.  Writes a PNG
    of ``window`` pixels when ``out`` is given; returns the (open) plotter.
    """
    window = _Options(window=window).window
    fem = _as_fem_mesh(source)
    grid = to_pyvista(fem)
    colors = tag_colors(fem)
    off_screen = _off_screen(out)
    if fem.dim == 3:
        p = _mesh_views_3d(fem, grid, colors, window, off_screen)
    else:
        p = _new_plotter(window, off_screen)
        _draw_tags_flat(p, fem, grid, colors)
        _add_legend(p, _legend_entries(fem, colors), window, 0.71 * window[0], 0.95 * window[1])
        _fit(p, grid.bounds, "z", right=0.3, top=0.02, bottom=0.02)
    if out is not None:
        _save_screenshot(p, out)
    return p


def _draw_tags_flat(p: pv.Plotter, fem: Any, grid: pv.UnstructuredGrid, colors) -> None:
    """Regions as light fills with element edges, boundaries as thick lines or dots."""
    lw = max(1.0, p.window_size[1] / 900)
    lift = (0, 0, 2e-3 * _size(grid.bounds))
    for name, elements in fem.regions.items():
        part = grid.extract_cells(np.asarray(elements, dtype=int))
        p.add_mesh(part, color=colors[f"region {name}"], lighting=False,
                   show_edges=fem.dim == 2, edge_color="#a6a6a6", line_width=0.6 * lw)
        if fem.dim == 1:  # a thick band for each region
            p.add_mesh(part, color=colors[f"region {name}"], line_width=14 * lw, lighting=False)
    for name, facets in fem.boundaries.items():
        poly = _facet_polydata(fem.mesh, facets).translate(lift, inplace=False)
        if fem.dim == 2:
            p.add_mesh(poly, color=colors[f"boundary {name}"], line_width=6 * lw,
                       render_lines_as_tubes=True, lighting=False)
        else:
            p.add_mesh(poly, color=colors[f"boundary {name}"], point_size=22 * lw,
                       render_points_as_spheres=True, lighting=False)


def _mesh_views_3d(fem: Any, grid: pv.UnstructuredGrid, colors, window, off_screen: bool):
    """Three views of a 3D mesh: regions cut open, boundaries from the front and back."""
    p = _new_plotter(window, off_screen, shape=(2, 2))
    w, h = window[0] // 2, window[1] // 2
    size = _font(window, 19)
    bounds = grid.bounds
    p.subplot(0, 0)
    axis = _middle_axis(bounds)
    origin = [(bounds[2 * i] + bounds[2 * i + 1]) / 2 for i in range(3)]
    lw = max(1.0, window[1] / 900)
    for name, elements in fem.regions.items():
        part = grid.extract_cells(np.asarray(elements, dtype=int))
        cut = _surface(part.clip(normal=np.eye(3)[axis], origin=origin))
        if cut.n_cells:
            p.add_mesh(cut, color=colors[f"region {name}"], show_edges=True,
                       edge_color="#8c8c8c", line_width=0.5 * lw, ambient=0.75, diffuse=0.25,
                       specular=0.0)
    p.add_mesh(grid.outline(), color="#9a9a9a", line_width=lw, lighting=False)
    _fit(p, bounds, "iso", top=0.1, size_px=(w, h))
    _add_text(p, "regions, cut open", 0.04 * w, h - 1.6 * size, size, "#444444")
    exterior = _surface(grid)
    for row, col, camera, title in ((0, 1, "iso", "boundaries from +x +y +z"),
                                    (1, 1, "back", "boundaries from −x −y −z")):
        p.subplot(row, col)
        p.add_mesh(exterior, color="#ececec", ambient=0.5, diffuse=0.5, specular=0.0)
        lift = np.asarray(_CAMERAS[camera][0], dtype=float) * 2e-3 * _size(bounds)
        for name, facets in fem.boundaries.items():
            poly = _facet_polydata(fem.mesh, facets).translate(tuple(lift), inplace=False)
            p.add_mesh(poly, color=colors[f"boundary {name}"], show_edges=True,
                       edge_color="#4d4d4d", line_width=0.5 * lw, ambient=0.75, diffuse=0.25,
                       specular=0.0)
        _fit(p, bounds, camera, top=0.1, size_px=(w, h))
        _add_text(p, title, 0.04 * w, h - 1.6 * size, size, "#444444")
    p.subplot(1, 0)
    _add_legend(p, _legend_entries(fem, colors), window, 0.06 * w, 0.92 * h)
    return p


def _legend_entries(fem: Any, colors: dict[str, str]) -> list[tuple[str, str]]:
    """(text, colour) of every tag, regions first, with their sizes."""
    entries = []
    for name, elements in fem.regions.items():
        n = len(elements)
        entries.append((f"{name}  (region, {n} cell{'s' * (n != 1)})", colors[f"region {name}"]))
    for name, facets in fem.boundaries.items():
        n = len(facets)
        text = f"{name}  (boundary, {n} facet{'s' * (n != 1)})"
        entries.append((text, colors[f"boundary {name}"]))
    return entries


def _add_legend(p: pv.Plotter, entries, window, x: float, top: float) -> None:
    """Colour swatches and names in a column starting at pixel (x, top)."""
    from vtkmodules.vtkCommonCore import vtkPoints, vtkUnsignedCharArray
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor2D, vtkPolyDataMapper2D

    size = _font(window, 18)
    step = 1.7 * size
    size = max(8, round(size * min(1.0, top / (step * max(len(entries), 1)))))  # many tags
    step = 1.7 * size
    points, quads, rgb = vtkPoints(), vtkCellArray(), vtkUnsignedCharArray()
    rgb.SetNumberOfComponents(3)
    for k, (text, color) in enumerate(entries):
        y = top - (k + 1) * step
        for dx, dy in ((0, 0), (size, 0), (size, size), (0, size)):
            points.InsertNextPoint(x + dx, y + dy - 0.1 * size, 0)
        quads.InsertNextCell(4, tuple(range(4 * k, 4 * k + 4)))
        rgb.InsertNextTypedTuple([round(255 * c) for c in _rgb(color)])
        _add_text(p, text, x + 1.5 * size, y, size)
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(quads)
    poly.GetCellData().SetScalars(rgb)
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.SetColorModeToDirectScalars()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    p.add_actor(actor, reset_camera=False, pickable=False)


def _rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)
