"""Direct solves: SuperLU in symmetric mode for the Jacobians of 1D, 2D and
small 3D systems (:class:`_Direct`), and the factorisation of a constant
block given in node-wise order (:class:`_FixedDirect`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import NewtonFailure
from .sparse import _shift_diagonal


class _Direct:
    """SuperLU factorisation in symmetric mode: minimum-degree ordering on
    A^T + A (our Jacobians are structurally symmetric: less fill and several
    times faster than COLAMD) with threshold pivoting that prefers the diagonal."""

    def __init__(self, A, shift=None):
        A = A.tocsc(copy=True)
        if shift is not None:
            _shift_diagonal(A, shift)
        A.eliminate_zeros()  # e.g. the scaled rows and columns of Dirichlet dofs
        empty = _empty_line(A)
        if empty:  # SuperLU may crash (not raise) on a structurally singular matrix
            raise NewtonFailure(f"singular Jacobian (empty {empty})")
        try:
            self.lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1,
                                options={"SymmetricMode": True})
            self.n = A.shape[0]
        except RuntimeError as exc:  # exactly singular
            raise NewtonFailure(f"singular Jacobian ({exc})") from exc

    def solve(self, b, rtol=None):
        x = self.lu.solve(b)
        if not np.all(np.isfinite(x)):
            raise NewtonFailure("singular Jacobian")
        return x

    def precondition(self, r):
        return self.solve(r)


def _empty_line(A: sp.csc_matrix) -> str | None:
    """``row k`` or ``column k`` of the first row or column of A without any
    nonzero entry, else None."""
    columns = np.flatnonzero(np.diff(A.indptr) == 0)
    if len(columns):
        return f"column {columns[0]}"
    rows = np.flatnonzero(np.bincount(A.indices, minlength=A.shape[0]) == 0)
    return f"row {rows[0]}" if len(rows) else None


class _FixedDirect:
    """A factorisation of a constant block given in node-wise order (the
    small-system counterpart of :class:`FixedMultigrid`)."""

    def __init__(self, M: tuple[sp.spmatrix, np.ndarray]):
        matrix, self.perm = M
        self.lu = _Direct(matrix.tocsr())

    def solve(self, b: np.ndarray, rtol=None) -> np.ndarray:
        x = np.empty_like(b)
        x[self.perm] = self.lu.solve(b[self.perm])
        return x

    precondition = solve
