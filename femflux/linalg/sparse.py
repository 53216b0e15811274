"""In-place operations on sparse matrices that keep the matrix's own arrays
(at 1e6 cells a copy of a Jacobian is the peak memory): row and column
scaling, diagonal shifts, stored zeros dropped.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp


def scale_in_place(A: sp.csr_matrix, row_scale: np.ndarray, col_scale: np.ndarray,
                   chunk: int = 1 << 21) -> None:
    """A <- diag(row_scale) A diag(col_scale) on A's own values, about ``chunk``
    entries at a time (no temporary of A's size)."""
    indptr, n = A.indptr, A.shape[0]
    step = max(1, chunk * n // max(A.nnz, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        a, b = indptr[lo], indptr[hi]
        values = A.data[a:b]
        values *= np.repeat(row_scale[lo:hi], np.diff(indptr[lo:hi + 1]))
        values *= col_scale[A.indices[a:b]]


def _shift_diagonal(A, shift) -> None:
    """A += diag(shift), in place (stored diagonals are set, missing ones inserted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        A.setdiag(A.diagonal() + shift)


def _shifted(A, shift, copy: bool = True):
    """A + diag(shift) (A itself when shift is None)."""
    if shift is None:
        return A
    A = A.copy() if copy else A
    _shift_diagonal(A, shift)
    return A


def _without_zeros(M):
    """M without stored zeros (zero blocks would count as strong connections
    in the aggregation; e.g. the rows and columns of Dirichlet dofs)."""
    M = M.copy()
    M.eliminate_zeros()
    return M
