"""Elasticity (stress-diffusion) on N ranks: the rigid-body check of the whole
body, the initial mechanical equilibrium, and the displacement block of the
iterative Newton solves.

The mechanical rows (:class:`~femflux.physics.fields.elastic.Elasticity`)
are linear: ``A_u x + b_u = 0`` (div sigma = 0, sigma in Pa, u in m) and the
lumped projection ``w_k sigma_h,k = -(A_sh x + b_sh)_k`` (sigma_h in Pa).

- :func:`check_rigid`: the rigid-body modes (translations, rotations) left
  free by the displacement conditions of the *whole* body (a submesh away
  from the clamped boundary would see a free body).  A free body (serial:
  bordered zero-mean multipliers, SPEC 4.0) is refused with an exit-2 error
  naming the modes; otherwise the ranks' models drop their local borders.
- :func:`equilibrium`: the distributed counterpart of
  :func:`~femflux.solver.consistent_initial_state`: K u = f on the owned
  displacement rows (prescribed rows and columns eliminated symmetrically),
  solved by MUMPS (``direct``) or CG with GAMG and the rigid-body
  near-nullspace (``iterative``, ``PETSc.NullSpace().createRigidBody``);
  then sigma_h from its projection rows.
- :func:`split`: the field split of Newton's iterative solves (GMRES):
  multiplicative, the displacement first (GAMG with the rigid-body
  near-nullspace), then sigma_h (Jacobi: a diagonal block), then the species
  (block Jacobi / ILU) -- the serial order, exact for one-way coupling.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import CaseError, SolverError
from ..fem import elasticity as fem_el

_MODE_NAMES = {1: ("x translation",),
               2: ("x translation", "y translation", "rotation about z"),
               3: ("x translation", "y translation", "z translation", "rotation about z",
                   "rotation about x", "rotation about y")}


def prepare(model, comm) -> None:
    """The rank's elasticity made that of the whole body (collective): the
    rigid-body check (:func:`check_rigid`) and Newton's scales of sigma_h
    and u from the whole body (its diagonal, the largest load, prescribed
    displacement and chemical stress over all ranks), as in the serial run
    (the time-error norm weighs every unknown by them)."""
    from mpi4py import MPI

    from .system import body_diagonal

    check_rigid(model, comm)
    el = model.elastic
    size = body_diagonal(model, comm)
    sigma = comm.allreduce(el._stress_scale(size, fallback=False), op=MPI.MAX)
    if sigma <= 0:
        sigma = 1e-6 * float(el.E_region.max())
    el.scales(model.x_scale, model.r_scale, sigma, size)


def check_rigid(model, comm) -> None:
    """Exit 2 when the displacement conditions of the whole body leave a
    rigid-body mode free; else drop every rank's local zero-mean border
    (collective: the prescribed points of all ranks are gathered)."""
    el = model.elastic
    geometry = el.geometry
    k = fem_el.rigid_body_modes(np.zeros((model.dim, 1)), geometry).shape[-1]
    if k == 0:
        el._rigid = None  # 1D cylindrical or spherical: no rigid-body mode
        return
    dofs = [d - el.u_offset for d, _, _ in el._mech_dirichlet]
    dofs = np.unique(np.concatenate(dofs)) if dofs else np.zeros(0, dtype=np.int64)
    component, node = np.divmod(dofs, el.n_u)
    mine = (component, el.u_space.x[:, node])
    everyone = comm.allgather(mine)
    component = np.concatenate([c for c, _ in everyone])
    points = np.hstack([p for _, p in everyone])
    if len(component):
        modes = fem_el.rigid_body_modes(points, geometry)  # (dim, m, k)
        R = modes[component, np.arange(len(component))]  # (m, k)
        _, svals, vt = np.linalg.svd(R, full_matrices=len(R) < k)  # vt: (k, k)
        tol = 1e-8 * max(float(svals.max(initial=0.0)), 1e-300) * max(R.shape)
        free = k - int(np.sum(svals > tol))
        free_modes = vt[k - free:]
    else:
        free, free_modes = k, np.eye(k)
    if free:
        names = _MODE_NAMES[model.dim] if geometry != "axisymmetric" else ("z translation",)
        named = [names[int(np.argmax(np.abs(v)))] for v in free_modes] if k == len(names) \
            else [f"{free} mode(s)"]
        raise CaseError(f"a free elastic body (rigid-body modes no displacement condition "
                        f"fixes: {', '.join(sorted(set(named)))}) is not yet distributed "
                        f"over MPI ranks; add displacement conditions or run this case on "
                        f"one rank (without mpirun)")
    el._rigid = None


class _Displacements:
    """The owned displacement unknowns of a rank as their own PETSc system:
    global numbers (node-major, ``dim`` per node), the local -> global map of
    the model's displacement columns, the owned nodes' coordinates."""

    def __init__(self, system):
        model, num = system.model, system.numbering
        el = model.elastic
        owned = system.owned
        self.rows = np.flatnonzero((owned >= el.u_offset) & (owned < el.u_slice.stop))
        self.n = len(self.rows)
        self.start = num.comm.exscan(self.n) or 0
        self.N = num.comm.allreduce(self.n)
        index = np.zeros(system.n)
        index[self.rows] = self.start + np.arange(self.n) + 1
        local = np.rint(system.local(index)).astype(np.int64) - 1
        self.l2g = local[el.u_slice]  # global u number of every local displacement dof
        self.local_rows = owned[self.rows] - el.u_offset
        self.dim = model.dim
        nodes = self.local_rows[::self.dim] % el.n_u
        self.coordinates = np.ascontiguousarray(el.u_space.x[:, nodes].T)  # (n / dim, dim)

    def nullspace(self, comm):
        """The rigid-body modes of the owned nodes (orthonormal; PETSc's)."""
        from petsc4py import PETSc

        coords = PETSc.Vec().createMPI((self.coordinates.size, PETSc.DETERMINE),
                                       bsize=self.dim, comm=comm)
        coords.getArray()[:] = self.coordinates.ravel()
        return PETSc.NullSpace().createRigidBody(coords)

    def index_set(self, global_rows: np.ndarray, comm):
        from petsc4py import PETSc

        index = PETSc.IS().createGeneral(global_rows.astype(PETSc.IntType), comm=comm)
        index.setBlockSize(self.dim)
        return index


def equilibrium(system, x0: np.ndarray, method: str) -> np.ndarray:
    """x0 (owned, Dirichlet values set) with u and sigma_h of the mechanical
    equilibrium at t = 0 at fixed species (collective; SolverError if the
    KSP fails)."""
    from petsc4py import PETSc

    model, comm = system.model, system.comm
    el = model.elastic
    disp = _Displacements(system)
    owned = system.owned
    fixed, values = system.dirichlet(0.0)
    prescribed = np.zeros(system.n, dtype=bool)
    prescribed[fixed] = True
    mech = (owned >= el.sh_offset) & (owned < el.u_slice.stop)
    x = x0.copy()
    x[mech & ~prescribed] = 0.0
    xl = system.local(x)
    held = system.local(prescribed.astype(float))[el.u_slice] > 0.5  # local u dofs
    b = el.mech_rhs(0.0)
    n_sh = el.sh_space.n
    rows = disp.local_rows
    rhs = -(el.A_u @ xl + b[n_sh:])[rows]
    K = sp.csr_matrix(el.A_u[:, el.u_slice])[rows]
    K = (K @ sp.diags((~held).astype(float))).tocsr()
    K = (sp.diags((~held[rows]).astype(float)) @ K).tocsr()
    on_diagonal = (np.arange(len(rows)), rows)
    diagonal = np.abs(np.asarray(K[on_diagonal]).ravel()[~held[rows]])
    d = comm.allreduce(float(diagonal.sum())) / max(comm.allreduce(len(diagonal)), 1)
    K = (K + sp.csr_matrix((held[rows] * d, on_diagonal), shape=K.shape)).tocsr()
    rhs[held[rows]] = d * xl[el.u_offset + rows][held[rows]]
    K = sp.csr_matrix((K.data, disp.l2g[K.indices], K.indptr), shape=(disp.n, disp.N))
    K.sort_indices()
    A = PETSc.Mat().createAIJ(size=((disp.n, disp.N), (disp.n, disp.N)), comm=comm,
                              bsize=disp.dim, csr=(K.indptr.astype(PETSc.IntType),
                                                   K.indices.astype(PETSc.IntType), K.data))
    A.assemble()
    ksp = PETSc.KSP().create(comm=comm)
    ksp.setOptionsPrefix("equilibrium_")
    pc = ksp.getPC()
    if method == "direct":
        ksp.setType("preonly")
        pc.setType("lu")
        pc.setFactorSolverType("mumps")
    else:
        A.setOption(PETSc.Mat.Option.SPD, True)
        A.setNearNullSpace(disp.nullspace(comm))
        ksp.setType("cg")
        pc.setType("gamg")
        ksp.setTolerances(rtol=1e-12, atol=0.0, max_it=2000)
    ksp.setOperators(A)
    ksp.setFromOptions()
    f, y = A.createVecLeft(), A.createVecRight()
    f.getArray()[:] = rhs
    ksp.solve(f, y)
    reason, iterations = ksp.getConvergedReason(), ksp.getIterationNumber()
    u = y.getArray().copy()
    for obj in (ksp, A, f, y):
        obj.destroy()
    if comm.allreduce(bool(reason < 0 or not np.all(np.isfinite(u))), op=_max()):
        raise SolverError(f"the mechanical equilibrium at t = 0 s could not be solved: "
                          f"PETSc KSP reason {reason}")
    system.equilibrium_iterations = iterations
    x[disp.rows] = u
    xl = system.local(x)
    sh = -(el.A_sh @ xl + b[:n_sh]) / el.sh_weight
    sh_rows = np.flatnonzero((owned >= el.sh_offset) & (owned < el.u_offset))
    x[sh_rows] = sh[owned[sh_rows] - el.sh_offset]
    x[fixed] = values
    return x


def split(system):
    """A ``configure(ksp)`` for the iterative Newton solves of a model with
    elasticity (None for direct solves or without elasticity): see the
    module docstring."""
    model = system.model
    if model.elastic is None:
        return None
    disp = _Displacements(system)
    el = model.elastic
    owned = system.owned
    start = system.numbering.start
    sh = start + np.flatnonzero((owned >= el.sh_offset) & (owned < el.u_offset))
    rest = np.ones(system.n, dtype=bool)
    rest[disp.rows] = False
    rest[sh - start] = False
    species = start + np.flatnonzero(rest)
    u_rows = start + disp.rows

    def configure(ksp) -> None:
        from petsc4py import PETSc

        comm = system.comm
        if ksp.getType() == "preonly":  # a direct solve: MUMPS as it is
            return
        pc = ksp.getPC()
        pc.setType("fieldsplit")
        pc.setFieldSplitType(PETSc.PC.CompositeType.MULTIPLICATIVE)
        u_is = disp.index_set(u_rows, comm)
        u_is.compose("nearnullspace", disp.nullspace(comm))
        splits = [("u", u_is), ("sigma_h", PETSc.IS().createGeneral(
            sh.astype(PETSc.IntType), comm=comm))]
        if comm.allreduce(len(species)):
            splits.append(("c", PETSc.IS().createGeneral(species.astype(PETSc.IntType),
                                                         comm=comm)))
        pc.setFieldSplitIS(*splits)
        opts = PETSc.Options()
        prefix = ksp.getOptionsPrefix() or ""
        for key, value in (("fieldsplit_u_ksp_type", "preonly"),
                           ("fieldsplit_u_pc_type", "gamg"),
                           ("fieldsplit_sigma_h_ksp_type", "preonly"),
                           ("fieldsplit_sigma_h_pc_type", "jacobi"),
                           ("fieldsplit_c_ksp_type", "preonly"),
                           ("fieldsplit_c_pc_type", "bjacobi")):
            if not opts.hasName(prefix + key):
                opts.setValue(prefix + key, value)

    return configure


def _max():
    from mpi4py import MPI

    return MPI.MAX
