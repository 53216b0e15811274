"""Sweeps on Dask: the speed-up of ``femflux sweep --workers N`` over a serial loop
of ``femflux.solve``, and the overhead a point costs.

    python benchmarks/bench_sweep.py                 # both parts
    python benchmarks/bench_sweep.py --only speedup  # the nanopore sweep
    python benchmarks/bench_sweep.py --only overhead # trivially small points

speedup: cases/nanopore.toml (3D PNP, 65,470 tets) at 8 KCl concentrations
(the salt in both reservoirs and the initial state, as
cases/nanopore_conductance.py varies it): a serial loop of femflux.solve
(load, solve, write the results folder: what a sweep does per point) against
``femflux sweep --vary ... --zip --workers N``, each run as a command
(everything included: Python start, for the sweep the LocalCluster, the
table and the graph).  The conductances of both must agree.  The sweep's
workers keep the mesh across their points (the loop reads it at every
point, as separate runs do): the records say which points used a kept one.

overhead: a 1D 8-cell slab (a point solves in milliseconds) swept over n
points with ``--workers 1``; the marginal cost per point is the slope of the
wall time between two sweep sizes, the overhead per point that slope minus
the serial cost of a point (load, solve, write), and the fixed cost (Python,
the cluster) the intercept; each sweep is timed three times, the best kept.

Both sides run single-threaded BLAS (femflux's default, set before numpy
loads; Dask's workers set it too), so the speed-up is that of the processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NANOPORE = REPO / "cases" / "nanopore.toml"
#: mol/m^3: 8 points of similar cost (5-7 s each on the 2-core machine); the
#: speed-up of a sweep whose points differ in cost is also limited by the
#: imbalance (try --concentrations 1,2,3,5,7,10,20,30: 5-16 s per point)
CONCENTRATIONS = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 15.0]
SALT_KEYS = ["boundary.top.concentration.K", "boundary.top.concentration.Cl",
             "boundary.bottom.concentration.K", "boundary.bottom.concentration.Cl",
             "species.K.initial", "species.Cl.initial"]
VOLTAGE = 0.1  # V across the nanopore case

SLAB = """\
[mesh]
generate = { shape = "interval", length = [1.0], cells = [8] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 1e-9
[[boundary]]
name = "xmin"
concentration = { A = 1.0 }
[[boundary]]
name = "xmax"
concentration = { A = 0.0 }
"""


def cpu_seconds() -> float:
    """CPU time of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def femflux_sweep(case: Path, vary: list[str], out: Path, *options: str) -> float:
    """Wall time of ``femflux sweep`` as a command."""
    args = [sys.executable, "-m", "femflux.cli", "sweep", str(case), "--out", str(out),
            "--quiet", *options]
    for item in vary:
        args += ["--vary", item]
    started = time.perf_counter()
    subprocess.run(args, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - started


def serial_loop(scratch: Path, concentrations: list[float]) -> None:
    """The serial loop (run as its own command by :func:`speedup`): load, solve,
    write each point; print the conductances."""
    import femflux

    for k, c in enumerate(concentrations):
        t = time.perf_counter()
        case = femflux.load_case(NANOPORE, overrides={key: c for key in SALT_KEYS})
        result = femflux.solve(case)
        result.save(scratch / f"{k:04d}")
        conductance = -result.summary["boundaries"]["top"]["current"] / VOLTAGE
        print(f"  serial point {k}: {time.perf_counter() - t:6.1f} s  "
              f"G = {conductance * 1e9:.4f} nS  {conductance!r}", flush=True)


def speedup(workers: int, scratch: Path, concentrations: list[float]) -> None:
    import csv

    import numpy as np

    print(f"nanopore conductance, {len(concentrations)} points "
          f"({', '.join(f'{c:g}' for c in concentrations)} mM)", flush=True)
    listed = ",".join(repr(c) for c in concentrations)
    cpu0, started = cpu_seconds(), time.perf_counter()
    loop = subprocess.run([sys.executable, __file__, "--serial-loop", str(scratch / "serial"),
                           "--concentrations", listed],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    t_serial, cpu_serial = time.perf_counter() - started, cpu_seconds() - cpu0
    print(loop.stdout, end="")
    serial = [float(line.split()[-1]) for line in loop.stdout.splitlines()]
    values = "[" + ", ".join(repr(c) for c in concentrations) + "]"
    cpu0 = cpu_seconds()
    t_sweep = femflux_sweep(NANOPORE, [f"{key}={values}" for key in SALT_KEYS],
                            scratch / "sweep", "--zip", "--workers", str(workers),
                            "--collect", "boundaries.top.current")
    cpu_sweep = cpu_seconds() - cpu0
    with open(scratch / "sweep" / "sweep.csv") as stream:
        swept = [-float(row["boundaries.top.current"]) / VOLTAGE
                 for row in csv.DictReader(stream)]
    difference = float(np.max(np.abs(np.array(swept) / np.array(serial) - 1)))
    import json

    busy: dict[int, float] = {}
    kept = 0
    for path in sorted((scratch / "sweep" / "records").glob("*.json")):
        record = json.loads(path.read_text())
        busy[record["pid"]] = busy.get(record["pid"], 0.0) + record["wall_time_s"]
        kept += record.get("mesh") == "kept"
    solves = sum(float(line.split()[3]) for line in loop.stdout.splitlines())
    print(f"points' time in the workers {sum(busy.values()):.1f} s (serially {solves:.1f} s: "
          f"x{sum(busy.values()) / solves:.2f} with two solving at once); per worker "
          + ", ".join(f"{t:.1f} s" for t in busy.values())
          + f"; {kept} of {len(concentrations)} points on a worker's kept mesh")
    print(f"serial loop of femflux.solve (python script): {t_serial:6.1f} s  "
          f"(CPU {cpu_serial:.1f} s)")
    print(f"femflux sweep --workers {workers}:                {t_sweep:6.1f} s  "
          f"(CPU of the command and its workers {cpu_sweep:.1f} s)")
    print(f"speed-up {t_serial / t_sweep:.2f}x; conductances agree to {difference:.1e}")


def overhead(scratch: Path, sizes=(20, 420), repeat: int = 3) -> None:
    import femflux

    case = scratch / "slab.toml"
    case.write_text(SLAB)
    n = max(sizes)
    values = [1.0 + k / n for k in range(n)]
    started = time.perf_counter()
    for k, v in enumerate(values):
        result = femflux.solve(femflux.load_case(case, overrides={
            "boundary.xmin.concentration.A": v}))
        result.save(scratch / "serial-slab" / f"{k:04d}")
    per_point_serial = (time.perf_counter() - started) / n
    times = {}
    for size in sizes:  # the best of ``repeat`` (the machine is shared)
        items = "[" + ", ".join(repr(v) for v in values[:size]) + "]"
        runs = []
        for k in range(repeat):
            runs.append(femflux_sweep(case, [f"boundary.xmin.concentration.A={items}"],
                                      scratch / f"slab-{size}-{k}", "--workers", "1"))
        times[size] = min(runs)
    (a, b) = sizes
    slope = (times[b] - times[a]) / (b - a)
    fixed = times[a] - a * slope
    print(f"tiny points: serial load + solve + write {per_point_serial * 1e3:.1f} ms/point")
    for size in sizes:
        print(f"  femflux sweep --workers 1, {size:3d} points: {times[size]:.2f} s")
    print(f"marginal cost {slope * 1e3:.1f} ms/point -> overhead per point "
          f"{(slope - per_point_serial) * 1e3:.1f} ms; fixed cost (Python start, "
          f"LocalCluster, table, graph) {fixed:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["speedup", "overhead"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concentrations", default=",".join(map(repr, CONCENTRATIONS)),
                        help="KCl concentrations of the speed-up sweep, mol/m^3")
    parser.add_argument("--serial-loop", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # femflux first: it makes BLAS single-threaded (as in the sweep's workers) before
    # numpy loads; threaded BLAS on vector-sized work slows a busy machine down
    import femflux  # noqa: F401

    concentrations = [float(c) for c in args.concentrations.split(",")]
    if args.serial_loop:
        serial_loop(Path(args.serial_loop), concentrations)
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench_sweep-"))
    try:
        if args.only in (None, "overhead"):
            overhead(scratch)
        if args.only in (None, "speedup"):
            speedup(args.workers, scratch, concentrations)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
