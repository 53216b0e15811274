"""The results of a run (SPEC section 3): fields, summary, and the results folder.

``Result.save(dir)`` writes ``solution.vtu``, ``series.pvd`` with
``step_NNNNN.vtu`` (transient), ``summary.json`` and ``case.toml`` into a
temporary folder beside ``dir`` and renames it into place, so a results folder
is always complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .case import Case
from .mesh import FemMesh


@dataclass
class Frame:
    """One written state of a transient run."""

    t: float
    point_data: dict[str, np.ndarray]
    cell_data: dict[str, np.ndarray]


@dataclass
class Result:
    """A solved case: point fields on the mesh vertices, cell fields, summary.

    ``fields[name]`` is an array over ``mesh.mesh.p`` (vertices); vectors and
    tensors have shape (nvertices, 3) and (nvertices, 9).
    """

    case: Case
    mesh: FemMesh
    fields: dict[str, np.ndarray]
    cell_fields: dict[str, np.ndarray]
    summary: dict
    series: list[Frame] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return bool(self.summary.get("converged", False))

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the results folder of SPEC section 3 atomically; return its path."""
        target = Path(directory).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private
        try:
            write_vtu(staging / "solution.vtu", self.mesh, self.fields, self.cell_fields)
            if self.series:
                names = []
                for k, frame in enumerate(self.series):
                    name = f"step_{k:05d}.vtu"
                    write_vtu(staging / name, self.mesh, frame.point_data, frame.cell_data)
                    names.append((frame.t, name))
                write_pvd(staging / "series.pvd", names)
            (staging / "summary.json").write_text(
                json.dumps(_jsonable(self.summary), indent=2) + "\n")
            (staging / "case.toml").write_text(dump_toml(self.case.raw))
            _replace_dir(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def plot(self, field: str | None = None, **options):
        """A PyVista plotter of ``field`` (off-screen when there is no display)."""
        from .plot import plot_result

        options.setdefault("summary", self.summary)
        return plot_result(self.to_pyvista(), field=field, **options)

    def to_pyvista(self):
        """The final state as a ``pyvista.UnstructuredGrid``."""
        import pyvista

        return pyvista.from_meshio(_to_meshio(self.mesh, self.fields, self.cell_fields))


def _replace_dir(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``, replacing an old folder without a gap
    in which a half-written folder could be seen."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "x")
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def _to_meshio(fem_mesh: FemMesh, point_data, cell_data):
    from skfem.io.meshio import to_meshio

    m = to_meshio(fem_mesh.mesh, encode_cell_data=False)
    points = np.zeros((m.points.shape[0], 3))
    points[:, : m.points.shape[1]] = m.points
    m.points = points
    m.point_data = {k: np.ascontiguousarray(v) for k, v in point_data.items()}
    m.cell_data = {k: [np.ascontiguousarray(v)] for k, v in cell_data.items()}
    return m


def write_vtu(path: Path, fem_mesh: FemMesh, point_data, cell_data) -> None:
    """solution.vtu: coordinates in metres, point and cell data as given."""
    import meshio

    meshio.write(path, _to_meshio(fem_mesh, point_data, cell_data), file_format="vtu",
                 binary=True, compression=None)


def write_pvd(path: Path, frames: list[tuple[float, str]]) -> None:
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
             "  <Collection>"]
    lines += [f'    <DataSet timestep="{t:.17g}" group="" part="0" file="{name}"/>'
              for t, name in frames]
    lines += ["  </Collection>", "</VTKFile>", ""]
    path.write_text("\n".join(lines))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# -- a small TOML writer for case.toml (tomllib only reads) -----------------


def _toml_key(key: str) -> str:
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_toml(data: dict) -> str:
    """TOML text for a case dict: scalars first, then tables and arrays of tables."""
    lines: list[str] = []
    _dump_table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _dump_table(table: dict, prefix: list[str], lines: list[str]) -> None:
    def is_table_array(v):
        return isinstance(v, list) and v and all(isinstance(e, dict) for e in v)

    for key, value in table.items():
        if not isinstance(value, dict) and not is_table_array(value):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        path = prefix + [_toml_key(key)]
        if isinstance(value, dict):
            lines.append("")
            lines.append(f"[{'.'.join(path)}]")
            _dump_table(value, path, lines)
        elif is_table_array(value):
            for entry in value:
                lines.append("")
                lines.append(f"[[{'.'.join(path)}]]")
                _dump_table(entry, path, lines)
