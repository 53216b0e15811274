"""The choice of linear solver: :class:`LinearSolver` picks SuperLU, AMG-
or field-split-preconditioned Krylov and the bordered variants by the
measured cost model of :mod:`femflux.linalg.cost` (size, stored entries,
dimension, coupling, fill), and reuses factorisations and hierarchies across
Newton iterations; :func:`fixed_solver` makes the same choice for a constant block
built once.
"""

from __future__ import annotations

import numpy as np

from ..errors import NewtonFailure
from ..memory import trim
from .amg import FixedMultigrid, _AlgebraicMultigrid
from .bordered import BorderedMatrix, _as_bordered, _BorderedKrylov, _BorderedSchur
from .cost import MAX_FILL, solve_cost
from .coupled import _SchurSplit, schur_layout
from .direct import _Direct, _FixedDirect
from .fieldsplit import Field, _FieldSplit


class LinearSolver:
    """Sparse linear solves: SuperLU or pyamg-preconditioned Krylov (field
    split for multi-physics models), chosen by ``method`` or, for "auto", by
    the cost model (:func:`~femflux.linalg.cost.solve_cost`); bordered
    systems (``border`` trailing multiplier rows) by block elimination.  A
    factorisation or AMG hierarchy is reused while the caller passes the same
    ``reuse_key``.
    """

    #: largest 3D system with a field-split preconditioner solved directly
    #: (measured; its coupled Jacobians are structurally unsymmetric: SuperLU
    #: fill grows faster than the cost model's)
    direct_limit_split = 4_000
    #: an iterative solve that fails is redone by SuperLU while that costs at
    #: most this many times the iterative solve (and its fill is affordable)
    direct_fallback = 8.0

    def __init__(self, method: str = "auto", dim: int = 3, symmetric: bool = False,
                 near_nullspace: np.ndarray | None = None, border: int = 0, blocks=None,
                 fields: list[Field] | None = None):
        self.method = method
        self.dim = dim
        self.symmetric = symmetric
        self.near_nullspace = near_nullspace
        self.border = border
        self.blocks = blocks  # (permutation to node-wise order, fields per node) or None
        self.fields = fields  # block preconditioner of a multi-physics model, or None
        self._key = None
        self._cached = None
        self.released = False  # the cached iterative solver has let go of its matrix
        self.fell_back = False  # an iterative solve failed and SuperLU took over: for good

    @classmethod
    def for_system(cls, system, method: str = "auto", border: int = 0) -> LinearSolver:
        """A solver configured by the model (a :class:`femflux.solver.System`):
        its block preconditioner (``field_split()``) or else its node-wise
        blocking of coupled fields (``node_blocks()``), each None when it has
        none."""
        fields = system.field_split()
        blocks = system.node_blocks() if fields is None else None
        return cls(method, system.dim, system.symmetric, border=border, blocks=blocks,
                   fields=fields)

    def choose(self, n: int, nnz: int | None = None) -> str:
        """"direct" or "iterative" for an n x n system with ``nnz`` stored
        entries (estimated when None)."""
        if self.method != "auto":
            return self.method
        if self.fields and self.dim >= 3:
            return "direct" if n <= self.direct_limit_split else "iterative"
        return self.cost(n, nnz).method

    def cost(self, n: int, nnz: int | None = None):
        """The cost model's :class:`~femflux.linalg.cost.SolveCost` of this system."""
        schur = False
        if self.fields:
            block = sum(f.node_size for f in self.fields)
        else:
            block = self.blocks[1] if self.blocks is not None else 1
            # the split's measured cost: node blocks of 3 or more (PNP's); with
            # 2 (Cahn-Hilliard's c, mu: 6 entries a row) SuperLU stays measured faster
            perm = None if self.blocks is None else self.blocks[0]
            schur = not self.symmetric and block >= 3 and (
                perm is None  # no layout given: component-major
                or schur_layout(perm, block, len(perm)) is not None)
        return solve_cost(n, self.dim, block, nnz, self.symmetric, schur)

    def _may_fall_back(self, A) -> bool:
        """A failed iterative solve may be redone by SuperLU (affordable)."""
        n = A.shape[0] - self.border
        if self.fields and self.dim >= 3:
            return n <= 2 * self.direct_limit_split
        cost = self.cost(n, _stored(A))
        return cost.fill <= MAX_FILL and cost.direct_s <= self.direct_fallback * cost.iterative_s

    def solve(self, A, b: np.ndarray, reuse_key=None, rtol=1e-9) -> np.ndarray:
        """Solve A x = b (A sparse, or a :class:`BorderedMatrix`; a sparse A with
        ``border`` > 0 holds the border as its trailing rows and columns).
        Krylov solves stop at ``rtol`` (relative residual)."""
        if self.border:
            A = _as_bordered(A, self.border)
        cached = self._cached
        if reuse_key is not None and reuse_key == self._key and cached is not None \
                and not self.released:
            try:
                return cached.solve(b, rtol)
            except NewtonFailure:
                if not isinstance(cached, _ITERATIVE):
                    raise
                self._cached = cached = None  # a reused hierarchy gave up: a fresh one
        self.released = False
        reused = isinstance(cached, _ITERATIVE) and not cached.stale \
            and cached.shape == A.shape
        if reused:
            cached.update(A)  # AMG hierarchies stay good preconditioners across Newton
        else:
            self._cached = cached = None  # free the old hierarchy before building anew
            self._cached = self._prepare(A)
        self._key = reuse_key
        try:
            return self._cached.solve(b, rtol)
        except NewtonFailure:
            if reused:  # the hierarchy of an earlier matrix failed: a fresh one first
                self._cached = None
                self._cached = self._prepare(A)
                try:
                    return self._cached.solve(b, rtol)
                except NewtonFailure:
                    pass
            if not self.iterative or not self._may_fall_back(A):
                # a hierarchy that failed is not reused: it has no first solve to
                # judge it by (no iteration limit), and the next matrix (a
                # shorter step) took it another full 300 iterations before a
                # fresh one solved in 24 (blocking cell 2D 1e6)
                if self.iterative:
                    self._cached, self._key = None, None
                raise
            self._cached = self._prepare(A, method="direct")  # robust, if slower
            self.fell_back = True  # the next matrices are alike: no more failing Krylov runs
            return self._cached.solve(b, rtol)

    @property
    def iterative(self) -> bool:
        return isinstance(self._cached, _ITERATIVE)

    def release(self) -> None:
        """An iterative solver lets go of its last matrix, keeping its
        preconditioner: the next Jacobian can be assembled in that memory.
        :meth:`resolve` needs :meth:`restore` (or a new :meth:`solve`) first."""
        if self.iterative:
            self._cached.release()
            self.released = True
            trim()  # and the Krylov temporaries go back to the system

    def restore(self, A) -> None:
        """The released matrix back (the same one, assembled again)."""
        if self.border:
            A = _as_bordered(A, self.border)
        self._cached.update(A)
        self.released = False

    def has_factorisation(self, n: int) -> bool:
        """A direct factorisation of an n x n (possibly bordered) matrix is at hand."""
        cached = self._cached
        if isinstance(cached, _BorderedSchur):
            return isinstance(cached.inner, _Direct) and cached.n + len(cached.S) == n
        return isinstance(cached, _Direct) and cached.n == n

    def resolve(self, b: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
        """Solve with the last matrix again (a simplified Newton correction;
        Krylov solves stop at ``rtol``)."""
        if self._cached is None or self.released:
            raise NewtonFailure("no factorisation to reuse")
        return self._cached.solve(b, rtol)

    def _prepare(self, A, method=None):
        method = method or ("direct" if self.fell_back else
                            self.choose(A.shape[0] - self.border, _stored(A)))

        def factor(M, shift=None):
            if method == "direct":
                return _Direct(M, shift)
            if self.fields:
                return _FieldSplit(M, self.fields, shift)
            k = (None if self.blocks is None or self.symmetric
                 else schur_layout(self.blocks[0], self.blocks[1], M.shape[0]))
            if k is not None:
                return _SchurSplit(M, k, shift)
            return _AlgebraicMultigrid(M, self.symmetric, self.near_nullspace, self.blocks,
                                       shift)

        if self.border and method == "direct":
            return _BorderedSchur(A, factor)
        if self.border:
            return _BorderedKrylov(A, factor)
        return factor(A)


_ITERATIVE = (_AlgebraicMultigrid, _FieldSplit, _BorderedKrylov, _SchurSplit)


def _stored(A) -> int | None:
    """Stored entries of a sparse or bordered matrix (its sparse block)."""
    if isinstance(A, BorderedMatrix):
        return A.A.nnz
    return getattr(A, "nnz", None)


def fixed_solver(build, method: str, dim: int, near_nullspace: np.ndarray):
    """A solver of a constant SPD block, built once: SuperLU where
    :class:`LinearSolver` would factorise (by the cost model), else
    :class:`FixedMultigrid`.  Both offer ``precondition(r)`` and ``solve(b, rtol)``
    in component-major order.  ``build()`` returns the block as (node-wise
    BSR, permutation), see :func:`node_permutation`; ``near_nullspace`` (n, k)
    is component-major."""
    n = len(near_nullspace)
    per_node = LinearSolver(method, dim, symmetric=True, blocks=(None, dim))  # displacement
    if per_node.choose(n) == "direct" \
            or near_nullspace.shape[1] == 0:
        return _FixedDirect(build())
    return FixedMultigrid(build(), near_nullspace)
