"""Benchmark: the PNP benchmark problem (PNP-BENCH, issues 3 and 16), not part
of the tests.

Binary 1:1 electrolyte (D+ = 1.33e-9, D- = 2.03e-9 m^2/s, 298.15 K,
eps_r = 78.5) in a 100 x 50 x 50 nm box (100 x 50 nm rectangle in 2D);
xmin: c = 10 mol/m^3 and phi = 0; xmax: c = 1 mol/m^3 and phi = 0.05 V;
other faces zero flux; steady.  The problem is 1D in truth: the xmax fluxes
are compared with a fine 1D solution.  Each size runs in its own process;
one table row per size: whole ``femflux.solve`` wall time, its phases
(set-up = mesh and model; linear = SuperLU factorisations or AMG set-up plus
Krylov), Newton and Krylov iterations, peak memory, the machine's load.

    python benchmarks/bench_pnp.py                     # all sizes
    python benchmarks/bench_pnp.py 2d-1e6 3d-1e6       # some
    python benchmarks/bench_pnp.py 2d-1e5 --linear direct
    python benchmarks/bench_pnp.py 2d-1e6 --write      # results folder written too
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

from phases import Phases, in_child

LENGTHS = [100e-9, 50e-9, 50e-9]
SIZES = {  # name: (shape, cells)
    "1d": ("interval", [2000]),
    "2d-1e4": ("rectangle", [100, 50]),  # 10,000 triangles
    "2d-1e5": ("rectangle", [316, 158]),  # 99,856
    "2d-1e6": ("rectangle", [1000, 500]),  # 1,000,000
    "3d-1e4": ("box", [20, 10, 10]),  # 12,000 tets
    "3d-1e5": ("box", [44, 22, 22]),  # 127,776 tets
    "3d-1e6": ("box", [88, 44, 44]),  # 1,022,208 tets
    "3d-4e6": ("box", [140, 70, 70]),  # 4,116,000 tets (MPI: bench_mpi.py)
    "3d-6e6": ("box", [160, 80, 80]),  # 6,144,000 tets (MPI: bench_mpi.py)
    "3d-7e6": ("box", [168, 84, 84]),  # 7,112,448 tets (MPI: bench_mpi.py)
    "3d-8e6": ("box", [176, 88, 88]),  # 8,177,664 tets (MPI: bench_mpi.py)
}


def case_dict(shape, cells, linear="auto"):
    dim = len(cells)
    return {
        "mesh": {"generate": {"shape": shape, "length": LENGTHS[:dim], "cells": cells}},
        "model": {"kind": "nernst-planck-poisson", "temperature": 298.15},
        "species": [{"name": "P", "charge": 1, "diffusivity": 1.33e-9, "initial": 5.5},
                    {"name": "M", "charge": -1, "diffusivity": 2.03e-9, "initial": 5.5}],
        "electrostatics": {"relative_permittivity": 78.5},
        "boundary": [{"name": "xmin", "potential": 0.0, "concentration": {"P": 10.0, "M": 10.0}},
                     {"name": "xmax", "potential": 0.05, "concentration": {"P": 1.0, "M": 1.0}}],
        "solver": {"linear": linear},
    }


def run_one(name: str, linear: str, write: bool) -> dict:

    import femflux

    shape, cells = SIZES[name]
    case = femflux.load_case(case_dict(shape, cells, linear))
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    with Phases() as phases:
        result = femflux.solve(case)
    wall = time.perf_counter() - t0
    output = 0.0
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            t1 = time.perf_counter()
            result.save(os.path.join(tmp, "pnp"))
            output = time.perf_counter() - t1
    s = result.summary
    area = 1.0
    for length in LENGTHS[1:len(cells)]:
        area *= length
    flux = {k: v / area for k, v in s["boundaries"]["xmax"]["flux"].items()}  # per m^2
    return {"case": name, "cells": int(result.mesh.mesh.nelements), "dofs": s["dofs"],
            "newton": s["newton_iterations"], "time_s": wall,
            "cpu_s": time.process_time() - cpu0, "output_s": output, **phases.row(),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "load": os.getloadavg()[0], "flux_P": flux["P"], "flux_M": flux["M"]}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"sizes, of {', '.join(SIZES)}")
    parser.add_argument("--linear", default="auto", choices=["auto", "direct", "iterative"])
    parser.add_argument("--write", action="store_true", help="also write the results folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.linear, args.write)))
        return
    unknown = [n for n in args.names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    reference = None
    print("case      cells     dofs | wall (cpu) | set-up assembly linear (AMG set-up/LU)"
          " other output | the same in CPU s | Newton | Krylov per Newton | peak | load"
          " | fluxes vs 1D")
    for name in ["1d"] + [n for n in (args.names or list(SIZES)) if n != "1d"]:
        extra = ["--write"] if args.write else []
        r = in_child(__file__, f"--child={name}", f"--linear={args.linear}", *extra)
        if reference is None:
            reference = r
            if name == "1d" and "1d" not in args.names:
                continue
        err = max(abs(r[f"flux_{k}"] / reference[f"flux_{k}"] - 1) for k in ("P", "M"))
        krylov = ",".join(str(k) for k in r["krylov"]) or "-"
        print(f"{r['case']:7} {r['cells']:>9} {r['dofs']:>8} | {r['time_s']:6.1f} s "
              f"({r['cpu_s']:5.1f}) | {r['setup_s']:5.1f} {r['assembly_s']:5.1f} "
              f"{r['linear_s']:6.1f} ({r['amg_setup_s']:.1f}/{r['factor_s']:.1f}) "
              f"{r['other_s']:5.1f} {r['output_s']:5.1f} | cpu {r['setup_cpu_s']:5.1f} "
              f"{r['assembly_cpu_s']:5.1f} {r['linear_cpu_s']:6.1f} "
              f"({r['amg_setup_cpu_s']:.1f}/{r['factor_cpu_s']:.1f}) {r['other_cpu_s']:5.1f} | "
              f"{r['newton']:2d} | {krylov} | "
              f"{r['peak_rss_gb']:.2f} GB | {r['load']:.1f} | {err:.1e}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
