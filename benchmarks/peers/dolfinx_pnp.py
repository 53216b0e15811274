"""Peer benchmark: steady PNP-BENCH (benchmarks/bench_pnp.py) in FEniCSx /
dolfinx 0.5 (Debian's python3-dolfinx), to run side by side with
``bench_mpi.py``; not part of the tests, not imported by femflux.

The same problem and mesh as bench_pnp.py's 3D sizes: binary 1:1 electrolyte
(D+ = 1.33e-9, D- = 2.03e-9 m^2/s, 298.15 K, eps_r = 78.5) in a
100 x 50 x 50 nm box of n_x x n_y x n_z hexahedra cut into 6 tetrahedra
each (dolfinx's create_box: 1,022,208 tets at 88 x 44 x 44); xmin c = 10
mol/m^3, phi = 0; xmax c = 1 mol/m^3, phi = 0.05 V; other faces zero flux.
P1 for c+, c- and psi = phi / V_T (V_T = RT/F), lengths in nm:

    div(grad c_i + z_i c_i grad psi) = 0                (mol/m^3 / nm^2)
    -lap psi = F^2 / (eps RT) (c_+ - c_-) * 1e-18       (1/nm^2)

Newton: dolfinx's NewtonSolver (residual rtol 1e-10), each linear solve
GMRES right-preconditioned to rtol 1e-8 by PETSc's field split (c+, c-,
psi; multiplicative, a hypre BoomerAMG V-cycle per block with femflux's
options) -- the femflux MPI preconditioner.

    mpirun -n 1 python3 benchmarks/peers/dolfinx_pnp.py 3d-1e5
    mpirun -n 2 python3 benchmarks/peers/dolfinx_pnp.py 3d-1e6

(Debian's /usr/bin/python3, which has dolfinx; the first run of a size
spends extra time compiling the forms, cached in ~/.cache/fenics.)  Prints
one JSON line: wall times (mesh, forms, solve), Newton and Krylov
iterations, peak memory per rank (GB), the xmax fluxes (mol/s).
"""

from __future__ import annotations

import json
import resource
import sys
import time

SIZES = {"3d-1e4": (20, 10, 10), "3d-1e5": (44, 22, 22), "3d-1e6": (88, 44, 44)}
LENGTH_NM = (100.0, 50.0, 50.0)
D = (1.33e-9, 2.03e-9)
Z = (1, -1)
F, R, T, EPS = 96485.33212, 8.314462618, 298.15, 78.5 * 8.8541878128e-12


def main(name: str) -> dict:
    import numpy as np
    import ufl
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import NonlinearProblem
    from dolfinx.nls.petsc import NewtonSolver
    from mpi4py import MPI
    from petsc4py import PETSc

    comm = MPI.COMM_WORLD
    t0 = time.perf_counter()
    domain = mesh.create_box(comm, [np.zeros(3), np.array(LENGTH_NM)], list(SIZES[name]),
                             mesh.CellType.tetrahedron)
    t_mesh = time.perf_counter() - t0
    V = fem.VectorFunctionSpace(domain, ("Lagrange", 1), dim=3)  # (c+, c-, psi) per node
    u, v = fem.Function(V), ufl.TestFunction(V)
    vt = R * T / F
    u.x.array.reshape(-1, 3)[:, :2] = 5.5
    kappa = F * F / (EPS * R * T) * 1e-18  # 1/nm^2 per mol/m^3
    residual = kappa * (u[0] - u[1]) * v[2] * ufl.dx - ufl.inner(
        ufl.grad(u[2]), ufl.grad(v[2])) * ufl.dx
    for i in range(2):
        residual += ufl.inner(ufl.grad(u[i]) + Z[i] * u[i] * ufl.grad(u[2]),
                              ufl.grad(v[i])) * ufl.dx
    x = LENGTH_NM[0]
    bcs = []
    for where, c, phi in ((0.0, 10.0, 0.0), (x, 1.0, 0.05)):
        facets = mesh.locate_entities_boundary(domain, 2, lambda p, w=where: np.isclose(p[0], w))
        for k, value in enumerate((c, c, phi / vt)):
            dofs = fem.locate_dofs_topological(V.sub(k), 2, facets)
            bcs.append(fem.dirichletbc(PETSc.ScalarType(value), dofs, V.sub(k)))
    t1 = time.perf_counter()
    problem = NonlinearProblem(residual, u, bcs)
    solver = NewtonSolver(comm, problem)
    solver.rtol, solver.atol, solver.max_it = 1e-10, 1e-12, 30
    solver.convergence_criterion = "residual"
    ksp = solver.krylov_solver
    opts = PETSc.Options()
    prefix = ksp.getOptionsPrefix() or ""
    # as options: NewtonSolver.solve() reads them again (else MUMPS LU)
    for key, value in (("ksp_type", "gmres"), ("ksp_gmres_restart", 50),
                       ("ksp_pc_side", "right"), ("ksp_rtol", 1e-8), ("ksp_max_it", 500),
                       ("pc_type", "fieldsplit"), ("pc_fieldsplit_type", "multiplicative")):
        opts[f"{prefix}{key}"] = value
    pc = ksp.getPC()
    pc.setType("fieldsplit")
    imap = V.dofmap.index_map
    first, owned = imap.local_range[0], imap.size_local
    sets = []
    for k, split in enumerate(("c0", "c1", "phi")):
        index = (3 * (first + np.arange(owned)) + k).astype(PETSc.IntType)
        sets.append((split, PETSc.IS().createGeneral(index, comm=comm)))
    pc.setFieldSplitIS(*sets)
    for split, _ in sets:
        for key, value in (("ksp_type", "preonly"), ("pc_type", "hypre"),
                           ("pc_hypre_type", "boomeramg"),
                           ("pc_hypre_boomeramg_strong_threshold", 0.5),
                           ("pc_hypre_boomeramg_coarsen_type", "HMIS"),
                           ("pc_hypre_boomeramg_interp_type", "ext+i"),
                           ("pc_hypre_boomeramg_P_max", 4), ("pc_hypre_boomeramg_agg_nl", 1)):
            opts[f"{prefix}fieldsplit_{split}_{key}"] = value
    ksp.setFromOptions()
    krylov = []
    ksp.setMonitor(lambda _k, it, _r: krylov.append(it))
    t_forms = time.perf_counter() - t1
    t2 = time.perf_counter()
    newton, converged = solver.solve(u)
    t_solve = time.perf_counter() - t2
    # xmax fluxes from the residual (as femflux's): the NP form against the P1
    # function that is 1 at the xmax nodes = int (grad c + z c grad psi) . n dA
    facets = mesh.locate_entities_boundary(domain, 2, lambda p: np.isclose(p[0], x))
    flux = {}
    for i, species in enumerate(("P", "M")):  # outward, mol/s (1/nm gradient, nm^2)
        w = fem.Function(V)
        w.x.array[fem.locate_dofs_topological(V.sub(i), 2, facets)] = 1.0
        w.x.scatter_forward()
        form = fem.form(ufl.inner(ufl.grad(u[i]) + Z[i] * u[i] * ufl.grad(u[2]),
                                  ufl.grad(w[i])) * ufl.dx)
        flux[species] = -D[i] * comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM) * 1e-9
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    peaks = comm.allgather(round(peak, 3))
    return {"case": name, "ranks": comm.size, "cells": domain.topology.index_map(3).size_global,
            "dofs": imap.size_global * 3, "converged": bool(converged), "newton": int(newton),
            "krylov": int(sum(1 for it in krylov if it > 0)),
            "mesh_s": round(comm.allreduce(t_mesh, op=MPI.MAX), 2),
            "forms_s": round(comm.allreduce(t_forms, op=MPI.MAX), 2),
            "solve_s": round(comm.allreduce(t_solve, op=MPI.MAX), 2),
            "total_s": round(comm.allreduce(time.perf_counter() - t0, op=MPI.MAX), 2),
            "peak_memory_gb": peaks, "flux_xmax": flux}


if __name__ == "__main__":
    result = main(sys.argv[1] if len(sys.argv) > 1 else "3d-1e5")
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        print(json.dumps(result), flush=True)
