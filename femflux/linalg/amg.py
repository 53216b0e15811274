"""Algebraic multigrid (pyamg smoothed aggregation) for large 3D systems.

- :class:`_AlgebraicMultigrid`: a hierarchy preconditioning CG (symmetric)
  or GMRES, reused across Newton iterations (new fine matrix, coarse levels
  kept);
- :class:`FixedMultigrid`: the hierarchy of a constant SPD block (e.g. an
  elasticity stiffness) built once, for V-cycles and CG solves;
- :class:`_NodeBlocks`, :func:`node_permutation`: coupled fields aggregated
  node-wise (BSR blocks of the unknowns of one node);
- :func:`_smoothed_aggregation`: the hierarchy and its settings.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from ..errors import NewtonFailure
from ..fem import same_array
from .krylov import _krylov
from .sparse import _shifted, _without_zeros

log = logging.getLogger(__name__)


class _AlgebraicMultigrid:
    """pyamg smoothed aggregation as a preconditioner of CG (symmetric) or GMRES."""

    def __init__(self, A, symmetric: bool, near_nullspace=None, blocks=None, shift=None):
        self.perm = None
        A = _shifted(A, shift)
        M = A
        energy = near_nullspace is not None and symmetric  # elasticity: rigid-body modes
        if blocks is not None:
            # node-wise blocks of coupled fields: aggregate nodes, not unknowns
            self.perm, size = blocks
            self.to_blocks = _NodeBlocks(self.perm, size)
            M = self.to_blocks(A)
            near_nullspace = (np.kron(np.ones((A.shape[0] // size, 1)), np.eye(size))
                              if near_nullspace is None else near_nullspace[self.perm])
        # one copy of the fine matrix, shared by the Krylov method and the hierarchy
        self.M, self.symmetric = _without_zeros(M), symmetric
        self.shape = A.shape
        A = M = None  # the blocked and shifted copies go before the set-up's peak
        self.ml = _smoothed_aggregation(self.M, symmetric, near_nullspace, energy=energy)
        self._cycle = self.ml.aspreconditioner()
        self.iterations = 0
        self.fresh_iterations = None  # Krylov iterations with a fresh hierarchy

    def update(self, A, shift=None) -> None:
        """A new matrix with the same pattern: keep the hierarchy as preconditioner."""
        self.M = self.ml.levels[0].A = None  # free the old fine matrix first
        A = _shifted(A, shift)
        self.M = A if self.perm is None else self.to_blocks(A)
        # the fine-level smoother works on the new matrix, the coarse levels are kept
        self.ml.levels[0].A = self.M

    def release(self) -> None:
        """Drop the matrix (its memory can go to the next one); update() restores."""
        self.M = self.ml.levels[0].A = None

    @property
    def stale(self) -> bool:
        """The reused hierarchy needs many more iterations than a fresh one did."""
        return (self.fresh_iterations is not None
                and self.iterations > max(2 * self.fresh_iterations, 20))

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle, in the caller's ordering."""
        if self.perm is None:
            return self._cycle @ r
        z = np.empty_like(r)
        z[self.perm] = self._cycle @ r[self.perm]
        return z

    def solve(self, b, rtol=1e-9):
        """CG (symmetric) or our right-preconditioned GMRES: both stop on the
        true residual, ||b - A x|| <= rtol ||b|| (pyamg's GMRES would measure
        the left-preconditioned one, up to ~100x off)."""
        from pyamg.krylov import cg

        rhs = b if self.perm is None else b[self.perm]
        if self.symmetric:
            residuals: list[float] = []
            try:
                y, _ = cg(self.M, rhs, M=self._cycle, tol=rtol, maxiter=400,
                          residuals=residuals)
            except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
                raise NewtonFailure(f"the AMG-preconditioned CG solve failed ({exc})") from exc
            self.iterations = len(residuals)
            log.debug("AMG-CG: %d iterations to rtol %.1e", self.iterations, rtol)
            nb = np.linalg.norm(b)
            if nb > 0 and np.linalg.norm(rhs - self.M @ y) > 1e3 * max(rtol, 1e-12) * nb:
                raise NewtonFailure("the Krylov solver did not converge")
        else:
            y, self.iterations = _krylov(self.M, rhs, self._cycle.matvec, rtol, "AMG")
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        if self.perm is None:
            return y
        x = np.empty_like(y)
        x[self.perm] = y
        return x


class FixedMultigrid:
    """A constant symmetric positive definite block M (e.g. an elasticity
    stiffness with its prescribed dofs eliminated) and its smoothed-aggregation
    hierarchy (node-wise BSR blocks, energy-minimising prolongation of the
    near-nullspace, e.g. rigid-body modes), built once: V-cycles for every
    Newton iteration and time step, and CG solves.

    ``M``: (node-wise BSR, permutation from the caller's component-major
    ordering), see :func:`node_permutation`; ``near_nullspace``: (n, k) in
    the caller's ordering.
    """

    def __init__(self, M: tuple[sp.bsr_matrix, np.ndarray], near_nullspace: np.ndarray):
        self.M, self.perm = M
        self.ml = _smoothed_aggregation(self.M, True, near_nullspace[self.perm], energy=True)
        self._cycle = self.ml.aspreconditioner()

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle, in the caller's ordering."""
        z = np.empty_like(r)
        z[self.perm] = self._cycle @ r[self.perm]
        return z

    def solve(self, b: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
        """M x = b by CG preconditioned with the V-cycle."""
        from pyamg.krylov import cg

        rhs = b[self.perm]
        residuals: list[float] = []
        try:
            y, _ = cg(self.M, rhs, M=self._cycle, tol=rtol, maxiter=400, residuals=residuals)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise NewtonFailure(f"the multigrid-preconditioned CG solve failed ({exc})") from exc
        log.debug("AMG-CG (fixed hierarchy): %d iterations to rtol %.1e", len(residuals), rtol)
        nb = np.linalg.norm(b)
        if nb > 0 and np.linalg.norm(rhs - self.M @ y) > 1e3 * max(rtol, 1e-12) * nb:
            raise NewtonFailure("the Krylov solver did not converge")
        x = np.empty_like(y)
        x[self.perm] = y
        return x


def node_permutation(n: int, node_size: int) -> np.ndarray:
    """perm[i node_size + a] = a (n / node_size) + i: node-major position ->
    component-major index."""
    return (np.arange(node_size)[None, :] * (n // node_size)
            + np.arange(n // node_size)[:, None]).ravel()


def _smoothed_aggregation(M, symmetric: bool, near_nullspace=None, energy: bool = False):
    """pyamg smoothed-aggregation hierarchy of M (CSR or BSR with node blocks).
    ``energy``: energy-minimising prolongation (twice the set-up, about half
    the iterations for elasticity in bending)."""
    import pyamg

    # local (Gershgorin-type) weighting of the prolongation smoother avoids
    # the costly spectral-radius estimate on large systems;
    # one forward Gauss-Seidel sweep before and one backward after: half the
    # work of pyamg's default symmetric sweeps for about the same iterations
    kwargs = {"smooth": ("jacobi", {"weighting": "local"}), "max_coarse": 500,
              "coarse_solver": "splu",
              "presmoother": ("gauss_seidel", {"sweep": "forward"}),
              "postsmoother": ("gauss_seidel", {"sweep": "backward"})}
    if not symmetric:
        # transport Jacobians (drift, coupled fields): weak couplings below 5 %
        # dropped from the aggregation graph, no candidate improvement, a larger
        # coarsest level (PNP-BENCH 2D 1e5: 40 GMRES iterations in 5 Newton
        # instead of 72, half the set-up; 3D 1e5 the same iterations, half the
        # set-up; bench_linear-style measurements, issue 16)
        kwargs.update(symmetry="nonsymmetric", max_coarse=2000, improve_candidates=None,
                      strength=("symmetric", {"theta": 0.05}))
    if near_nullspace is not None:
        kwargs["B"] = near_nullspace
    if energy:
        kwargs["smooth"] = "energy"
    try:
        ml = pyamg.smoothed_aggregation_solver(M, **kwargs)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        raise NewtonFailure(f"AMG set-up failed ({exc})") from exc
    for level in ml.levels:
        # prolongations come out of sparse sums whose arrays keep the room of
        # both operands (views of it): compact copies; the candidates B are
        # only needed for the set-up
        for name in ("P", "R"):
            if hasattr(level, name):
                setattr(level, name, getattr(level, name).copy())
        if hasattr(level, "B"):
            del level.B
    return ml


class _NodeBlocks:
    """A (field-major CSR) -> A[perm][:, perm] as BSR with node-wise blocks.

    The first conversion records where each BSR entry comes from in ``A.data``;
    for the next matrices of the same pattern (Newton iterations) the
    conversion is one gather, without the two permuted CSR copies.
    """

    def __init__(self, perm: np.ndarray, size: int):
        self.perm, self.size = perm, size
        self.indptr = self.indices = None  # pattern of the learned A
        self.gather = self.fill = self.bsr = None

    def __call__(self, A: sp.csr_matrix) -> sp.bsr_matrix:
        A = A.tocsr()
        if self.indptr is None or not (same_array(A.indptr, self.indptr)
                                       and same_array(A.indices, self.indices)):
            self._learn(A)
        self.indptr, self.indices = A.indptr, A.indices  # an equal copy: keep the newest only
        data = A.data[self.gather]
        data[self.fill] = 0.0
        indices, indptr = self.bsr
        return sp.bsr_matrix((data.reshape(-1, self.size, self.size), indices, indptr),
                             shape=A.shape)

    def _learn(self, A) -> None:
        size = self.size
        position = sp.csr_matrix((np.arange(1, A.nnz + 1, dtype=float), A.indices, A.indptr),
                                 shape=A.shape)
        M = position[self.perm][:, self.perm].tobsr(blocksize=(size, size))
        M.sort_indices()
        source = M.data.ravel().astype(np.int64) - 1  # -1: fill-in of a block
        self.fill = source < 0
        source[self.fill] = 0
        self.gather = source.astype(np.int32 if A.nnz < 2**31 else np.int64)
        self.bsr = (M.indices, M.indptr)
        self.indptr, self.indices = A.indptr, A.indices
