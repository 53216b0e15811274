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
        energy = near_nullspace is not None and symmetric  # elasticity: rigid-body modes
        if blocks is not None:
            # node-wise blocks of coupled fields: aggregate nodes, not unknowns
            self.perm, size = blocks
            M = _NodeBlocks(self.perm, size)(A)
            M.eliminate_zeros()  # our own copy (see _without_zeros)
            near_nullspace = (np.kron(np.ones((A.shape[0] // size, 1)), np.eye(size))
                              if near_nullspace is None else near_nullspace[self.perm])
        else:
            M = _without_zeros(A)
        self.symmetric, self.shape = symmetric, A.shape
        if self.perm is None:
            A = M  # one copy of the fine matrix (the shifted one goes before the set-up)
        self.ml = _smoothed_aggregation(M, symmetric, near_nullspace, energy=energy)
        # node blocks: the blocked copy goes after the set-up; the fine level
        # (Krylov operator and smoother) is the caller's matrix itself, in its
        # own ordering
        self.M, M, A = A, None, None
        self._cycle = VCycle(self.ml, self.perm)
        self.ml.levels[0].A = self.M
        self.iterations = 0
        self.fresh_iterations = None  # Krylov iterations with a fresh hierarchy

    def update(self, A, shift=None) -> None:
        """A new matrix with the same pattern: keep the hierarchy as preconditioner."""
        self.M = self.ml.levels[0].A = None  # free the old fine matrix first
        # the fine-level smoother works on the new matrix, the coarse levels are kept
        self.M = self.ml.levels[0].A = _shifted(A, shift)

    def release(self) -> None:
        """Drop the matrix (its memory can go to the next one); update() restores."""
        self.M = self.ml.levels[0].A = None

    @property
    def stale(self) -> bool:
        """The reused hierarchy needs many more iterations than a fresh one
        did, or the system is hard (a fresh hierarchy needed 20 or more:
        its set-up then costs less than the iterations a reused one adds;
        the conical nanopore at 10x density, -2 V: 59 s CPU instead of 97 s)."""
        fresh = self.fresh_iterations
        return fresh is not None and (self.iterations > max(2 * fresh, 20) or fresh >= 20)

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle."""
        return self._cycle(r)

    def solve(self, b, rtol=1e-9):
        """CG (symmetric) or our right-preconditioned GMRES: both stop on the
        true residual, ||b - A x|| <= rtol ||b|| (pyamg's GMRES would measure
        the left-preconditioned one, up to ~100x off)."""
        from pyamg.krylov import cg

        if self.symmetric:
            residuals: list[float] = []
            try:
                x, _ = cg(self.M, b, M=self._cycle.operator(), tol=rtol, maxiter=400,
                          residuals=residuals)
            except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
                raise NewtonFailure(f"the AMG-preconditioned CG solve failed ({exc})") from exc
            self.iterations = len(residuals)
            log.debug("AMG-CG: %d iterations to rtol %.1e", self.iterations, rtol)
            nb = np.linalg.norm(b)
            if nb > 0 and np.linalg.norm(b - self.M @ x) > 1e3 * max(rtol, 1e-12) * nb:
                raise NewtonFailure("the Krylov solver did not converge")
        else:
            x, self.iterations = _krylov(self.M, b, self._cycle, rtol, "AMG",
                                          self.fresh_iterations)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
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
        self._cycle = VCycle(self.ml)

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle, in the caller's ordering."""
        z = np.empty_like(r)
        z[self.perm] = self._cycle(r[self.perm])
        return z

    def solve(self, b: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
        """M x = b by CG preconditioned with the V-cycle."""
        from pyamg.krylov import cg

        rhs = b[self.perm]
        residuals: list[float] = []
        try:
            y, _ = cg(self.M, rhs, M=self._cycle.operator(), tol=rtol, maxiter=400,
                      residuals=residuals)
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
        ml = (pyamg.smoothed_aggregation_solver(M, **kwargs) if symmetric
              else _level_by_level(M, kwargs))
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


def _level_by_level(M, kwargs: dict, max_levels: int = 10):
    """pyamg's smoothed-aggregation hierarchy of M, one level at a time, so
    that scalar coarse operators become CSR before the next level is built:
    pyamg's Galerkin products of scalar problems are BSR of 1 x 1 blocks,
    whose ``abs()`` (the local prolongation weighting) sums duplicates in a
    Python loop over the rows (PNP-BENCH 2D 1e6: 1.7 s of the 3.2 s set-up).
    The same hierarchy as ``smoothed_aggregation_solver(M, **kwargs)`` for
    the non-symmetric settings (without candidate improvement; the symmetric
    ones improve B by block Gauss-Seidel, which differs on CSR)."""
    import pyamg
    from pyamg.multilevel import MultilevelSolver
    from pyamg.relaxation.smoothing import change_smoothers

    step = {k: v for k, v in kwargs.items()
            if k not in ("presmoother", "postsmoother", "coarse_solver")}
    levels, A, B, BH = [], M, step.pop("B", None), None
    while True:
        one = pyamg.smoothed_aggregation_solver(A, B=B, BH=BH, max_levels=2, **step)
        if len(one.levels) == 1 or len(levels) + 2 >= max_levels:
            levels.extend(one.levels)
            break
        levels.append(one.levels[0])
        coarse = one.levels[1]
        A, B, BH = coarse.A, coarse.B, getattr(coarse, "BH", None)
        if _scalar_bsr(A):
            A = A.tocsr()
            A.symmetry = coarse.A.symmetry
    ml = MultilevelSolver(levels, coarse_solver=kwargs["coarse_solver"])
    change_smoothers(ml, kwargs["presmoother"], kwargs["postsmoother"])
    return ml


class VCycle:
    """One V-cycle of a pyamg hierarchy as a linear map (pre-smoothing,
    restricted residual, coarse correction, post-smoothing), without the two
    fine-level residuals and three BLAS norms that
    ``MultilevelSolver.aspreconditioner`` adds to every call.

    ``perm`` (node blocks, see :func:`node_permutation`): the hierarchy was
    built on node-wise BSR blocks, but its fine level ``ml.levels[0].A`` is
    the caller's CSR matrix in the caller's (component-major) ordering;
    residuals are permuted to the node ordering on the way down and
    corrections back on the way up, and every level is smoothed by point
    Gauss-Seidel on CSR (the coarse levels converted once): pyamg's block
    Gauss-Seidel inverts each node block on every sweep, ~2.5x the cost of a
    point sweep for the same GMRES iterations (PNP-BENCH 2D 1e5: 41 in 5
    Newton against 40), and no blocked copy of the fine matrix is kept.
    """

    def __init__(self, ml, perm: np.ndarray | None = None):
        self.ml, self.perm = ml, perm
        for lvl, level in enumerate(ml.levels[:-1]):
            if lvl and (perm is not None or _scalar_bsr(level.A)):
                level.A = level.A.tocsr()
            for name in ("P", "R"):  # 1 x 1 blocks: CSR products are ~2x faster
                if _scalar_bsr(getattr(level, name, None)):
                    setattr(level, name, getattr(level, name).tocsr())

    def operator(self):
        """The cycle as a scipy LinearOperator (for pyamg's CG)."""
        from scipy.sparse.linalg import LinearOperator

        n = self.ml.levels[0].A.shape[0]
        return LinearOperator((n, n), matvec=lambda r: self(np.ravel(r)), dtype=float)

    def __call__(self, b: np.ndarray) -> np.ndarray:
        if len(self.ml.levels) == 1:  # small: the coarse solver alone (pyamg's too)
            return np.asarray(self.ml.coarse_solver(self.ml.levels[0].A, b)).reshape(b.shape)
        return self._cycle(0, b)

    def _cycle(self, lvl: int, b: np.ndarray) -> np.ndarray:
        levels = self.ml.levels
        level = levels[lvl]
        perm = self.perm if lvl == 0 else None
        x = np.zeros_like(b)
        level.presmoother(level.A, x, b)
        residual = b - level.A @ x
        coarse_b = level.R @ (residual if perm is None else residual[perm])
        if lvl == len(levels) - 2:
            coarse_x = np.asarray(self.ml.coarse_solver(levels[-1].A, coarse_b))
        else:
            coarse_x = self._cycle(lvl + 1, coarse_b)
        correction = level.P @ coarse_x.reshape(coarse_b.shape)
        if perm is None:
            x += correction
        else:
            x[perm] += correction
        level.postsmoother(level.A, x, b)
        return x


def _scalar_bsr(M) -> bool:
    """M is BSR of 1 x 1 blocks (pyamg's Galerkin products of scalar
    problems): a slower CSR."""
    return sp.issparse(M) and M.format == "bsr" and M.blocksize == (1, 1)


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
