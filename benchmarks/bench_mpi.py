"""Benchmark: the PNP benchmark problem (bench_pnp.py) on 1 and N MPI ranks, not
part of the tests.

Each size is solved by ``femflux run`` in one process (the serial path) and
by ``mpirun -n N femflux run`` (the distributed path, PETSc; ``--ranks 1``
takes it on one rank, ``FEMFLUX_DISTRIBUTED=1``), with the Python of the
[mpi] install (README, "Several processes: MPI"): wall time of the whole
command, Newton and Krylov iterations, the preconditioner, the seconds in
PETSc's KSP (set-up and solves; wall and CPU of the slowest rank), peak
memory per rank, the xmax fluxes against the serial run; then one README
table row a size.  ``--peer`` also runs the FEniCSx/dolfinx 0.5 peer
(peers/dolfinx_pnp.py, Debian's python3-dolfinx) on the same rank counts.

    python benchmarks/bench_mpi.py                           # 3d-1e5 on 1 and 2 ranks
    python benchmarks/bench_mpi.py 3d-1e5 3d-1e6 --ranks 1 2 --peer
    python benchmarks/bench_mpi.py 3d-1e6 --linear iterative --petsc "-pc_type asm"
    python benchmarks/bench_mpi.py 3d-4e6 --ranks 2 --no-serial  # large sizes
    FEMFLUX_MPI_PYTHON=/path/to/python python benchmarks/bench_mpi.py

Run it on a quiet machine: ranks that share a core with other work (or each
other: ``--oversubscribe``) wait and the speed-up means nothing; the CPU
seconds and iteration counts are the figures that survive a loaded machine.
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
PEER = Path(__file__).parent / "peers" / "dolfinx_pnp.py"


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


def _mpirun(ranks: int, command: list[str]) -> list[str]:
    return [shutil.which("mpirun") or "mpirun", "--allow-run-as-root", "-n", str(ranks),
            "-x", "OMP_NUM_THREADS=1", "-x", "PETSC_OPTIONS"] + command


def _env(petsc: str, distributed: bool = False) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PETSC_OPTIONS=petsc)
    env.pop("FEMFLUX_DISTRIBUTED", None)
    if distributed:
        env["FEMFLUX_DISTRIBUTED"] = "1"
    return env


def run(case: Path, out: Path, ranks: int, petsc: str = "") -> dict:
    """``femflux run`` on ``ranks`` (0: the serial path, one process)."""
    command = [_python(), "-m", "femflux.cli", "run", str(case), "--out", str(out), "--quiet"]
    if ranks > 1:
        command = _mpirun(ranks, command)
    t0 = time.perf_counter()
    subprocess.run(command, check=True, env=_env(petsc, ranks == 1))
    wall = time.perf_counter() - t0
    s = json.loads((out / "summary.json").read_text())
    mpi = s.get("mpi", {})
    return {"ranks": ranks, "wall_s": wall, "solve_s": s["wall_time_s"], "dofs": s["dofs"],
            "newton": s["newton_iterations"], "linear": mpi.get("linear", "serial"),
            "preconditioner": mpi.get("preconditioner", "-"),
            "krylov": mpi.get("krylov_iterations", "-"),
            "ksp_s": max(mpi.get("linear_s", [0.0])),
            "ksp_cpu_s": max(mpi.get("linear_cpu_s", [0.0])),
            "peak_gb": mpi.get("peak_memory_gb", []), "flux": s["boundaries"]["xmax"]["flux"]}


def peer(name: str, ranks: int) -> dict:
    """The dolfinx peer on ``ranks`` ranks (Debian's /usr/bin/python3)."""
    command = _mpirun(ranks, ["/usr/bin/python3", str(PEER), name])
    t0 = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         env=_env("")).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r["wall_s"] = time.perf_counter() - t0
    return r


def _peak(values) -> str:
    return "/".join(f"{v:.2f}" for v in values) + " GB" if values else "-"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", default=["3d-1e5"], help=", ".join(SIZES))
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2],
                        help="rank counts of the distributed path (1: FEMFLUX_DISTRIBUTED=1)")
    parser.add_argument("--linear", default="auto", choices=["auto", "direct", "iterative"])
    parser.add_argument("--petsc", default="", help="PETSC_OPTIONS of the distributed runs")
    parser.add_argument("--peer", action="store_true", help="also run the dolfinx peer")
    parser.add_argument("--no-serial", action="store_true",
                        help="skip the serial run (sizes one process cannot hold)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sizes if name not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.sizes:
            case = _case_file(folder, name, args.linear)
            if args.no_serial:
                for ranks in args.ranks:
                    r = run(case, folder / f"{name}-{ranks}", ranks, args.petsc)
                    print(f"{name:7} {r['dofs']:>8} dofs | {ranks} rank(s) ({r['linear']}, "
                          f"{r['preconditioner']}) {r['wall_s']:7.1f} s (solve "
                          f"{r['solve_s']:.1f} s; KSP {r['ksp_s']:.1f} s, CPU "
                          f"{r['ksp_cpu_s']:.1f} s) | Newton {r['newton']}, Krylov "
                          f"{r['krylov']} | peak {_peak(r['peak_gb'])} | xmax fluxes "
                          f"{r['flux']}", flush=True)
                continue
            serial = run(case, folder / f"{name}-serial", 0)
            print(f"{name:7} {serial['dofs']:>8} dofs | 1 process (serial path) "
                  f"{serial['wall_s']:7.1f} s, {serial['newton']} Newton", flush=True)
            times = {}
            for ranks in args.ranks:
                r = run(case, folder / f"{name}-{ranks}", ranks, args.petsc)
                times[ranks] = r
                gap = max(abs(r["flux"][k] / serial["flux"][k] - 1) for k in serial["flux"])
                print(f"{name:7} {r['dofs']:>8} dofs | {ranks} rank(s) ({r['linear']}, "
                      f"{r['preconditioner']}) {r['wall_s']:7.1f} s (solve {r['solve_s']:.1f} s"
                      f"; KSP {r['ksp_s']:.1f} s, CPU {r['ksp_cpu_s']:.1f} s) | Newton "
                      f"{r['newton']}, Krylov {r['krylov']} | speed-up vs serial "
                      f"{serial['wall_s'] / r['wall_s']:.2f}x | peak {_peak(r['peak_gb'])} | "
                      f"xmax fluxes vs serial {gap:.1e}", flush=True)
            peers = {}
            if args.peer:
                for ranks in args.ranks:
                    p = peers[ranks] = peer(name, ranks)
                    gap = max(abs(p["flux_xmax"][k] / serial["flux"][k] - 1)
                              for k in serial["flux"])
                    print(f"{name:7} {p['dofs']:>8} dofs | dolfinx 0.5, {ranks} rank(s) "
                          f"{p['wall_s']:7.1f} s (solve {p['solve_s']:.1f} s) | Newton "
                          f"{p['newton']}, Krylov {p['krylov']} | peak "
                          f"{_peak(p['peak_memory_gb'])} | xmax fluxes vs femflux "
                          f"{gap:.1e}", flush=True)
            rows.append(_row(name, serial, times, peers, load))
    print(f"\nREADME rows (load average {load:.1f} at the start):")
    for row in rows:
        print(row)


def _row(name, serial, times, peers, load) -> str:
    """| size | unknowns | 1 process | each rank count | speed-up | dolfinx each | load |"""
    cells = [f"`{name}`", f"{serial['dofs']:,}", f"{serial['wall_s']:.1f} s"]
    for ranks, r in times.items():
        cells.append(f"{ranks}: {r['wall_s']:.1f} s (KSP {r['ksp_s']:.1f} s, CPU "
                     f"{r['ksp_cpu_s']:.1f} s; {r['newton']} / {r['krylov']}; "
                     f"{_peak(r['peak_gb'])})")
    if len(times) > 1:
        first, last = min(times), max(times)
        cells.append(f"{times[first]['wall_s'] / times[last]['wall_s']:.2f}x")
    cells += [f"{ranks}: {p['wall_s']:.1f} s (solve {p['solve_s']:.1f} s; {p['newton']} / "
              f"{p['krylov']}; {_peak(p['peak_memory_gb'])})" for ranks, p in peers.items()]
    cells.append(f"load {load:.1f}")
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
