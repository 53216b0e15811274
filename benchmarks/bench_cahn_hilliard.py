"""Benchmark: Cahn-Hilliard spinodal decomposition, PFHub benchmark 1a and 3D (not in CI).

    python benchmarks/bench_cahn_hilliard.py                  # every size, a table
    python benchmarks/bench_cahn_hilliard.py --only bm1a-80k  # one of them
    python benchmarks/bench_cahn_hilliard.py --reference      # BM1a 80k: also a fine-step run
                                                              # (time_rtol 1e-5), stored in
                                                              # bm1a_reference.json

PFHub BM1a (Jokisaari et al., Comput. Mater. Sci. 126 (2017) 139):
f = 5 (c - 0.3)^2 (0.7 - c)^2, kappa = 2, M = 5 on a 200 x 200 square with
no-flux walls, cases/spinodal_bm1a.toml as it is (adaptive BDF2, default
time_rtol) but for the mesh and the end time.  Sizes, each in its own process:

- bm1a-80k: 200 x 200 squares = 80,000 triangles, to t = 1000, and 5 steps at
  fixed dt = 1 (as the peer figure);
- bm1a-1e5: 224 x 224 squares = 100,352 triangles, to t = 1000;
- bm1a-1e6: 707 x 707 squares = 999,698 triangles, to t = 1000, and 5 steps
  at fixed dt = 1;
- 3d-1e6: the same material in a 55^3 box (h = 1) of 998,250 tetrahedra with
  a 3D analogue of the BM1a initial condition, 5 steps at fixed dt = 1 from
  t = 0 (the peer measure: FEniCSx ~1.7 s per step at dt = 1 on BM1a 80k).

Reported per size: cells, unknowns, steps, wall time per step (the
stepping time over the steps; the first step of an adaptive run is checked
by step doubling), total wall time (mesh, set-up and stepping, as
``femflux.solve`` without writing results) and CPU time, peak memory of the
process, F at a few times.  For BM1a 80k also the largest relative deviation
of F(t) at every step from the fine-step reference
(benchmarks/bm1a_reference.json, made by --reference; target 0.5 %).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "cases"
REFERENCE = HERE / "bm1a_reference.json"
C0_3D = ("0.5 + 0.01*(cos(0.105*x)*cos(0.11*y)*cos(0.12*z)"
         " + (cos(0.13*x)*cos(0.087*y)*cos(0.09*z))**2"
         " + cos(0.025*x - 0.15*y + 0.07*z)*cos(0.07*x - 0.02*y - 0.11*z))")

SIZES = {  # name: (dimension, cells per side, end time of the adaptive run, fixed dt = 1 steps)
    "bm1a-80k": (2, 200, 1000.0, 5),
    "bm1a-1e5": (2, 224, 1000.0, 0),
    "bm1a-1e6": (2, 707, 1000.0, 5),
    "3d-1e6": (3, 55, 0.0, 5),
}


def make_case(dim: int, cells: int, t_end: float, fixed_dt: float | None = None,
              time_rtol: float | None = None):
    import femflux

    overrides = {"solver.t_end": t_end, "output.times": [], "output.every": 10**9}
    if dim == 2:
        overrides["mesh.generate"] = {"shape": "rectangle", "length": [200.0, 200.0],
                                      "cells": [cells, cells]}
    else:
        overrides["mesh.generate"] = {"shape": "box", "length": [float(cells)] * 3,
                                      "cells": [cells] * 3}
        overrides["species.c.initial"] = C0_3D
    if fixed_dt is not None:
        overrides.update({"solver.adaptive": False, "solver.dt": fixed_dt})
    if time_rtol is not None:
        overrides["solver.time_rtol"] = time_rtol
    return femflux.load_case(CASES / "spinodal_bm1a.toml", overrides=overrides)


def run_one(dim: int, cells: int, t_end: float, fixed_dt: float | None = None,
            time_rtol: float | None = None) -> dict:
    """One run in this process: the case's mesh and model (set-up), then the
    time stepping as ``femflux.solve`` does it (steps timed one by one)."""
    from femflux.simulation import prepare
    from femflux.solver import NewtonOptions, Stats, TimeOptions, solve_transient

    case = make_case(dim, cells, t_end, fixed_dt, time_rtol)
    s = case.solver
    started, cpu_started = time.perf_counter(), time.process_time()
    _, model = prepare(case)
    x0 = model.initial_state()
    setup = time.perf_counter() - started
    t, F, mass = [0.0], [model.free_energy(x0)], [model.amounts(x0)["c"]]
    step_times, last = [], [time.perf_counter()]

    def on_step(snap):
        now = time.perf_counter()
        step_times.append(now - last[0])
        t.append(snap.t)
        F.append(model.free_energy(snap.x))
        mass.append(model.amounts(snap.x)["c"])
        last[0] = time.perf_counter()  # F and the amount are not counted

    stats = Stats()
    options = TimeOptions(t_end=s.t_end, dt=s.dt, scheme=s.scheme, adaptive=s.adaptive,
                          rtol=s.time_rtol)
    solve_transient(model, options, NewtonOptions(rtol=s.newton_rtol, atol=s.newton_atol,
                                                  max_iterations=s.max_newton),
                    s.linear, on_step, stats)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stepping = float(np.sum(step_times))
    return {"dim": dim, "cells": int(model.fem_mesh.mesh.nelements), "dofs": int(model.n),
            "t_end": t_end, "fixed_dt": fixed_dt, "steps": stats.steps,
            "rejected": stats.rejected_steps, "newton": stats.newton_iterations,
            "factorisations": stats.linear_solves, "krylov": stats.krylov_iterations,
            "setup_s": setup, "stepping_s": stepping, "wall_s": wall, "cpu_s": cpu,
            "per_step_s": stepping / max(stats.steps, 1),
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "t": t, "F": F, "step_s": step_times, "monotone": bool(np.all(np.diff(F) < 0)),
            "mass_drift": float(np.ptp(mass) / mass[0])}


def in_process(args: list[str]) -> dict:
    """Run this script with ``args`` in a fresh process; its JSON result."""
    out = subprocess.run([sys.executable, __file__, *args, "--json", "-"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def deviation_from_reference(t, F) -> tuple[float, float] | None:
    """Largest |F/F_fine - 1| over the steps, and where."""
    if not REFERENCE.exists():
        return None
    ref = json.loads(REFERENCE.read_text())
    t, F = np.asarray(t), np.asarray(F)
    keep = t <= ref["t"][-1] * (1 + 1e-12)
    dev = np.abs(F[keep] / np.interp(t[keep], ref["t"], ref["F"]) - 1)
    k = int(np.argmax(dev))
    return float(dev[k]), float(t[keep][k])


def f_at(run: dict, when: float) -> str:
    if when > run["t"][-1] * (1 + 1e-12):
        return "-"
    return f"{np.interp(when, run['t'], run['F']):.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SIZES), action="append")
    parser.add_argument("--reference", action="store_true",
                        help="BM1a 80k with time_rtol 1e-5, written to bm1a_reference.json")
    parser.add_argument("--one", nargs=4, metavar=("DIM", "CELLS", "T_END", "FIXED_DT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--time-rtol", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        dim, cells, t_end, fixed = args.one
        fixed_dt = float(fixed) if float(fixed) > 0 else None
        out = run_one(int(dim), int(cells), float(t_end), fixed_dt, args.time_rtol)
        print(json.dumps(out))
        return

    if args.reference:
        ref = in_process(["--one", "2", "200", "1000", "0", "--time-rtol", "1e-5"])
        keep = {"t": [round(t, 6) for t in ref["t"]], "F": [round(F, 6) for F in ref["F"]],
                "note": "BM1a 80,000 triangles, adaptive BDF2, time_rtol 1e-5, "
                        f"{ref['steps']} steps"}
        REFERENCE.write_text(json.dumps(keep) + "\n")
        print(f"fine-step reference: {ref['steps']} steps, {ref['wall_s']:.0f} s -> {REFERENCE}")

    rows = []
    for name in args.only or list(SIZES):
        dim, cells, t_end, fixed_steps = SIZES[name]
        runs = []
        if t_end > 0:
            runs.append(("adaptive", in_process(["--one", str(dim), str(cells), str(t_end), "0"])))
        if fixed_steps:
            runs.append(("dt = 1", in_process(["--one", str(dim), str(cells),
                                               str(float(fixed_steps)), "1.0"])))
        for mode, run in runs:
            rows.append((name, mode, run))
            line = (f"{name:9s} {mode:8s} {run['cells']:>9,d} cells {run['dofs']:>9,d} dofs "
                    f"{run['steps']:4d} steps to t = {run['t'][-1]:g}: "
                    f"{run['per_step_s']:.2f} s/step, {run['wall_s']:.1f} s "
                    f"(CPU {run['cpu_s']:.1f} s), "
                    f"{run['peak_gb']:.2f} GB; F(0) = {run['F'][0]:.3f}, "
                    f"F(100) = {f_at(run, 100.0)}, F(end) = {run['F'][-1]:.3f}; "
                    f"monotone {run['monotone']}, mass drift {run['mass_drift']:.1e}")
            if name == "bm1a-80k" and mode == "adaptive":
                dev = deviation_from_reference(run["t"], run["F"])
                if dev is not None:
                    line += f"; max |F/F_fine - 1| = {100 * dev[0]:.3f} % (t = {dev[1]:.1f})"
            print(line, flush=True)

    print("\n| case | cells | unknowns | steps | time per step | total | peak memory "
          "| F(0) | F(100) | F(1000) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, mode, run in rows:
        print(f"| {name} ({mode}, to t = {run['t'][-1]:g}) | {run['cells']:,} | {run['dofs']:,} "
              f"| {run['steps']} | {run['per_step_s']:.2f} s | {run['wall_s']:.0f} s "
              f"| {run['peak_gb']:.2f} GB | {run['F'][0]:.2f} | {f_at(run, 100.0)} "
              f"| {f_at(run, 1000.0)} |")


if __name__ == "__main__":
    main()
