"""Sparse linear solves for Newton: SuperLU, AMG-preconditioned Krylov and
bordered (Lagrange-multiplier) systems.

- :class:`_Direct`: SuperLU in symmetric mode (1D, 2D, small 3D);
- :class:`_AlgebraicMultigrid`: pyamg smoothed aggregation with node-wise
  blocks or rigid-body modes, preconditioning CG or GMRES (large 3D);
- :class:`_BorderedSchur`: a few dense constraint rows by block elimination;
- :class:`LinearSolver`: picks one of them and reuses it across solves.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


class NewtonFailure(Exception):
    """Newton did not converge (caught by the step control)."""


# ---------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------


class _Direct:
    """SuperLU factorisation in symmetric mode: minimum-degree ordering on
    A^T + A (our Jacobians are structurally symmetric: less fill and several
    times faster than COLAMD) with threshold pivoting that prefers the diagonal."""

    def __init__(self, A):
        try:
            self.lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1,
                                options={"SymmetricMode": True})
            self.n = A.shape[0]
        except RuntimeError as exc:  # exactly singular
            raise NewtonFailure(f"singular Jacobian ({exc})") from exc

    def solve(self, b, rtol=None):
        x = self.lu.solve(b)
        if not np.all(np.isfinite(x)):
            raise NewtonFailure("singular Jacobian")
        return x


class _AlgebraicMultigrid:
    """pyamg smoothed aggregation as a preconditioner of CG (symmetric) or GMRES."""

    def __init__(self, A, symmetric: bool, near_nullspace=None, blocks=None):
        import pyamg

        # local (Gershgorin-type) weighting of the prolongation smoother avoids
        # the costly spectral-radius estimate on large systems
        # one forward Gauss-Seidel sweep before and one backward after: half the
        # work of pyamg's default symmetric sweeps for about the same iterations
        kwargs = {"smooth": ("jacobi", {"weighting": "local"}), "max_coarse": 500,
                  "coarse_solver": "splu",
                  "presmoother": ("gauss_seidel", {"sweep": "forward"}),
                  "postsmoother": ("gauss_seidel", {"sweep": "backward"})}
        if not symmetric:
            kwargs["symmetry"] = "nonsymmetric"
        self.perm = None
        M = A
        if blocks is not None:
            # node-wise blocks of coupled fields: aggregate nodes, not unknowns
            self.perm, size = blocks
            self.M_blocksize = (size, size)
            M = A[self.perm][:, self.perm].tobsr(blocksize=(size, size))
            near_nullspace = (np.kron(np.ones((A.shape[0] // size, 1)), np.eye(size))
                              if near_nullspace is None else near_nullspace[self.perm])
        if near_nullspace is not None:
            kwargs["B"] = near_nullspace
        self.A = A if self.perm is None else None  # with blocks, M is the only copy
        self.M, self.symmetric = M, symmetric
        self.shape = A.shape
        try:
            self.ml = pyamg.smoothed_aggregation_solver(M, **kwargs)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise NewtonFailure(f"AMG set-up failed ({exc})") from exc
        self.iterations = 0
        self.fresh_iterations = None  # Krylov iterations with a fresh hierarchy

    def update(self, A) -> None:
        """A new matrix with the same pattern: keep the hierarchy as preconditioner."""
        if self.perm is None:
            self.A = self.M = A
        else:
            self.M = None
            self.M = A[self.perm][:, self.perm].tobsr(blocksize=self.M_blocksize)

    @property
    def stale(self) -> bool:
        """The reused hierarchy needs many more iterations than a fresh one did."""
        return (self.fresh_iterations is not None
                and self.iterations > max(2 * self.fresh_iterations, 20))

    def solve(self, b, rtol=1e-9):
        from pyamg.krylov import cg, gmres

        rhs = b if self.perm is None else b[self.perm]
        residuals: list[float] = []
        options = {"maxiter": 400} if self.symmetric else {"restart": 100, "maxiter": 4}
        krylov = cg if self.symmetric else gmres
        try:
            y, _ = krylov(self.M, rhs, M=self.ml.aspreconditioner(), tol=rtol,
                          residuals=residuals, **options)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise NewtonFailure(f"the AMG-preconditioned Krylov solve failed ({exc})") from exc
        self.iterations = len(residuals)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        if self.perm is None:
            x = y
        else:
            x = np.empty_like(y)
            x[self.perm] = y
        nb = np.linalg.norm(b)
        residual = rhs - self.M @ y  # in the solver's own (permuted) ordering
        if nb > 0 and np.linalg.norm(residual) > 1e3 * max(rtol, 1e-12) * nb:
            raise NewtonFailure("the Krylov solver did not converge")
        return x


class _BorderedSchur:
    """``[[A, B], [C, 0]]`` with k trailing bordered rows (Lagrange multipliers of
    gauges and amount constraints), solved by block elimination so that the
    dense border never enters a factorisation.  ``A`` is singular exactly in
    the directions the border fixes, so ``A + eps |diag A|`` is factored
    (eps = 1e-9): the Schur complement restores those directions exactly.
    """

    def __init__(self, A_full, k, factor):
        n = A_full.shape[0] - k
        A_full = A_full.tocsr()
        A = A_full[:n, :n]
        self.B = A_full[:n, n:].toarray()
        self.C = A_full[n:, :n].toarray()
        d = np.abs(A.diagonal())
        d = np.where(d > 0, d, d.mean() if d.any() else 1.0)
        self.inner = factor((A + sp.diags(1e-9 * d)).tocsr())
        self.AinvB = np.column_stack([self.inner.solve(self.B[:, j]) for j in range(k)])
        self.S = self.C @ self.AinvB
        self.n = n

    def solve(self, b, rtol=1e-9):
        y = self.inner.solve(b[: self.n], rtol)
        lam = np.linalg.solve(self.S, self.C @ y - b[self.n:])
        return np.concatenate([y - self.AinvB @ lam, lam])


class LinearSolver:
    """Sparse linear solves: SuperLU for small and 2D systems, pyamg-preconditioned
    Krylov for large 3D ones; bordered systems (``border`` trailing multiplier
    rows) by block elimination.  A factorisation or AMG hierarchy is reused
    while the caller passes the same ``reuse_key``.
    """

    #: largest 3D system solved directly (SuperLU fill-in grows fast in 3D);
    #: symmetric systems go to AMG + CG earlier than non-symmetric ones
    direct_limit_3d = {True: 10_000, False: 20_000}
    #: largest system refactored directly when the iterative solver fails
    direct_fallback = 150_000

    def __init__(self, method: str = "auto", dim: int = 3, symmetric: bool = False,
                 near_nullspace: np.ndarray | None = None, border: int = 0, blocks=None):
        self.method = method
        self.dim = dim
        self.symmetric = symmetric
        self.near_nullspace = near_nullspace
        self.border = border
        self.blocks = blocks  # (permutation to node-wise order, fields per node) or None
        self._key = None
        self._cached = None

    @classmethod
    def for_system(cls, system, method: str = "auto", border: int = 0) -> LinearSolver:
        """A solver configured by the model: its node-wise blocking of coupled
        fields (``node_blocks()``) and AMG near-nullspace (``near_nullspace()``,
        e.g. rigid-body modes), when it provides them."""
        blocks = getattr(system, "node_blocks", None)
        modes = getattr(system, "near_nullspace", None)
        return cls(method, system.dim, system.symmetric, border=border,
                   blocks=blocks() if blocks is not None else None,
                   near_nullspace=modes() if modes is not None else None)

    def choose(self, n: int) -> str:
        if self.method != "auto":
            return self.method
        if self.dim <= 2 or n <= self.direct_limit_3d[self.symmetric]:
            return "direct"
        return "iterative"

    def solve(self, A: sp.csr_matrix, b: np.ndarray, reuse_key=None, rtol=1e-9) -> np.ndarray:
        """Solve A x = b.  Krylov solves stop at ``rtol`` (relative residual)."""
        cached = self._cached
        if reuse_key is not None and reuse_key == self._key and cached is not None:
            return cached.solve(b, rtol)
        if isinstance(cached, _AlgebraicMultigrid) and not cached.stale \
                and cached.shape == A.shape:
            cached.update(A)  # AMG hierarchies stay good preconditioners across Newton
        else:
            self._cached = self._prepare(A)
        self._key = reuse_key
        try:
            return self._cached.solve(b, rtol)
        except NewtonFailure:
            if not self.iterative or A.shape[0] > self.direct_fallback:
                raise
            self._cached = self._prepare(A, method="direct")  # robust, if slower
            return self._cached.solve(b, rtol)

    @property
    def iterative(self) -> bool:
        return isinstance(self._cached, _AlgebraicMultigrid) or (
            isinstance(self._cached, _BorderedSchur)
            and isinstance(self._cached.inner, _AlgebraicMultigrid))

    def has_factorisation(self, n: int) -> bool:
        """A direct factorisation of an n x n (possibly bordered) matrix is at hand."""
        cached = self._cached
        if isinstance(cached, _BorderedSchur):
            return isinstance(cached.inner, _Direct) and cached.n + len(cached.S) == n
        return isinstance(cached, _Direct) and cached.n == n

    def resolve(self, b: np.ndarray) -> np.ndarray:
        """Solve with the last matrix again (a simplified Newton correction)."""
        if self._cached is None:
            raise NewtonFailure("no factorisation to reuse")
        return self._cached.solve(b, 1e-6)

    def _prepare(self, A, method=None):
        method = method or self.choose(A.shape[0] - self.border)

        def factor(M):
            if method == "direct":
                return _Direct(M)
            return _AlgebraicMultigrid(M, self.symmetric, self.near_nullspace, self.blocks)

        if self.border:
            return _BorderedSchur(A, self.border, factor)
        return factor(A)
