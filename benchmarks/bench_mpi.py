"""Benchmark: the PNP benchmark problem (bench_pnp.py) on 1 and N MPI ranks, not
part of the tests.

Each size is solved by ``femflux run`` in one process (the serial path) and
by ``mpirun -n N femflux run`` (the distributed path, PETSc), with the Python
of the [mpi] install (README, "Several processes: MPI"): wall time of the
whole command, Newton iterations, the linear solver, and the xmax fluxes of
the two runs against each other.

    python benchmarks/bench_mpi.py                      # 3d-1e5 on 1 and 2 ranks
    python benchmarks/bench_mpi.py 3d-1e6 --ranks 2 4   # sizes of bench_pnp.py
    FEMFLUX_MPI_PYTHON=/path/to/python python benchmarks/bench_mpi.py

Run it on a quiet machine: ranks that share a core with other work (or each
other: ``--oversubscribe``) busy-wait and the speed-up means nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_pnp import SIZES, case_dict  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _python() -> str:
    default = ROOT / ".venv-mpi" / "bin" / "python"
    return os.environ.get("FEMFLUX_MPI_PYTHON", str(default))


def _case_file(folder: Path, name: str, linear: str) -> Path:
    from femflux.results.case_toml import dump_toml

    shape, cells = SIZES[name]
    case = case_dict(shape, cells)
    case["solver"] = {"steady": True, "linear": linear}
    path = folder / f"{name}.toml"
    path.write_text(dump_toml(case), encoding="utf-8")
    return path


def run(case: Path, out: Path, ranks: int) -> dict:
    command = [_python(), "-m", "femflux.cli", "run", str(case), "--out", str(out), "--quiet"]
    if ranks > 1:
        command = [shutil.which("mpirun") or "mpirun", "--allow-run-as-root", "-n", str(ranks),
                   "-x", "OMP_NUM_THREADS=1"] + command
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    subprocess.run(command, check=True, env=env)
    wall = time.perf_counter() - t0
    s = json.loads((out / "summary.json").read_text())
    return {"ranks": ranks, "wall_s": wall, "solve_s": s["wall_time_s"], "dofs": s["dofs"],
            "newton": s["newton_iterations"], "linear": s.get("mpi", {}).get("linear", "serial"),
            "flux": s["boundaries"]["xmax"]["flux"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", default=["3d-1e5"], help=", ".join(SIZES))
    parser.add_argument("--ranks", nargs="+", type=int, default=[2])
    parser.add_argument("--linear", default="auto", choices=["auto", "direct", "iterative"])
    args = parser.parse_args(argv)
    unknown = [name for name in args.sizes if name not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.sizes:
            case = _case_file(folder, name, args.linear)
            serial = run(case, folder / f"{name}-1", 1)
            print(f"{name:7} {serial['dofs']:>8} dofs | 1 rank (serial path) "
                  f"{serial['wall_s']:7.1f} s, {serial['newton']} Newton", flush=True)
            for ranks in args.ranks:
                r = run(case, folder / f"{name}-{ranks}", ranks)
                gap = max(abs(r["flux"][k] / serial["flux"][k] - 1) for k in serial["flux"])
                print(f"{name:7} {r['dofs']:>8} dofs | {ranks} ranks ({r['linear']}) "
                      f"{r['wall_s']:7.1f} s, {r['newton']} Newton | speed-up "
                      f"{serial['wall_s'] / r['wall_s']:.2f}x | xmax fluxes vs serial "
                      f"{gap:.1e}", flush=True)


if __name__ == "__main__":
    main()
