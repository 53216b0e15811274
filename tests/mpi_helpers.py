"""Running femflux on several MPI ranks in tests, and comparing an MPI run's
results folder with the serial one (tests/test_mpi.py, test_mpi_stress.py).

The MPI runs use the Python of the [mpi] install (README, "Several
processes: MPI"): $FEMFLUX_MPI_PYTHON, else .venv-mpi/bin/python of the
repository; ``pytestmark`` skips a module, saying why, when it or mpirun is
missing (.ci/run installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MPI_PYTHON = Path(os.environ.get("FEMFLUX_MPI_PYTHON", ROOT / ".venv-mpi" / "bin" / "python"))
MPIRUN = shutil.which("mpirun")


def _ready() -> str | None:
    if MPIRUN is None:
        return "mpirun is not installed (apt-get install openmpi-bin)"
    if not MPI_PYTHON.exists():
        return f"no MPI Python at {MPI_PYTHON} (README: Several processes: MPI)"
    probe = subprocess.run([str(MPI_PYTHON), "-c", "import femflux.parallel as p; p.world()"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode:
        return f"{MPI_PYTHON} cannot start femflux.parallel: {probe.stderr.strip()[-200:]}"
    return None


_REASON = _ready()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def launch(case: Path, out: Path, ranks: int = 1, *extra,
           petsc: str = "") -> tuple[list[str], dict]:
    """The command and environment of ``femflux run CASE --out OUT --quiet`` on
    ``ranks`` MPI ranks (1: no mpirun), ``petsc`` the PETSC_OPTIONS."""
    command = [str(MPI_PYTHON), "-m", "femflux.cli", "run", str(case), "--out", str(out),
               "--quiet", *extra]
    if ranks > 1:
        command = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "--quiet", "-n",
                   str(ranks)] + command
    # single-copy shared memory needs ptrace rights that containers often lack
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", PETSC_OPTIONS=petsc)
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "FEMFLUX_DISTRIBUTED"):
        env.pop(name, None)
    return command, env


def femflux(case: Path, out: Path, ranks: int = 1, *extra,
            petsc: str = "") -> subprocess.CompletedProcess:
    """``femflux run CASE --out OUT --quiet`` on ``ranks`` MPI ranks (1: no mpirun),
    ``petsc`` the PETSC_OPTIONS."""
    command, env = launch(case, out, ranks, *extra, petsc=petsc)
    return subprocess.run(command, cwd=case.parent, capture_output=True, text=True,
                          timeout=300, env=env)


def solved(case: Path, out: Path, ranks: int = 1) -> Path:
    run = femflux(case, out, ranks)
    assert run.returncode == 0, run.stderr[-2000:]
    return out


def numbers(tree, prefix="") -> dict[str, float]:
    """Every number of a summary by its dotted path (history rows by index)."""
    out = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.update(numbers(value, f"{prefix}.{key}" if prefix else key))
    elif isinstance(tree, list):
        for k, value in enumerate(tree):
            out.update(numbers(value, f"{prefix}[{k}]"))
    elif isinstance(tree, int | float) and not isinstance(tree, bool):
        out[prefix] = float(tree)
    return out


_RUN_DEPENDENT = ("wall_time_s", "newton_iterations", "mpi.", "dofs")


def assert_same_summary(serial: Path, parallel: Path, rtol: float = 1e-8) -> int:
    """The numbers of two summary.json agree to ``rtol`` relative, a number
    below 1e-3 of the largest of its kind (a flux, an amount) to ``rtol`` of
    1e-3 of that largest one; returns how many numbers were compared."""
    a = numbers(json.loads((serial / "summary.json").read_text()))
    b = numbers(json.loads((parallel / "summary.json").read_text()))
    compared = 0
    for key, value in a.items():
        if any(word in key for word in _RUN_DEPENDENT):
            continue
        assert key in b, key
        kind = key.rsplit(".", 1)[-1]
        scale = max(abs(v) for k, v in a.items() if k.rsplit(".", 1)[-1] == kind)
        assert abs(b[key] - value) <= rtol * max(abs(value), 1e-3 * scale), \
            (key, value, b[key])
        compared += 1
    return compared


def gathered(folder: Path, name: str = "solution"):
    import pyvista as pv

    path = folder / f"{name}.pvtu"
    if not path.exists():
        path = folder / f"{name}.vtu"
    return pv.read(path)


def assert_same_fields(serial: Path, parallel: Path, name: str = "solution",
                       rtol: float = 1e-8) -> None:
    """Point and cell arrays of the parallel pieces equal the serial ones at the
    same positions (nodes on rank boundaries are in several pieces)."""
    from scipy.spatial import cKDTree

    one, many = gathered(serial, name), gathered(parallel, name)
    assert many.n_cells == one.n_cells
    for points, data_one, data_many in (
            (lambda g: g.points, one.point_data, many.point_data),
            (lambda g: g.cell_centers().points, one.cell_data, many.cell_data)):
        distance, index = cKDTree(points(one)).query(points(many))
        assert distance.max() <= 1e-9 * np.abs(one.points).max()
        assert set(data_one.keys()) == set(data_many.keys())
        for key in data_one.keys():
            ref = np.asarray(data_one[key])[index]
            got = np.asarray(data_many[key])
            scale = max(float(np.nanmax(np.abs(ref))), 1e-300)
            assert np.nanmax(np.abs(got - ref)) <= rtol * scale, key
    covered = np.zeros(one.n_points, dtype=bool)
    covered[cKDTree(one.points).query(many.points)[1]] = True
    assert covered.all()  # every node is in some piece
