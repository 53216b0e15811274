"""Elasticity assembly speed and a 3D coupled stress-diffusion run (not in CI).

    python benchmarks/bench_stress.py                 # assembly: femflux vs skfem, ~5e4 tets
    python benchmarks/bench_stress.py --cells 30      # 6 * 30^3 = 162000 tets
    python benchmarks/bench_stress.py --coupled 1e5   # two-way coupled closed bent beam, 98k tets
    python benchmarks/bench_stress.py --coupled 1e6   # ... 1.03M tets

Assembly compares femflux's vectorised vector-valued element matrices
(:func:`femflux.fem.elasticity.stiffness_matrices` + a reusable Pattern) with
scikit-fem's stock ``skfem.models.elasticity.linear_elasticity`` form on the
same P1 tetrahedral mesh, and checks that both give the same matrix.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import skfem
from skfem.models.elasticity import lame_parameters, linear_elasticity

import femflux
from femflux.fem import Space
from femflux.fem.elasticity import VectorPattern, lame, stiffness_blocks
from femflux.mesh import FemMesh

E, NU = 200e9, 0.3


def box(cells: int) -> skfem.MeshTet:
    return skfem.MeshTet.init_tensor(*(np.linspace(0, 1, cells + 1),) * 3)


def femflux_assembly(mesh: skfem.MeshTet, repeats: int = 3):
    fem_mesh = FemMesh(mesh, {}, {"domain": np.arange(mesh.nelements)})
    t0 = time.perf_counter()
    space = Space(fem_mesh, 1)
    t_space = time.perf_counter() - t0
    lam, mu = lame(np.full(mesh.nelements, E), np.full(mesh.nelements, NU))
    times = []
    t0 = time.perf_counter()
    pattern = VectorPattern(space.element_dofs, space.n, 3)  # sparsity, once per mesh
    t_pattern = time.perf_counter() - t0
    for _ in range(repeats):
        t0 = time.perf_counter()
        K = pattern.assemble(stiffness_blocks(space.grads, None, 0, lam, mu, space.dx))
        times.append(time.perf_counter() - t0)
    return K, space, t_space + t_pattern, times


def skfem_assembly(mesh: skfem.MeshTet):
    t0 = time.perf_counter()
    basis = skfem.Basis(mesh, skfem.ElementVector(skfem.ElementTetP1()))
    K = linear_elasticity(*lame_parameters(E, NU)).assemble(basis)
    return K, basis, time.perf_counter() - t0


def compare(cells: int) -> None:
    mesh = box(cells)
    nel = mesh.nelements
    K, space, t_space, times = femflux_assembly(mesh)
    Ks, basis, t_sk = skfem_assembly(mesh)
    # skfem interleaves components per node; femflux stores them component-major
    n = space.n
    perm = np.concatenate([basis.nodal_dofs[a] for a in range(3)])
    Ks = Ks[perm][:, perm]
    err = abs(K - Ks).max() / abs(Ks).max()
    best = min(times[1:]) if len(times) > 1 else times[0]
    print(f"mesh: {nel} tets, {3 * n} displacement dofs")
    print(f"skfem linear_elasticity: {t_sk:.2f} s  ({nel / t_sk:,.0f} tets/s)")
    first = times[0] + t_space
    print(f"femflux sparsity + first assembly: {first:.2f} s  ({nel / first:,.0f} tets/s)")
    print(f"femflux element matrices + sum:    {best:.3f} s  ({nel / best:,.0f} tets/s)")
    print(f"speed-up x{t_sk / first:.1f} including the sparsity pattern, x{t_sk / best:.1f} "
          f"per assembly; max relative difference {err:.1e}")


COUPLED = {"1e4": [32, 8, 8], "1e5": [64, 16, 16], "1e6": [140, 35, 35]}  # hexes x 6 tets


def coupled(size: str) -> None:
    """The two-way coupled closed bent beam: a 10 x 1 x 1 mm steel cantilever
    (clamped at xmin, shear traction 20 MPa on xmax) holding 1 mol/m^3 of
    hydrogen (closed: its amount is kept), chemical expansion on; one steady
    fully coupled Newton solve (field-split preconditioned Krylov)."""
    import resource

    cells = COUPLED[size]
    case = femflux.load_case({
        "mesh": {"generate": {"shape": "box", "length": [10e-3, 1e-3, 1e-3], "cells": cells}},
        "model": {"kind": "stress-diffusion", "temperature": 300.0},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "partial_molar_volume": 2e-6}],
        "elasticity": {"youngs_modulus": E, "poisson_ratio": NU, "chemical_expansion": True},
        "boundary": [{"name": "xmin", "displacement": [0.0, 0.0, 0.0]},
                     {"name": "xmax", "traction": [0.0, 0.0, -2e7]}],
        "solver": {"steady": True},
    })
    t0 = time.perf_counter()
    result = femflux.solve(case)
    wall = time.perf_counter() - t0
    s = result.summary
    amount = sum(r["amount"]["H"] for r in s["regions"].values()) / 1e-8  # 1 mol/m^3 x 1e-8 m^3
    print(f"coupled 3D {size}: {result.mesh.mesh.nelements} tets, {s['dofs']} dofs, "
          f"{s['newton_iterations']} Newton, {wall:.1f} s, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9:.2f} GB, "
          f"c/c0 in [{result.fields['H'].min():.3f}, {result.fields['H'].max():.3f}], "
          f"amount / initial - 1 = {amount - 1:.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16, help="cells per side of the unit box")
    parser.add_argument("--coupled", choices=sorted(COUPLED), default=None,
                        help="run the coupled 3D benchmark of this size instead")
    args = parser.parse_args()
    if args.coupled:
        coupled(args.coupled)
    else:
        compare(args.cells)


if __name__ == "__main__":
    main()
