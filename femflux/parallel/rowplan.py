"""A rank's rows of Newton's matrix read in place from the model's Jacobian.

The model's Jacobian (local rows and columns, CSR) keeps its pattern from one
Newton iteration to the next (:class:`~femflux.fem.BlockSum`).  A
:class:`RowPlan` notes, for that pattern, the extent of every owned row and
the slot of its diagonal; the scaled rows

    A_ij = r_i J_ij s_j    (r: row scales of the owned rows, s: column scales;
                            1 on the diagonal of a prescribed row)

are then one gather of J's values and local columns, a chunk of rows at a
time (the temporaries stay small), handed to PETSc in local numbering: the
matrix carries the local-to-global maps of rows (owned row i is global
``start + i``) and columns (``l2g``), and is refilled in place
(``MatSetValuesLocal``) while the same entries are nonzero
(:class:`~.linear.PetscLinearSolver`).  No copy of the owned rows, no
global-column CSR of scipy, no second PETSc matrix and nothing a Jacobian
entry is kept but one bit: these copies were the largest transient memory of
a rank.

Only the nonzero entries (and every diagonal) go to PETSc, as they did when
the rows were a scipy sum: J's pattern is the union of the pieces' element
patterns, and on meshes of right-angled tetrahedra (the box meshes, Kuhn's
six tets a cube) half of it is exactly zero (the P1 Laplacian there is the
7-point stencil of 15 neighbours: the face- and body-diagonal couplings
cancel).  Kept, these zeros doubled the matrix and every product, sub-matrix
and BoomerAMG hierarchy of the field split: PNP-BENCH 3D, 1 rank, 1e6 tets,
KSP 12.4 s instead of 7.8 s.  Which entries are kept is one bit an entry
(:class:`Kept`, packed); a Newton iteration whose nonzeros are those of the
last one refills the matrix, else the bits are learned again and PETSc gets
a new matrix.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fem.blocksum import same_array
from .linear import RowsCSR, petsc_int

#: entries handled at a time (bounds the temporaries)
CHUNK = 1 << 20


class Kept:
    """The entries of a :class:`RowPlan`'s rows that go to PETSc: ``bits``,
    one packed array a row chunk (entry k of the chunk kept or not),
    ``indptr``, the kept entries' CSR offsets; ``l2g`` and ``start`` the
    plan's.  The same object for the same kept entries
    (:class:`~.linear.PetscLinearSolver` refills its matrix then)."""

    def __init__(self, bits: list[np.ndarray], indptr: np.ndarray, l2g: np.ndarray, start: int):
        self.bits, self.indptr, self.l2g, self.start = bits, indptr, l2g, start


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
        self.chunks = self._chunks()
        self.kept = None  # the Kept entries of the last rows handed out
        self.diagonal = np.full(len(owned), -1, dtype=index)  # slot of row i's diagonal (-1: none)
        for lo, hi in self.chunks:
            a, lengths, take = self._take(J, lo, hi)
            hit = np.flatnonzero(J.indices[take] == np.repeat(owned[lo:hi], lengths))
            rows = np.searchsorted(self.indptr[lo:hi + 1], a + hit, side="right") - 1
            self.diagonal[lo + rows] = a + hit

    def _chunks(self):
        """(first row, row after the last) of row chunks of about CHUNK entries."""
        n = len(self.indptr) - 1
        bounds = np.searchsorted(self.indptr, np.arange(0, int(self.indptr[-1]), CHUNK),
                                 side="right") - 1
        starts = np.unique(np.concatenate([[0], bounds.clip(0, n)]))
        stops = np.append(starts[1:], n)
        return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b > a]

    def _take(self, J, lo: int, hi: int):
        """(first slot, row lengths, J's slots) of the owned rows lo .. hi-1."""
        a = int(self.indptr[lo])
        lengths = np.diff(self.indptr[lo:hi + 1])
        take = np.repeat(J.indptr[self.owned[lo:hi]] - self.indptr[lo:hi], lengths) \
            + np.arange(a, int(self.indptr[hi]))
        return a, lengths, take

    def fits(self, J: sp.csr_matrix) -> bool:
        """Whether ``J`` has the pattern this plan was made for."""
        return same_array(J.indptr, self.indptr_l) and same_array(J.indices, self.indices_l)

    def scaled(self, J: sp.csr_matrix, row_scale, col_scale, fixed):
        """The owned rows of diag(row_scale) J diag(col_scale) plus 1 on the
        diagonal of the ``fixed`` rows, their nonzero entries and diagonals,
        columns in local numbering (:class:`~.linear.RowsCSR`, its pattern the
        :class:`Kept` entries), or None when a fixed row has no diagonal entry
        in the pattern."""
        ones = np.sort(self.diagonal[np.asarray(fixed, dtype=np.int64)])
        if len(ones) and ones[0] < 0:
            return None
        scales = (row_scale, col_scale, ones)
        if self.kept is not None:  # the last iteration's nonzeros, most likely
            rows = self._fill(J, scales, self.kept)
            if rows is not None:
                return rows
        self.kept = None
        self.kept = self._learn(J, scales)
        return self._fill(J, scales, self.kept)

    def _values(self, J, lo: int, hi: int, scales):
        """Local columns, values and kept flags of the owned rows lo .. hi-1."""
        row_scale, col_scale, ones = scales
        a, lengths, take = self._take(J, lo, hi)
        cols = J.indices[take]
        data = J.data[take] * np.repeat(row_scale[lo:hi], lengths) * col_scale[cols]
        take = None
        e = int(self.indptr[hi])
        data[ones[np.searchsorted(ones, a):np.searchsorted(ones, e)] - a] += 1.0
        keep = data != 0
        diagonal = self.diagonal[lo:hi]
        keep[diagonal[diagonal >= 0] - a] = True
        return lengths, cols, data, keep

    def _learn(self, J, scales) -> Kept:
        """The entries of the scaled rows that are nonzero (or diagonal)."""
        bits, counts = [], np.zeros(len(self.owned), dtype=np.int64)
        for lo, hi in self.chunks:
            lengths, _, _, keep = self._values(J, lo, hi, scales)
            bits.append(np.packbits(keep))
            counts[lo:hi] = np.bincount(np.repeat(np.arange(hi - lo), lengths)[keep],
                                        minlength=hi - lo)
        indptr = np.zeros(len(self.owned) + 1, dtype=self.indptr.dtype)
        np.cumsum(counts, out=indptr[1:])
        return Kept(bits, indptr, self.l2g, self.start)

    def _fill(self, J, scales, kept: Kept):
        """The scaled rows on the ``kept`` entries (None if another entry is
        nonzero or a kept one is not)."""
        indptr = kept.indptr
        cols = np.empty(int(indptr[-1]), dtype=indptr.dtype)
        data = np.empty(len(cols))
        for (lo, hi), bits in zip(self.chunks, kept.bits, strict=True):
            _, local, values, keep = self._values(J, lo, hi, scales)
            if not np.array_equal(np.packbits(keep), bits):
                return None
            a, e = int(indptr[lo]), int(indptr[hi])
            cols[a:e] = local[keep]
            data[a:e] = values[keep]
        return RowsCSR(indptr, cols, data, self.shape, pattern=kept)
