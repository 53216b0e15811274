"""Distributed linear solves on PETSc: each rank hands over its rows (CSR,
global columns); PETSc's KSP solves.

- ``direct``: MUMPS LU (``-pc_factor_mat_solver_type mumps``), the
  parallel counterpart of the serial SuperLU;
- ``iterative``: GMRES(50), right-preconditioned (its tolerance is on the
  true residual), by hypre BoomerAMG for one unknown per node (the
  counterpart of the serial pyamg solves of large 3D systems); for
  nernst-planck-poisson with Poisson by the field split of
  :mod:`.fieldsplit` (c_1 .. c_n, phi; a BoomerAMG V-cycle per block, block
  Gauss-Seidel: PNP-BENCH 13-14 Krylov iterations a Newton iteration at 1e4,
  1e5 and 1e6 tets), kept across Newton iterations while it works; by
  additive Schwarz (overlap 1) with ILU(1) blocks for the other coupled
  systems (species coupled by reactions, electroneutral models; BoomerAMG
  and GAMG on the whole coupled matrix do not converge, and Schwarz's
  iterations grow with the mesh: 20, 40, 85 a Newton iteration on PNP-BENCH).

``auto`` picks MUMPS in 1D and 2D and for 3D systems up to 20,000
unknowns, else GMRES (as the serial solver picks SuperLU or Krylov; at
71,415 unknowns MUMPS took 13.1 s of CPU, the field split 0.6 s).  PETSc
options in ``PETSC_OPTIONS`` refine the choice (the KSP reads them last;
``-pc_type asm`` brings Schwarz back for nernst-planck-poisson).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..errors import NewtonFailure
from .fieldsplit import set_up, splits

#: largest 3D system ``linear = "auto"`` solves with MUMPS
AUTO_DIRECT_3D = 20_000


def choose(method: str, N: int, dim: int) -> str:
    if method in ("direct", "iterative"):
        return method
    return "direct" if dim <= 2 or N <= AUTO_DIRECT_3D else "iterative"


class PetscLinearSolver:
    """KSP solves of A y = b on the owned rows; ``resolve`` repeats the last
    operator (its factorisation or preconditioner) on a new right-hand side."""

    def __init__(self, comm, method: str, block_size: int = 1, coupled: bool = False,
                 splits=None):
        self.comm, self.method, self.block_size = comm, method, block_size
        self.coupled = coupled
        self.splits = splits  # (name, owned global numbers) of a field split, or None
        self.ksp = None
        self.A = None
        self.iterations = 0
        self.seconds = [0.0, 0.0]  # wall and this process's CPU time in KSP set-up and solves
        self._fresh = None  # Krylov iterations of the last fresh field-split set-up
        self._pattern = None  # the rowplan.Kept entries self.A has
        self.configure = None  # configure(ksp): a model's preconditioner set-up, or None

    @classmethod
    def for_system(cls, system, method: str) -> PetscLinearSolver:
        """The solver of a :class:`DistributedSystem`'s Newton matrices: with
        ``iterative``, the field split of its Poisson-coupled fields if it has one."""
        plain = method == "iterative" and getattr(system.model, "elastic", None) is None
        named = splits(system) if plain and system.coupled else None  # elasticity: its own
        return cls(system.comm, method, system.numbering.block_size, system.coupled, named)

    @property
    def preconditioner(self) -> str:
        """What preconditions the solves: mumps, fieldsplit, asm or boomeramg."""
        if self.method == "direct":
            return "mumps"
        if self.splits is not None or self.configure is not None:
            return "fieldsplit"
        return "asm" if self.coupled else "boomeramg"

    def operator(self, A, N: int) -> None:
        """Make ``A`` (this rank's rows: :class:`RowsCSR` or scipy CSR with global
        columns) the operator of the next solves.  Rows of the pattern of the
        current matrix refill it in place, in local numbering (no second
        matrix); else a new one (with the local-to-global maps of the pattern)."""
        from petsc4py import PETSc

        if not isinstance(A, RowsCSR):
            A = RowsCSR.from_scipy(A, N)
        same = A.pattern is not None and self.A is not None and A.pattern is self._pattern
        if self.comm.allreduce(not same, op=_max()) == 0:  # all ranks refill, or none
            self.A.setValuesLocalCSR(A.indptr, A.cols, A.data)
            self.A.assemble()
            return
        old, self.A = self.A, None
        n = len(A.indptr) - 1
        plan = A.pattern
        cols = A.cols if plan is None else plan.l2g[A.cols].astype(PETSc.IntType)
        M = PETSc.Mat().createAIJ(size=((n, N), (n, N)), comm=self.comm, bsize=self.block_size,
                                  csr=(A.indptr, cols, A.data))
        cols = None
        M.assemble()
        M.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATION_ERR, True)
        if plan is not None:  # rows and columns of the plan's local numbering
            rows = PETSc.LGMap().create(np.arange(plan.start, plan.start + n,
                                                  dtype=PETSc.IntType), comm=PETSc.COMM_SELF)
            columns = PETSc.LGMap().create(plan.l2g.astype(PETSc.IntType),
                                           comm=PETSc.COMM_SELF)
            M.setLGMap(rows, columns)
            rows.destroy()
            columns.destroy()
        self.A, self._pattern = M, plan
        if self.ksp is None:  # one KSP (and its vectors) for all solves: set-up is collective
            self.ksp = self._ksp()
            self._rhs, self._y = self.A.createVecLeft(), self.A.createVecRight()
        self.ksp.setOperators(self.A)
        if old is not None:
            old.destroy()

    def _ksp(self):
        from petsc4py import PETSc

        ksp = PETSc.KSP().create(comm=self.comm)
        pc = ksp.getPC()
        if self.method == "direct":
            ksp.setType("preonly")
            pc.setType("lu")
            pc.setFactorSolverType("mumps")
        else:
            ksp.setType("gmres")
            ksp.setGMRESRestart(50)
            ksp.setPCSide(PETSc.PC.Side.RIGHT)  # rtol on the true residual, as Newton needs
            if self.splits is not None:
                set_up(pc, self.comm, self.splits)
            elif self.coupled:  # several unknowns a node: AMG as set up here does not converge
                pc.setType("asm")
                pc.setASMOverlap(1)
                opts = PETSc.Options()
                for key, value in (("sub_pc_type", "ilu"), ("sub_pc_factor_levels", 1)):
                    if not opts.hasName(key):
                        opts.setValue(key, value)
            else:
                pc.setType("hypre")
                pc.setHYPREType("boomeramg")
        self.configure and self.configure(ksp)  # a model's own split (parallel/elastic.py)
        ksp.setFromOptions()  # PETSC_OPTIONS may refine the choice (-mat_mumps_icntl_7 ...)
        return ksp

    def solve(self, A, N: int, b: np.ndarray, rtol: float) -> np.ndarray:
        """y with A y = b (A: this rank's rows; None: those given to
        :meth:`operator`); the operator is kept for :meth:`resolve`."""
        if A is not None:
            self.operator(A, N)
            A = None
        # the field split's hierarchies are kept across Newton iterations (as the
        # serial AMG's) while they do: rebuilt when a solve fails or needs more
        # than twice the iterations (and 20) of the last fresh set-up
        pc = self.ksp.getPC()
        reuse = (self.splits is not None and pc.getType() == "fieldsplit"  # PETSC_OPTIONS may
                 and self._fresh is not None)                             # have changed it
        pc.setReusePreconditioner(reuse)
        try:
            y = self._run(b, rtol)
        except NewtonFailure:
            if not reuse:
                raise
            pc.setReusePreconditioner(False)  # a fresh set-up on the same matrix
            y, reuse = self._run(b, rtol), False
        used = self.ksp.getIterationNumber()
        if not reuse:
            self._fresh = used
        elif used > max(2 * self._fresh, 20):
            self._fresh = None
        return y

    def resolve(self, b: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
        return self._run(b, rtol, check=False)

    def _run(self, b, rtol, check=True) -> np.ndarray:
        if self.method != "direct":
            self.ksp.setTolerances(rtol=rtol, atol=0.0, max_it=500)
        self._rhs.array[:] = b
        wall, cpu = time.perf_counter(), time.process_time()
        self.ksp.solve(self._rhs, self._y)  # the preconditioner's set-up included
        self.seconds[0] += time.perf_counter() - wall
        self.seconds[1] += time.process_time() - cpu
        reason = self.ksp.getConvergedReason()
        self.iterations += self.ksp.getIterationNumber()
        out = self._y.array.copy()
        if check:
            bad = reason < 0 or not np.all(np.isfinite(out))
            if self.comm.allreduce(bool(bad), op=_max()):
                raise NewtonFailure(f"the linear solve failed (PETSc KSP reason {reason})")
        return out

    def release(self) -> None:
        for obj in (self.ksp, self.A, getattr(self, "_rhs", None), getattr(self, "_y", None)):
            if obj is not None:
                obj.destroy()
        self.ksp = self.A = self._rhs = self._y = None


def petsc_int():
    """PETSc's index type (numpy int32 or int64)."""
    from petsc4py import PETSc

    return PETSc.IntType


class RowsCSR:
    """A rank's rows of a distributed matrix, CSR (PETSc's index type), and
    their ``pattern``: None, the columns are global; or the
    :class:`~.rowplan.Kept` entries of the rows of a RowPlan (the same object
    for the same entries), the columns are the model's local unknowns (global:
    ``pattern.l2g[cols]``; owned row i is global ``pattern.start + i``)."""

    def __init__(self, indptr, cols, data, shape, pattern=None):
        self.indptr, self.cols, self.data, self.shape = indptr, cols, data, shape
        self.pattern = pattern

    @classmethod
    def from_scipy(cls, A: sp.spmatrix, N: int | None = None) -> RowsCSR:
        A = sp.csr_matrix(A)
        A.sort_indices()
        index = petsc_int()
        return cls(A.indptr.astype(index), A.indices.astype(index), A.data,
                   (A.shape[0], A.shape[1] if N is None else N))


def _max():
    from mpi4py import MPI

    return MPI.MAX
