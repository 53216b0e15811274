"""A rank's rows of Newton's matrix read in place from the model's Jacobian.

The model's Jacobian (local rows and columns, CSR) keeps its pattern from one
Newton iteration to the next (:class:`~femflux.fem.BlockSum`).  A
:class:`RowPlan` notes, for that pattern, the extent of every owned row;
the scaled rows

    A_ij = r_i J_ij s_j    (r: row scales of the owned rows, s: column scales;
                            1 on the diagonal of a prescribed row)

are then one gather of J's values and local columns, a chunk of rows at a
time (the temporaries stay small), handed to PETSc in local numbering: the
matrix carries the local-to-global maps of rows (owned row i is global
``start + i``) and columns (``l2g``), and is refilled in place
(``MatSetValuesLocal``) while the pattern lasts
(:class:`~.linear.PetscLinearSolver`).  No copy of the owned rows, no
global-column CSR of scipy, no second PETSc matrix and nothing a Jacobian
entry is kept: these copies were the largest transient memory of a rank.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fem.blocksum import same_array
from .linear import RowsCSR, petsc_int

#: entries handled at a time (bounds the temporaries)
CHUNK = 1 << 20


class RowPlan:
    """The ``owned`` rows of CSR ``J`` (local numbering; ``l2g``: the global
    number of every local unknown, ``start``: the global number of owned row
    0, ``shape``: owned rows x global columns)."""

    def __init__(self, J: sp.csr_matrix, owned: np.ndarray, l2g: np.ndarray, start: int, shape,
                 index=None):
        self.indptr_l, self.indices_l, self.shape = J.indptr, J.indices, shape
        self.owned, self.l2g, self.start = owned, l2g, int(start)
        index = petsc_int() if index is None else index  # PETSc's index type
        lengths = np.diff(J.indptr)[owned]
        self.indptr = np.zeros(len(owned) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        if self.indptr[-1] >= np.iinfo(index).max:
            raise OverflowError(f"{int(self.indptr[-1])} Jacobian entries on one rank overflow "
                                f"PETSc's {np.dtype(index).name} indices; use more ranks")
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
        """Whether ``J`` has the pattern this plan was made for."""
        return same_array(J.indptr, self.indptr_l) and same_array(J.indices, self.indices_l)

    def scaled(self, J: sp.csr_matrix, row_scale, col_scale, fixed):
        """The owned rows of diag(row_scale) J diag(col_scale) plus 1 on the
        diagonal of the ``fixed`` rows, columns in local numbering
        (:class:`~.linear.RowsCSR` with this plan as its pattern), or None
        when a fixed row has no diagonal entry in the pattern."""
        indptr = self.indptr
        data = np.empty(int(indptr[-1]))
        cols = np.empty(len(data), dtype=indptr.dtype)
        for lo, hi in self._chunks():
            a, e = int(indptr[lo]), int(indptr[hi])
            lengths = np.diff(indptr[lo:hi + 1])
            take = np.repeat(J.indptr[self.owned[lo:hi]] - indptr[lo:hi], lengths) \
                + np.arange(a, e)
            cols[a:e] = J.indices[take]
            data[a:e] = J.data[take] * np.repeat(row_scale[lo:hi], lengths) \
                * col_scale[cols[a:e]]
        slots = self._diagonal(np.asarray(fixed, dtype=np.int64), cols)
        if slots is None:
            return None
        np.add.at(data, slots, 1.0)
        return RowsCSR(indptr, cols, data, self.shape, pattern=self)

    def _diagonal(self, fixed: np.ndarray, cols: np.ndarray):
        """The slot of the diagonal entry of every fixed row (None if one is missing)."""
        if not len(fixed):
            return np.zeros(0, dtype=np.int64)
        first = self.indptr[fixed].astype(np.int64)
        lengths = self.indptr[fixed + 1] - first
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        slots = np.repeat(first - offsets, lengths) + np.arange(int(lengths.sum()))
        hit = cols[slots] == np.repeat(self.owned[fixed], lengths)
        slots = slots[hit]
        if len(slots) != len(fixed):
            return None
        return slots
