"""Reading what is to be drawn.

Owns the sources of pictures and animations: a results folder (its
``solution.vtu`` and ``summary.json``), a VTK file, a ``.pvd`` series or a
PyVista dataset (as an UnstructuredGrid with its name, region names and
time), the frames of a transient series, and mesh sources (a mesh file, a
FemMesh or a scikit-fem mesh).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

if TYPE_CHECKING:
    import pyvista as pv


# File extensions read as results by plot_result; anything else is a mesh file.
_RESULT_EXTENSIONS = {".vtu", ".vtk", ".vtp", ".vts", ".vtr", ".vti", ".pvtu", ".pvd"}


@dataclass
class _Meta:
    """What a picture needs besides the dataset: its name, region names and time."""

    name: str = "the dataset"
    region_names: dict[int, str] = dataclasses.field(default_factory=dict)
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
    return _Meta(name, region_names, time)


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
        with _quiet_vtk():
            ds = pv.read(path)
    except Exception as exc:  # VTK and meshio raise anything
        raise CaseError(f"{path}: cannot read ({exc})") from exc
    grid = _as_grid(ds)
    if grid.n_points == 0:
        raise CaseError(f"{path}: the file holds no points")
    return grid


@contextlib.contextmanager
def _quiet_vtk():
    """No VTK error texts or reader warnings on stderr: a file that cannot be
    read becomes one CaseError instead."""
    import pyvista as pv
    from vtkmodules.vtkCommonCore import vtkObject

    shown = vtkObject.GetGlobalWarningDisplay()
    vtkObject.GlobalWarningDisplayOff()
    try:
        with pv.vtk_verbosity("off"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        vtkObject.SetGlobalWarningDisplay(shown)


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
        if not solution.is_file() and (path / "solution.pvtu").is_file():
            solution = path / "solution.pvtu"  # an MPI run's pieces
        if not solution.is_file():
            raise CaseError(f"{path}: not a femflux results folder (no solution.vtu)")
        summary = summary or _read_summary(path)
        time = summary.get("time") if summary.get("steady") is False else None
        return _read_grid(solution), _meta(summary, solution.name, time)
    if not path.exists():
        raise CaseError(f"{path}: no such file or results folder")
    summary = summary or _read_summary(path.parent)
    if path.suffix.lower() == ".pvd":  # a series: its last frame
        time, last = _series(path)[-1]
        return _read_grid(last), _meta(summary, last.name, time)
    time = _step_time(path)
    if time is None and path.stem == "solution" and summary.get("steady") is False:
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


def _frame(item: Any) -> pv.UnstructuredGrid:
    """A frame: a dataset as it is, a path read from disk."""
    return _read_grid(Path(item)) if isinstance(item, str | Path) else _as_grid(item)


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
