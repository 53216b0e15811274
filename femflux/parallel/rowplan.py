"""A rank's rows of Newton's matrix read in place from the model's Jacobian.

The model's Jacobian (local rows and columns, CSR) keeps its pattern from one
Newton iteration to the next (:class:`~femflux.fem.BlockSum`).  A
:class:`RowPlan` learns once, for that pattern, where every entry of the
owned rows sits (``take``, a slot of the local CSR) and its global column
(``cols``, sorted within each row as PETSc wants them); afterwards the scaled
rows

    A_ij = r_i J_ij s_j    (r: row scales of the owned rows, s: column scales;
                            1 on the diagonal of a prescribed row)

are one gather of J's values, done a chunk of rows at a time (the
temporaries stay small), into an array handed to PETSc, which refills the
same matrix while the plan lasts (:class:`~.linear.PetscLinearSolver`).  No
copy of the owned rows, no global-column CSR of scipy and no second PETSc
matrix are made: these copies were the largest transient memory of a rank.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fem.blocksum import same_array
from .linear import RowsCSR, petsc_int

#: entries handled at a time (bounds the temporaries)
CHUNK = 1 << 20


class RowPlan:
    """Slots and global columns of the ``owned`` rows of CSR ``J`` (local
    numbering; ``l2g`` the global number of every local unknown)."""

    def __init__(self, J: sp.csr_matrix, owned: np.ndarray, l2g: np.ndarray, shape,
                 index=None):
        self.indptr_l, self.indices_l, self.shape = J.indptr, J.indices, shape
        index = petsc_int() if index is None else index  # PETSc's index type
        lengths = np.diff(J.indptr)[owned]
        n = len(owned)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        nnz = int(self.indptr[-1])
        if nnz >= np.iinfo(index).max:
            raise OverflowError(f"{nnz} Jacobian entries on one rank overflow PETSc's "
                                f"{np.dtype(index).name} indices; use more ranks")
        self.take = np.empty(nnz, dtype=np.int32 if J.nnz < 2**31 else np.int64)
        self.cols = np.empty(nnz, dtype=index)
        ncols = np.int64(shape[1])
        for lo, hi in self._chunks():
            a, e = self.indptr[lo], self.indptr[hi]
            rows = np.repeat(np.arange(hi - lo, dtype=np.int64), lengths[lo:hi])
            take = np.repeat(J.indptr[owned[lo:hi]] - self.indptr[lo:hi], lengths[lo:hi]) \
                + np.arange(a, e)
            cols = l2g[J.indices[take]]
            order = np.argsort(rows * ncols + cols, kind="stable")
            self.take[a:e] = take[order]
            self.cols[a:e] = cols[order]
        self.indptr = self.indptr.astype(index)

    def _chunks(self):
        """(first row, row after the last) of row chunks of about CHUNK entries."""
        n = len(self.indptr) - 1
        bounds = np.searchsorted(self.indptr, np.arange(0, int(self.indptr[-1]), CHUNK),
                                 side="right") - 1
        starts = np.unique(np.concatenate([[0], bounds.clip(0, n)]))
        stops = np.append(starts[1:], n)
        return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b > a]

    def fits(self, J: sp.csr_matrix) -> bool:
        """Whether ``J`` has the pattern this plan was learned on."""
        return same_array(J.indptr, self.indptr_l) and same_array(J.indices, self.indices_l)

    def scaled(self, J: sp.csr_matrix, row_scale, col_scale, fixed, start: int):
        """The owned rows of diag(row_scale) J diag(col_scale) plus 1 on the
        diagonal of the ``fixed`` rows (:class:`~.linear.RowsCSR`), or None
        when a fixed row has no diagonal entry in the pattern."""
        slots = self._diagonal(np.asarray(fixed, dtype=np.int64), start)
        if slots is None:
            return None
        data = np.empty(len(self.take))
        indptr = self.indptr
        for lo, hi in self._chunks():
            a, e = int(indptr[lo]), int(indptr[hi])
            take = self.take[a:e]
            data[a:e] = J.data[take] * np.repeat(row_scale[lo:hi], np.diff(indptr[lo:hi + 1])) \
                * col_scale[J.indices[take]]
        np.add.at(data, slots, 1.0)
        return RowsCSR(indptr, self.cols, data, self.shape, pattern=self)

    def _diagonal(self, fixed: np.ndarray, start: int):
        """The slot of the diagonal entry of every fixed row (None if one is missing)."""
        if not len(fixed):
            return np.zeros(0, dtype=np.int64)
        first = self.indptr[fixed].astype(np.int64)
        lengths = self.indptr[fixed + 1] - first
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        slots = np.repeat(first - offsets, lengths) + np.arange(int(lengths.sum()))
        hit = self.cols[slots] == np.repeat(start + fixed, lengths)
        slots = slots[hit]
        if len(slots) != len(fixed):
            return None
        return slots
