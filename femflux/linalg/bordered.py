"""Bordered systems ``[[A, B], [C, 0]]``: a sparse matrix with a few dense
Lagrange-multiplier rows and columns (gauges, amount constraints), kept as
blocks (:class:`BorderedMatrix`) and solved by block elimination, exactly
(:class:`_BorderedSchur`, with a factorisation) or as the preconditioner of
GMRES on the bordered system (:class:`_BorderedKrylov`, with AMG or a field
split).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .krylov import _krylov
from .sparse import scale_in_place


class BorderedMatrix:
    """``[[A, B], [C, 0]]``: a sparse n x n matrix A bordered by k dense columns
    B (n, k) and rows C (k, n) (Lagrange multipliers of gauges and amount
    constraints).  Kept as blocks, so that the border never enters A's
    storage (no copy of A to append it, nor to take it off again)."""

    def __init__(self, A, B, C):
        self.A = A.tocsr()
        self.B = np.asarray(B.toarray() if sp.issparse(B) else B, dtype=float)
        self.C = np.asarray(C.toarray() if sp.issparse(C) else C, dtype=float)
        self.n, self.k = self.A.shape[0], self.C.shape[0]
        self.shape = (self.n + self.k, self.n + self.k)

    def __matmul__(self, z: np.ndarray) -> np.ndarray:
        x, lam = z[: self.n], z[self.n:]
        return np.concatenate([self.A @ x + self.B @ lam, self.C @ x])

    def scaled(self, row_scale, col_scale, in_place: bool = False) -> BorderedMatrix:
        """diag(row_scale) M diag(col_scale), A's data scaled in place if asked."""
        n = self.n
        A = self.A if in_place else self.A.copy()
        scale_in_place(A, row_scale[:n], col_scale[:n])
        return BorderedMatrix(A, row_scale[:n, None] * self.B * col_scale[None, n:],
                              row_scale[n:, None] * self.C * col_scale[None, :n])

    def tocsr(self) -> sp.csr_matrix:
        """The whole matrix as CSR: B's entries inserted at the end of A's rows
        (their columns come after A's), C's rows appended."""
        J = self.A
        if not J.has_canonical_format:
            J = J.copy()
            J.sum_duplicates()
        n = self.n
        GT, G = sp.csr_matrix(self.B), sp.csr_matrix(self.C)
        per_row = np.diff(GT.indptr)
        where = np.concatenate([np.repeat(J.indptr[1:], per_row), np.full(G.nnz, J.nnz)])
        data = np.insert(J.data, where, np.concatenate([GT.data, G.data]))
        indices = np.insert(J.indices, where, np.concatenate([GT.indices + n, G.indices])
                            .astype(J.indices.dtype))
        top = J.indptr + np.concatenate([[0], np.cumsum(per_row)])
        indptr = np.concatenate([top, top[-1] + G.indptr[1:]]).astype(J.indices.dtype)
        return sp.csr_matrix((data, indices, indptr), shape=self.shape)

    @classmethod
    def from_csr(cls, A_full, k: int) -> BorderedMatrix:
        """Split a CSR matrix with k trailing border rows and columns (whose
        lower-right block is zero); A is one copy of the leading rows without
        their border entries (the last of each canonical row)."""
        A_full = A_full.tocsr()
        n = A_full.shape[0] - k
        if not A_full.has_canonical_format:
            A_full = A_full.copy()
            A_full.sum_duplicates()
        top = A_full.indptr[n]
        inner = A_full.indices[:top] < n
        per_row = np.zeros(n, dtype=np.int64)
        filled = np.diff(A_full.indptr[: n + 1]) > 0  # reduceat over the non-empty rows
        if top:
            per_row[filled] = np.add.reduceat(inner, A_full.indptr[:n][filled], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(A_full.indices.dtype)
        A = sp.csr_matrix((A_full.data[:top][inner], A_full.indices[:top][inner], indptr),
                          shape=(n, n))
        return cls(A, A_full[:n, n:].toarray(), A_full[n:, :n].toarray())

    def shift(self, eps: float) -> np.ndarray:
        """eps |diag A| (the mean where it is 0): A + diag(shift) is regular
        where A is singular only in the directions the border fixes."""
        d = np.abs(self.A.diagonal())
        return eps * np.where(d > 0, d, d.mean() if d.any() else 1.0)


def _as_bordered(A, k: int) -> BorderedMatrix:
    return A if isinstance(A, BorderedMatrix) else BorderedMatrix.from_csr(A, k)


class _BorderedSchur:
    """``[[A, B], [C, 0]]`` (a :class:`BorderedMatrix`) solved by block
    elimination, so that the dense border never enters a factorisation.  ``A``
    is singular exactly in the directions the border fixes, so
    ``A + eps |diag A|`` is factored (eps = 1e-9): the Schur complement
    restores those directions exactly.
    """

    def __init__(self, M: BorderedMatrix, factor):
        self.B, self.C, self.n = M.B, M.C, M.n
        self.inner = factor(M.A, M.shift(1e-9))
        self.AinvB = np.column_stack([self.inner.solve(self.B[:, j]) for j in range(M.k)])
        self.S = self.C @ self.AinvB

    def solve(self, b, rtol=1e-9):
        y = self.inner.solve(b[: self.n], rtol)
        lam = np.linalg.solve(self.S, self.C @ y - b[self.n:])
        return np.concatenate([y - self.AinvB @ lam, lam])


class _BorderedKrylov:
    """``[[A, B], [C, 0]]`` (a :class:`BorderedMatrix`) with an iterative inner
    solver: GMRES on the bordered system, preconditioned by block elimination
    with the inner preconditioner P ~ A^-1: ``y = P r``, ``lam = S^-1 (C y - g)``,
    ``x = y - (P B) lam``, ``S = C P B`` (k preconditioner applications per
    matrix).  The inner preconditioner is built on ``A + eps |diag A|`` (A is
    singular in the directions the border fixes); the Krylov operator is exact.
    """

    eps = 1e-9

    def __init__(self, M: BorderedMatrix, make_inner):
        self.k, self.n, self.shape = M.k, M.n, M.shape
        self.M = M
        self.inner = make_inner(M.A, M.shift(self.eps))
        self._schur()
        self.iterations = 0
        self.fresh_iterations = None

    def _schur(self):
        B = self.M.B
        self.PB = np.column_stack([self.inner.precondition(B[:, j]) for j in range(self.k)])
        self.S = self.M.C @ self.PB

    def update(self, M: BorderedMatrix) -> None:
        self.M = M
        self.inner.update(M.A, M.shift(self.eps))
        self._schur()

    def release(self) -> None:
        self.M = None
        self.inner.release()

    @property
    def stale(self) -> bool:
        return self.inner.stale or (self.fresh_iterations is not None and self.iterations
                                    > max(2 * self.fresh_iterations, 20))

    def _precondition(self, r):
        y = self.inner.precondition(r[: self.n])
        lam = np.linalg.solve(self.S, self.M.C @ y - r[self.n:])
        return np.concatenate([y - self.PB @ lam, lam])

    def solve(self, b, rtol=1e-9):
        z, self.iterations = _krylov(self.M, b, self._precondition, rtol, "bordered",
                                      self.fresh_iterations)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        return z
