"""Benchmark: the conical nanopore of ``cases/conical_nanopore.toml`` at 10x
its mesh density (issue 16), not part of the tests.

The mesh is ``meshes/conical_nanopore.py``'s with every element size (tip,
wall, maximum, per pore radius and the growth rate) divided by sqrt(10):
238,095 triangles, 362,592 unknowns; it is generated once into the folder
given (default: the system's temporary folder).  Each run is its own
process: whole ``femflux.solve`` wall and CPU time, linear-solve CPU time
(SuperLU factorisations or AMG set-up), Newton and GMRES iterations, peak
memory, the current through the bottom boundary.

    python benchmarks/bench_cone.py                          # +1 V: auto, direct, iterative
    python benchmarks/bench_cone.py --volts 2 -2 --linear direct iterative
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from phases import Phases, in_child

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("SIZE_TIP", "SIZE_WALL", "SIZE_MAX", "SIZE_PER_RADIUS", "SIZE_GROWTH")


def dense_mesh(folder: Path) -> Path:
    """The 10x mesh (generated unless present)."""
    path = folder / "conical_nanopore_10x.msh"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "meshes"))
        import conical_nanopore as cone

        for name in SIZES:
            setattr(cone, name, getattr(cone, name) / math.sqrt(10))
        cone.OUTPUT = path
        cone.main()
    return path


def run_one(mesh: str, linear: str, volts: float) -> dict:
    import femflux

    with open(ROOT / "cases" / "conical_nanopore.toml", "rb") as f:
        data = tomllib.load(f)
    data.pop("sweep", None)
    data["mesh"]["file"] = mesh
    data["solver"]["linear"] = linear
    for b in data["boundary"]:
        if b["name"] == "top":
            b["potential"] = volts
    case = femflux.load_case(data)
    t0, c0 = time.perf_counter(), time.process_time()
    with Phases() as phases:
        result = femflux.solve(case)
    row = phases.row()
    s = result.summary
    return {"linear": linear, "volts": volts, "wall_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0, "dofs": s["dofs"],
            "newton": s["newton_iterations"], "linear_cpu_s": row["linear_cpu_s"],
            "factor_cpu_s": row["factor_cpu_s"], "amg_setup_cpu_s": row["amg_setup_cpu_s"],
            "krylov": row["krylov"], "current": s["boundaries"]["bottom"]["current"],
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
            "load": os.getloadavg()[0]}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volts", type=float, nargs="+", default=[1.0])
    parser.add_argument("--linear", nargs="+", default=["auto", "direct", "iterative"],
                        choices=["auto", "direct", "iterative"])
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="where the mesh goes")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mesh, linear, volts = args.child
        print(json.dumps(run_one(mesh, linear, float(volts))))
        return
    mesh = str(dense_mesh(Path(args.folder)))
    print("volts linear    | wall (cpu) | linear cpu (LU / AMG set-up) | Newton | GMRES"
          " | peak | load | current (A)")
    for volts in args.volts:
        for linear in args.linear:
            r = in_child(__file__, "--child", mesh, linear, str(volts))
            k = r["krylov"]
            gmres = f"{sum(k)} in {len(k)} solves" if k else "-"
            print(f"{volts:+5.1f} {linear:9} | {r['wall_s']:6.1f} s ({r['cpu_s']:5.1f}) | "
                  f"{r['linear_cpu_s']:5.1f} ({r['factor_cpu_s']:.1f} / "
                  f"{r['amg_setup_cpu_s']:.1f}) | {r['newton']:3d} | {gmres} | "
                  f"{r['peak_rss_gb']:.2f} GB | {r['load']:.1f} | {r['current']:.10e}",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
