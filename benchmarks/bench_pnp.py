"""Benchmark: the PNP benchmark problem (issue 3), not part of the tests.

Binary 1:1 electrolyte (D+ = 1.33e-9, D- = 2.03e-9 m^2/s, 298.15 K,
eps_r = 78.5) in a 100 x 50 x 50 nm box; xmin: c = 10 mol/m^3 and phi = 0;
xmax: c = 1 mol/m^3 and phi = 0.05 V; other faces zero flux; steady.  The
problem is 1D in truth: the xmax fluxes are compared with a fine 1D solution.

    python benchmarks/bench_pnp.py                # all sizes
    python benchmarks/bench_pnp.py 3d-1e5 2d-1e5  # some
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

LENGTHS = [100e-9, 50e-9, 50e-9]
SIZES = {  # name: (shape, cells)
    "1d": ("interval", [2000]),
    "2d-1e4": ("rectangle", [100, 50]),
    "2d-1e5": ("rectangle", [316, 158]),
    "2d-1e6": ("rectangle", [1000, 500]),
    "3d-1e4": ("box", [20, 10, 10]),  # 12,000 tets
    "3d-1e5": ("box", [44, 22, 22]),  # 127,776 tets
    "3d-1e6": ("box", [88, 44, 44]),  # 1,022,208 tets
}


def case_dict(shape, cells):
    dim = len(cells)
    return {
        "mesh": {"generate": {"shape": shape, "length": LENGTHS[:dim], "cells": cells}},
        "model": {"kind": "nernst-planck-poisson", "temperature": 298.15},
        "species": [{"name": "P", "charge": 1, "diffusivity": 1.33e-9, "initial": 5.5},
                    {"name": "M", "charge": -1, "diffusivity": 2.03e-9, "initial": 5.5}],
        "electrostatics": {"relative_permittivity": 78.5},
        "boundary": [{"name": "xmin", "potential": 0.0, "concentration": {"P": 10.0, "M": 10.0}},
                     {"name": "xmax", "potential": 0.05, "concentration": {"P": 1.0, "M": 1.0}}],
    }


def run_one(name: str) -> dict:
    import femflux
    from femflux.simulation import solve

    shape, cells = SIZES[name]
    case = femflux.load_case(case_dict(shape, cells))
    t0 = time.perf_counter()
    result = solve(case)
    wall = time.perf_counter() - t0
    s = result.summary
    area = 1.0
    for length in LENGTHS[1:len(cells)]:
        area *= length
    flux = {k: v / area for k, v in s["boundaries"]["xmax"]["flux"].items()}  # per m^2
    return {"case": name, "cells": int(result.mesh.mesh.nelements), "dofs": s["dofs"],
            "newton": s["newton_iterations"], "time_s": wall,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "flux_P": flux["P"], "flux_M": flux["M"]}


def main(names: list[str]) -> None:
    if len(names) == 1 and names[0].startswith("--child="):
        print(json.dumps(run_one(names[0].split("=", 1)[1])))
        return
    reference = None
    for name in ["1d"] + [n for n in (names or list(SIZES)) if n != "1d"]:
        out = subprocess.run([sys.executable, __file__, f"--child={name}"], check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if reference is None:
            reference = r
        err = max(abs(r[f"flux_{k}"] / reference[f"flux_{k}"] - 1) for k in ("P", "M"))
        print(f"{r['case']:7} {r['cells']:>9} cells {r['dofs']:>8} dofs | {r['time_s']:6.2f} s"
              f" | {r['newton']:2d} Newton | peak {r['peak_rss_gb']:.2f} GB"
              f" | J+ {r['flux_P']:.5e} J- {r['flux_M']:.5e} mol/m^2/s | vs 1D {err:.1e}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
