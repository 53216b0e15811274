"""Benchmark: PFHub benchmark 1a (spinodal decomposition) to t = 1000 (not in CI).

    python benchmarks/bench_cahn_hilliard.py                 # 200 x 200 squares = 80,000 triangles
    python benchmarks/bench_cahn_hilliard.py --cells 100     # a smaller mesh
    python benchmarks/bench_cahn_hilliard.py --reference     # also a fine-step run (rtol / 10)

f = 5 (c - 0.3)^2 (0.7 - c)^2, kappa = 2, M = 5 on a 200 x 200 square with
no-flux boundaries (Jokisaari et al., Comput. Mater. Sci. 126 (2017) 139).
Reported: wall time, steps, Newton iterations, F(0) (published 319.04),
F(100) (FEniCSx peer 130.6), F(1000), the monotonicity of F(t), the mass drift
and, with --reference, the largest relative difference of F(t) from a run
with ten times tighter time-step error control (target <= 0.5 %).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

C0 = ("0.5 + 0.01*(cos(0.105*x)*cos(0.11*y) + (cos(0.13*x)*cos(0.087*y))**2"
      " + cos(0.025*x - 0.15*y)*cos(0.07*x - 0.02*y))")


def bm1a_case(cells: int, t_end: float):
    import femflux

    return femflux.load_case({
        "title": "PFHub BM1a",
        "mesh": {"generate": {"shape": "rectangle", "length": [200.0, 200.0],
                              "cells": [cells, cells]}},
        "model": {"kind": "onsager"},
        "species": [{"name": "c", "initial": C0}],
        "thermo": {"model": "expression", "free_energy": "5*(c - 0.3)**2*(0.7 - c)**2",
                   "gradient_energy": 2.0},
        "transport": {"onsager": [[5.0]]},
        "solver": {"steady": False, "t_end": t_end, "dt": 0.05},
    })


def run(cells: int, t_end: float, rtol: float) -> dict:
    from femflux.simulation import prepare
    from femflux.solver import NewtonOptions, Stats, TimeOptions, solve_transient

    case = bm1a_case(cells, t_end)
    started = time.perf_counter()
    _, model = prepare(case)
    x0 = model.initial_state()
    times, energies, amounts = [0.0], [model.free_energy(x0)], [model.amounts(x0)["c"]]

    def on_step(snap):
        times.append(snap.t)
        energies.append(model.free_energy(snap.x))
        amounts.append(model.amounts(snap.x)["c"])

    stats = Stats()
    options = TimeOptions(t_end=t_end, dt=case.solver.dt, rtol=rtol)
    solve_transient(model, options, NewtonOptions(rtol=1e-8), "auto", on_step, stats)
    wall = time.perf_counter() - started
    F = np.array(energies)
    return {"cells": cells, "triangles": 2 * cells * cells, "rtol": rtol, "wall_s": wall,
            "steps": stats.steps, "rejected": stats.rejected_steps,
            "newton": stats.newton_iterations, "t": times, "F": energies,
            "F0": F[0], "F100": float(np.interp(100.0, times, F)), "F_end": F[-1],
            "max_increase": float(np.max(np.diff(F), initial=0.0)),
            "mass_drift": float(np.max(np.abs(np.array(amounts) / amounts[0] - 1)))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--t-end", type=float, default=1000.0)
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    out = run(args.cells, args.t_end, 1e-3)
    print(f"BM1a {out['triangles']} triangles to t = {args.t_end:g}: {out['wall_s']:.1f} s, "
          f"{out['steps']} steps ({out['rejected']} rejected), {out['newton']} Newton iterations")
    print(f"  F(0) = {out['F0']:.3f} (published 319.04), F(100) = {out['F100']:.2f} "
          f"(FEniCSx 130.6), F({args.t_end:g}) = {out['F_end']:.3f}")
    print(f"  largest increase of F between steps {out['max_increase']:.3g}, "
          f"mass drift {out['mass_drift']:.2e}")
    if args.reference:
        ref = run(args.cells, args.t_end, 1e-4)
        F_ref = np.interp(out["t"], ref["t"], ref["F"])
        deviation = float(np.max(np.abs(np.array(out["F"]) / F_ref - 1)))
        out["reference"] = {k: ref[k] for k in ("wall_s", "steps", "F100", "F_end")}
        out["max_relative_deviation"] = deviation
        print(f"  fine-step run (rtol 1e-4): {ref['wall_s']:.1f} s, {ref['steps']} steps; "
              f"max |F/F_fine - 1| = {100 * deviation:.3f} %")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh)


if __name__ == "__main__":
    main()
