"""The choice of linear solver: :class:`LinearSolver` picks SuperLU, AMG-
or field-split-preconditioned Krylov and the bordered variants by system
size and dimension, and reuses factorisations and hierarchies across Newton
iterations; :func:`fixed_solver` makes the same choice for a constant block
built once.
"""

from __future__ import annotations

import numpy as np

from ..errors import NewtonFailure
from ..memory import trim
from .amg import FixedMultigrid, _AlgebraicMultigrid
from .bordered import _as_bordered, _BorderedKrylov, _BorderedSchur
from .direct import _Direct, _FixedDirect
from .fieldsplit import Field, _FieldSplit


class LinearSolver:
    """Sparse linear solves: SuperLU for small and 2D systems, pyamg-preconditioned
    Krylov for large 3D ones; bordered systems (``border`` trailing multiplier
    rows) by block elimination.  A factorisation or AMG hierarchy is reused
    while the caller passes the same ``reuse_key``.
    """

    #: largest 3D system solved directly (SuperLU fill-in grows fast in 3D);
    #: symmetric systems go to AMG + CG earlier than non-symmetric ones
    direct_limit_3d = {True: 10_000, False: 20_000}
    #: ... and for models with a field-split preconditioner (their coupled
    #: Jacobians are structurally unsymmetric: SuperLU fill grows faster still)
    direct_limit_split = 4_000
    #: largest system refactored directly when the iterative solver fails, as a
    #: multiple of the direct limit (3D fill-in beyond it takes minutes and can
    #: overflow SuperLU's 32-bit indices)
    direct_fallback = 2

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

    def choose(self, n: int) -> str:
        if self.method != "auto":
            return self.method
        if self.dim <= 2 or n <= self._direct_limit():
            return "direct"
        return "iterative"

    def _direct_limit(self) -> int:
        return self.direct_limit_split if self.fields else self.direct_limit_3d[self.symmetric]

    def solve(self, A, b: np.ndarray, reuse_key=None, rtol=1e-9) -> np.ndarray:
        """Solve A x = b (A sparse, or a :class:`BorderedMatrix`; a sparse A with
        ``border`` > 0 holds the border as its trailing rows and columns).
        Krylov solves stop at ``rtol`` (relative residual)."""
        if self.border:
            A = _as_bordered(A, self.border)
        cached = self._cached
        if reuse_key is not None and reuse_key == self._key and cached is not None \
                and not self.released:
            return cached.solve(b, rtol)
        self.released = False
        if isinstance(cached, _ITERATIVE) and not cached.stale and cached.shape == A.shape:
            cached.update(A)  # AMG hierarchies stay good preconditioners across Newton
        else:
            self._cached = cached = None  # free the old hierarchy before building anew
            self._cached = self._prepare(A)
        self._key = reuse_key
        try:
            return self._cached.solve(b, rtol)
        except NewtonFailure:
            if not self.iterative or A.shape[0] > self.direct_fallback * self._direct_limit():
                raise
            self._cached = self._prepare(A, method="direct")  # robust, if slower
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

    def resolve(self, b: np.ndarray) -> np.ndarray:
        """Solve with the last matrix again (a simplified Newton correction)."""
        if self._cached is None or self.released:
            raise NewtonFailure("no factorisation to reuse")
        return self._cached.solve(b, 1e-6)

    def _prepare(self, A, method=None):
        method = method or self.choose(A.shape[0] - self.border)

        def factor(M, shift=None):
            if method == "direct":
                return _Direct(M, shift)
            if self.fields:
                return _FieldSplit(M, self.fields, shift)
            return _AlgebraicMultigrid(M, self.symmetric, self.near_nullspace, self.blocks,
                                       shift)

        if self.border and method == "direct":
            return _BorderedSchur(A, factor)
        if self.border:
            return _BorderedKrylov(A, factor)
        return factor(A)


_ITERATIVE = (_AlgebraicMultigrid, _FieldSplit, _BorderedKrylov)


def fixed_solver(build, method: str, dim: int, near_nullspace: np.ndarray):
    """A solver of a constant SPD block, built once: SuperLU where
    :class:`LinearSolver` would factorise (1D, 2D, small 3D), else
    :class:`FixedMultigrid`.  Both offer ``precondition(r)`` and ``solve(b, rtol)``
    in component-major order.  ``build()`` returns the block as (node-wise
    BSR, permutation), see :func:`node_permutation`; ``near_nullspace`` (n, k)
    is component-major."""
    n = len(near_nullspace)
    if LinearSolver(method, dim, symmetric=True).choose(n) == "direct" \
            or near_nullspace.shape[1] == 0:
        return _FixedDirect(build())
    return FixedMultigrid(build(), near_nullspace)
