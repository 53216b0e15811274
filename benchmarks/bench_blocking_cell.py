"""Benchmark: diffuse-charge dynamics of a blocking cell (Bazant, Thornton &
Ajdari, Phys. Rev. E 70, 021506, 2004; issue 16), not part of the tests.

A 1:1 electrolyte (c0 = 1 mol/m^3, D = 1e-9 m^2/s both ions, eps_r = 78.5,
298.15 K) between two blocking electrodes 2L apart (xmin: phi = 0, xmax:
phi = 10 RT/F from t = 0; no ion flux anywhere), lambda_D / L = 1e-2, solved
to t = 5 L^2/D (500 RC times tau = lambda_D L / D) by adaptive BDF2.  The
problem is 1D in truth: the 2D and 3D meshes are slabs of the same spacing
along x (h = lambda_D / 5 at 1e6 cells), and the double-layer charge per
area q (C/m^2, the ionic charge in the half x > L) is compared with 1D's.
Each size in its own process; one table row per size.

    python benchmarks/bench_blocking_cell.py               # 1d 2d-1e5 3d-1e5
    python benchmarks/bench_blocking_cell.py 2d-1e6 3d-1e6
    python benchmarks/bench_blocking_cell.py --child 3d-1e6 --steps  # one size, live steps
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
from phases import in_child

C0, D, EPS_R, T = 1.0, 1e-9, 78.5, 298.15
SIZES = {  # name: cells along x, y, z (the slab is as wide as its cells)
    "1d": [1000],
    "2d-1e5": [1000, 50],  # 100,000 triangles
    "2d-1e6": [1000, 500],  # 1,000,000
    "3d-1e5": [1000, 4, 4],  # 96,000 tets
    "3d-3e5": [1000, 7, 7],  # 294,000
    "3d-1e6": [1000, 13, 13],  # 1,014,000 tets
}


def lengths():
    """(lambda_D, L) in m."""
    from scipy.constants import R, epsilon_0, physical_constants

    faraday = physical_constants["Faraday constant"][0]
    debye = np.sqrt(epsilon_0 * EPS_R * R * T / (2 * faraday**2 * C0))
    return debye, 100 * debye


def case_dict(cells, linear="auto"):
    from scipy.constants import R, physical_constants

    thermal = R * T / physical_constants["Faraday constant"][0]
    debye, L = lengths()
    h = 2 * L / cells[0]
    shape = {1: "interval", 2: "rectangle", 3: "box"}[len(cells)]
    return {
        "mesh": {"generate": {"shape": shape, "length": [2 * L] + [h * c for c in cells[1:]],
                              "cells": cells}},
        "model": {"kind": "nernst-planck-poisson", "temperature": T},
        "species": [{"name": "P", "charge": 1, "diffusivity": D, "initial": C0},
                    {"name": "M", "charge": -1, "diffusivity": D, "initial": C0}],
        "electrostatics": {"relative_permittivity": EPS_R},
        "boundary": [{"name": "xmin", "potential": 0.0},
                     {"name": "xmax", "potential": 10 * thermal}],
        "solver": {"steady": False, "t_end": 5 * L**2 / D, "dt": 1e-3 * debye * L / D,
                   "adaptive": True, "scheme": "bdf2", "linear": linear},
    }


def half_cell_charge(result, L: float) -> float:
    """F times the ionic charge in x > L per cross-section area (C/m^2),
    from the nodal fields (cell means times cell measures)."""
    from scipy.constants import physical_constants

    mesh = result.mesh.mesh
    p, t = mesh.p, mesh.t
    rho = result.fields["P"] - result.fields["M"]
    dim = p.shape[0]
    corners = p[:, t]  # (dim, dim+1, cells)
    edges = corners[:, 1:, :] - corners[:, :1, :]
    measure = np.abs(np.linalg.det(np.moveaxis(edges, 2, 0))) / np.prod(range(1, dim + 1))
    centre = corners[0].mean(axis=0)
    charge = np.sum((measure * rho[t].mean(axis=0))[centre > L])
    area = np.prod(p[1:].max(axis=1) - p[1:].min(axis=1)) if dim > 1 else 1.0
    return physical_constants["Faraday constant"][0] * charge / area


def _log_steps() -> None:
    """Print every step attempt to stderr as it ends: t, dt, order, Newton
    and Krylov iterations, hierarchy builds, CPU seconds (--steps)."""
    from phases import Phases

    from femflux.linalg import solver
    from femflux.solver import timestep

    phases = Phases().__enter__()  # Krylov iterations and phase times from here on
    built = [0]
    prepare, solve_step = solver.LinearSolver._prepare, timestep._Stepper._solve_step

    def counted(self, *args, **kwargs):
        built[0] += 1
        return prepare(self, *args, **kwargs)

    def logged(self, step, order, commit):
        cpu, newton = time.process_time(), self.stats.newton_iterations
        krylov, built[0] = len(phases.krylov.iterations), 0
        ok = False
        try:
            snap = solve_step(self, step, order, commit)
            ok = True
            return snap
        finally:
            print(f"t {self.history[-1].t:.4e} dt {step:.3e} bdf{order} "
                  f"{'solved' if ok else 'failed'} newton {self.stats.newton_iterations - newton}"
                  f" krylov {phases.krylov.iterations[krylov:]} builds {built[0]} cpu "
                  f"{time.process_time() - cpu:.2f} s", file=sys.stderr, flush=True)

    solver.LinearSolver._prepare, timestep._Stepper._solve_step = counted, logged


def run_one(name: str, linear: str, steps: bool = False) -> dict:
    import femflux

    if steps:
        _log_steps()
    debye, L = lengths()
    case = femflux.load_case(case_dict(SIZES[name], linear))
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = femflux.solve(case)
    wall = time.perf_counter() - t0
    s = result.summary
    return {"case": name, "cells": int(result.mesh.mesh.nelements), "dofs": s["dofs"],
            "steps": s["steps"], "newton": s["newton_iterations"], "time_s": wall,
            "cpu_s": time.process_time() - cpu0,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "load": os.getloadavg()[0], "charge": half_cell_charge(result, L),
            "tau_s": debye * L / D, "t_end_s": 5 * L**2 / D}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"sizes, of {', '.join(SIZES)}")
    parser.add_argument("--linear", default="auto", choices=["auto", "direct", "iterative"])
    parser.add_argument("--steps", action="store_true",
                        help="with --child: every step attempt on stderr as it ends")
    parser.add_argument("--child", help="run this one size here (no 1D reference row)")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.linear, args.steps)))
        return
    unknown = [n for n in args.names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    names = args.names or ["1d", "2d-1e5", "3d-1e5"]
    reference = None
    print("case      cells     dofs | steps | Newton | per step | total (cpu) | peak | load"
          " | q (C/m^2) | vs 1D")
    for name in (["1d"] if "1d" not in names else []) + names:
        r = in_child(__file__, f"--child={name}", f"--linear={args.linear}")
        if reference is None:
            reference = r
            if name == "1d" and "1d" not in names:
                continue
        print(f"{r['case']:7} {r['cells']:>9} {r['dofs']:>8} | {r['steps']:4d} | {r['newton']:5d} |"
              f" {r['time_s'] / max(r['steps'], 1):6.2f} s | {r['time_s']:7.1f} s "
              f"({r['cpu_s']:6.1f}) | {r['peak_rss_gb']:.2f} GB | {r['load']:.1f} | "
              f"{r['charge']:.5e} | {abs(r['charge'] / reference['charge'] - 1):.1e}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
