"""Benchmark: steady diffusion on large generated meshes (not part of the tests).

    python benchmarks/bench_diffusion.py            # all sizes
    python benchmarks/bench_diffusion.py 3d-1e6     # one size

Each size runs in its own process so that the peak memory (max RSS) is its
own.  Reported: mesh generation, model set-up (spaces, assembly), solve
(Newton with SuperLU or pyamg-preconditioned CG), post-processing and
writing the results folder, total, peak memory and the xmax flux against the
exact D A dc/L.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

SIZES = {  # name: (shape, cells per direction)
    "3d-1e5": ("box", [26, 26, 26]),  # 105,456 tetrahedra
    "3d-1e6": ("box", [55, 55, 55]),  # 998,250 tetrahedra
    "2d-1e6": ("rectangle", [708, 708]),  # 1,002,528 triangles
}
D, LENGTH = 1e-9, 1e-4


def run_one(name: str) -> dict:
    import femflux
    from femflux.fem import Probes
    from femflux.simulation import _result, prepare
    from femflux.solver import NewtonOptions, Stats, solve_steady

    shape, cells = SIZES[name]
    dim = len(cells)
    case = femflux.load_case({
        "mesh": {"generate": {"shape": shape, "length": [LENGTH] * dim, "cells": cells}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "A", "diffusivity": D}],
        "boundary": [{"name": "xmin", "concentration": {"A": 1.0}},
                     {"name": "xmax", "concentration": {"A": 0.0}}],
    })
    times = {}
    t0 = time.perf_counter()
    from femflux.mesh import load_mesh

    load_mesh(case.mesh)  # timed separately (prepare loads it again)
    times["mesh_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    fem_mesh, model = prepare(case)
    times["setup_s"] = time.perf_counter() - t1 - times["mesh_s"]
    t2 = time.perf_counter()
    stats = Stats()
    snap = solve_steady(model, NewtonOptions(), "auto", stats)
    times["solve_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    probes = Probes(fem_mesh, case.output.probes)
    result = _result(case, model, probes, snap, stats, t3, [], [], converged=True)
    with tempfile.TemporaryDirectory() as tmp:
        result.save(f"{tmp}/out")
    times["output_s"] = time.perf_counter() - t3
    times["total_s"] = time.perf_counter() - t0 - times["mesh_s"]  # one mesh load
    area = LENGTH ** (dim - 1)
    flux = result.summary["boundaries"]["xmax"]["flux"]["A"]
    return {"case": name, "cells": int(fem_mesh.mesh.nelements), "dofs": int(model.n),
            "newton": stats.newton_iterations, **times,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "flux_rel_error": abs(flux / (D * area / LENGTH) - 1)}


def main(names: list[str]) -> None:
    if len(names) == 1 and names[0].startswith("--child="):
        print(json.dumps(run_one(names[0].split("=", 1)[1])))
        return
    rows = []
    for name in names or list(SIZES):
        out = subprocess.run([sys.executable, __file__, f"--child={name}"], check=True,
                             capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{r['case']:8} {r['cells']:>9} cells {r['dofs']:>8} dofs | mesh {r['mesh_s']:5.2f} s"
              f" | setup {r['setup_s']:5.2f} s | solve {r['solve_s']:5.2f} s ({r['newton']} Newton)"
              f" | output {r['output_s']:5.2f} s | total {r['total_s']:5.2f} s"
              f" | peak {r['peak_rss_gb']:.2f} GB | flux error {r['flux_rel_error']:.1e}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
