"""Writing the results folder of SPEC section 3, atomically.

``write_folder`` writes ``solution.vtu``, ``series.pvd`` with
``step_NNNNN.vtu`` and ``history.csv`` (transient), ``summary.json`` and
``case.toml`` into a
temporary folder beside the target and renames it into place, so a results
folder is always complete; ``write_vtu`` and ``write_pvd`` write one file each.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .case_toml import dump_toml
from .history import write_csv
from .vtk import to_meshio

if TYPE_CHECKING:
    from femflux.mesh import FemMesh

    from .result import Result


def write_folder(result: Result, directory: str | os.PathLike) -> Path:
    """Write the results folder of ``result`` atomically; return its path."""
    target = Path(directory).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private
    try:
        write_vtu(staging / "solution.vtu", result.mesh, result.fields, result.cell_fields)
        if result.series:
            names = []
            for k, frame in enumerate(result.series):
                name = f"step_{k:05d}.vtu"
                write_vtu(staging / name, result.mesh, frame.point_data, frame.cell_data)
                names.append((frame.t, name))
            write_pvd(staging / "series.pvd", names)
        if "history" in result.summary:
            write_csv(staging / "history.csv", result.summary["history"])
        (staging / "summary.json").write_text(
            json.dumps(_jsonable(result.summary), indent=2) + "\n")
        (staging / "case.toml").write_text(dump_toml(result.case.raw))
        _replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


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


def write_vtu(path: Path, fem_mesh: FemMesh, point_data, cell_data) -> None:
    """solution.vtu: coordinates in metres, point and cell data as given."""
    import meshio

    meshio.write(path, to_meshio(fem_mesh, point_data, cell_data), file_format="vtu",
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
