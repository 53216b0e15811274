"""Benchmark: the measurements behind ``linear = "auto"``
(:mod:`femflux.linalg.cost`), not part of the tests.

For PNP-BENCH Jacobians (3 unknowns per node) and scalar diffusion matrices
on generated 2D and 3D meshes, Newton's first scaled matrix is taken from a
real run and solved once by SuperLU and once by the AMG-preconditioned
Krylov solver; CPU seconds (less sensitive to a shared machine than wall
time) beside the cost model's predictions.  Each size in its own process.

    python benchmarks/bench_linear.py                    # the default sizes
    python benchmarks/bench_linear.py pnp:2:316,158 diffusion:3:35,35,35
"""

from __future__ import annotations

import json
import sys
import time

from phases import in_child

DEFAULT = ["pnp:2:100,50", "pnp:2:200,100", "pnp:2:316,158", "pnp:2:400,200",
           "pnp:3:20,10,10", "pnp:3:30,15,15", "pnp:3:44,22,22",
           "diffusion:2:100,100", "diffusion:2:300,300", "diffusion:2:700,700",
           "diffusion:3:15,15,15", "diffusion:3:25,25,25", "diffusion:3:35,35,35"]


class _Captured(Exception):
    pass


def case_dict(kind: str, cells: list[int]) -> dict:
    shape = {2: "rectangle", 3: "box"}[len(cells)]
    if kind == "pnp":
        sys.path.insert(0, __file__.rsplit("/", 1)[0])
        from bench_pnp import case_dict as pnp_case

        return pnp_case(shape, cells, "iterative")
    return {"mesh": {"generate": {"shape": shape, "length": [1.0] * len(cells), "cells": cells}},
            "model": {"kind": "diffusion", "temperature": 298.15},
            "species": [{"name": "A", "diffusivity": 1e-9, "initial": 0.0}],
            "boundary": [{"name": "xmin", "concentration": {"A": 1.0}},
                         {"name": "xmax", "concentration": {"A": 0.0}}],
            "solver": {"linear": "iterative"}}


def run_one(spec: str) -> dict:
    import femflux
    from femflux.linalg import LinearSolver
    from femflux.linalg.direct import _Direct

    kind, dim, cells = spec.split(":")
    cells = [int(c) for c in cells.split(",")]
    seen = {}

    def grab(self, A, b, reuse_key=None, rtol=1e-9):
        seen.update(A=A, b=b, solver=self)
        raise _Captured

    original, LinearSolver.solve = LinearSolver.solve, grab
    try:
        femflux.solve(femflux.load_case(case_dict(kind, cells)))
    except _Captured:
        pass
    LinearSolver.solve = original
    A, b, solver = seen["A"], seen["b"], seen["solver"]
    t0 = time.process_time()
    lu = _Direct(A)
    factor = time.process_time() - t0
    t0 = time.process_time()
    iterative = solver._prepare(A, method="iterative")
    setup = time.process_time() - t0
    t0 = time.process_time()
    iterative.solve(b, 1e-4)
    krylov = time.process_time() - t0
    predicted = solver.cost(A.shape[0], A.nnz)
    return {"spec": spec, "n": A.shape[0], "nnz": int(A.nnz),
            "fill": int(lu.lu.L.nnz + lu.lu.U.nnz), "factor_s": factor, "amg_setup_s": setup,
            "krylov_s": krylov, "iterations": iterative.iterations,
            "model_fill": predicted.fill, "model_direct_s": predicted.direct_s,
            "model_iterative_s": predicted.iterative_s, "auto": predicted.method}


def main(argv: list[str]) -> None:
    if argv and argv[0].startswith("--child="):
        print(json.dumps(run_one(argv[0].split("=", 1)[1])))
        return
    print("matrix                      n        nnz |  LU fill (model) | factor s (model) |"
          " AMG set-up + Krylov s (its) | model iterative s | auto")
    for spec in argv or DEFAULT:
        r = in_child(__file__, f"--child={spec}")
        print(f"{r['spec']:22} {r['n']:>8} {r['nnz']:>10} | {r['fill']:>9.3g} "
              f"({r['model_fill']:.3g}) | {r['factor_s']:7.3f} ({r['model_direct_s']:.3f}) | "
              f"{r['amg_setup_s']:.3f} + {r['krylov_s']:.3f} ({r['iterations']}) | "
              f"{r['model_iterative_s']:.3f} | {r['auto']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
