"""Summing a model's Jacobian pieces into one CSR matrix of reused pattern.

A coupled Jacobian arrives as blocks in local numbering with their (row,
column) offsets, e.g. d(flux of species i)/d(phi), plus a few COO triples in
global numbering (reactions, boundary terms).  Converting all of them to COO
and back to CSR costs a sort of every entry and three copies of the matrix.
The pattern of a model's Jacobian does not change from one Newton iteration to
the next, so :class:`BlockSum` learns, once, the CSR slot of every entry of
every piece; afterwards a sum is one scatter-add per piece into a data array
that shares the learned ``indices``/``indptr``.  If the pieces change shape or
pattern, it learns again.  Learning never builds COO triples of the whole
matrix: the pattern is a sum of the pieces' CSR patterns and the slots are
searched a row chunk at a time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class BlockSum:
    """``J = sum of pieces``; ``pieces`` = [(row offset, column offset, sparse
    block)], ``rows/cols/vals`` = lists of global COO triples."""

    #: entries handled at a time while learning slots (bounds the temporaries)
    chunk = 1 << 21

    def __init__(self, shape: tuple[int, int]):
        self.shape = shape
        self.index = np.int32 if max(shape) < 2**31 else np.int64
        self._signature = None  # shapes/offsets/nnz of the learned pieces
        self._learned = None  # (block patterns, block slots, coo keys, coo slots)
        self._first = []  # per block: no earlier block shares a slot with it
        self.indices = self.indptr = None

    def __call__(self, pieces, rows, cols, vals) -> sp.csr_matrix:
        blocks = [(r0, c0, _canonical(b)) for r0, c0, b in pieces]
        coo_rows = np.concatenate(rows).astype(self.index) if rows else np.zeros(0, self.index)
        coo_cols = np.concatenate(cols).astype(self.index) if cols else np.zeros(0, self.index)
        coo_vals = np.concatenate(vals) if vals else np.zeros(0)
        signature = (tuple((r0, c0, b.shape, b.nnz) for r0, c0, b in blocks), len(coo_rows))
        if self._learned is None or signature != self._signature \
                or not self._same_pattern(blocks, coo_rows, coo_cols):
            self._learn(blocks, coo_rows, coo_cols)
            self._signature = signature
        _, slots, _, coo_slots = self._learned
        data = np.zeros(len(self.indices))
        for (_, _, b), s, first in zip(blocks, slots, self._first, strict=True):
            # slots of a canonical block are distinct; a block whose slots no
            # earlier block touched is written, not added (one pass, not three)
            if first:
                data[s] = b.data
            else:
                data[s] += b.data
        if len(coo_slots):
            np.add.at(data, coo_slots, coo_vals)
        J = sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)
        J.has_sorted_indices = True
        return J

    def _embedded(self, r0, c0, b) -> sp.csr_matrix:
        """The pattern of block b at (r0, c0) as an n x n CSR of small counts."""
        n = self.shape[0]
        indptr = np.zeros(n + 1, dtype=self.index)
        indptr[r0 + 1: r0 + b.shape[0] + 1] = b.indptr[1:]
        indptr[r0 + b.shape[0] + 1:] = b.nnz
        indices = (b.indices + c0 if c0 else b.indices).astype(self.index, copy=False)
        return sp.csr_matrix((np.ones(b.nnz, dtype=np.int16), indices, indptr),
                             shape=self.shape)

    def _learn(self, blocks, coo_rows, coo_cols) -> None:
        """J's pattern (the union of the pieces', summed as CSR patterns of
        positive counts, so that no explicit zero is lost) and the CSR slot of
        every entry of every piece, found row chunk by row chunk."""
        self.indices = self.indptr = self._learned = None  # free the old pattern first
        side_by_side = None if len(coo_rows) else self._side_by_side(blocks)
        if side_by_side is not None:
            indptr, indices, slots = side_by_side
        else:
            total = sp.csr_matrix(self.shape, dtype=np.int16)
            for r0, c0, b in blocks:
                total = total + self._embedded(r0, c0, b)
            if len(coo_rows):
                total = total + sp.csr_matrix((np.ones(len(coo_rows), dtype=np.int16),
                                               (coo_rows, coo_cols)), shape=self.shape)
            total.sort_indices()
            indptr, indices = total.indptr.astype(self.index), total.indices.astype(self.index)
            del total
            slots = [self._block_slots(indptr, indices, r0, c0, b) for r0, c0, b in blocks]
        slots = [_as_slice(s) for s in slots]
        coo_slots = self._coo_slots(indptr, indices, coo_rows, coo_cols)
        for (r0, _, b), s in zip(blocks, slots, strict=True):
            rows = slice(int(indptr[r0]), int(indptr[r0 + b.shape[0]]))
            if isinstance(s, slice) and b.shape[1] == self.shape[1] and s == rows:
                # a piece that is whole rows of J on its own (e.g. a model's
                # constant mechanical rows): it shares J's column indices
                b.indices = indices[s]
                b.indptr = (indptr[r0: r0 + b.shape[0] + 1] - indptr[r0]).astype(self.index)
        self.indices, self.indptr = indices, indptr
        touched = np.zeros(len(indices), dtype=bool)
        self._first = []
        for s in slots:
            self._first.append(not touched[s].any())
            touched[s] = True
        del touched
        self._learned = ([(b.indptr, b.indices) for _, _, b in blocks], slots,
                         (coo_rows, coo_cols), coo_slots)

    def _side_by_side(self, blocks):
        """J's pattern and the pieces' slots without a search when pieces that
        share rows have disjoint column ranges (a coupled model's blocks, e.g.
        c_i c_i, c_i phi, phi phi, phi c_i): row r of J is then the pieces'
        rows r laid side by side in column order.  (indptr, indices, slots)
        or None."""
        spans = [(r0, r0 + b.shape[0], c0, c0 + b.shape[1]) for r0, c0, b in blocks]
        for i, (a0, a1, b0, b1) in enumerate(spans):
            for c0_, c1_, d0, d1 in spans[:i]:
                if a0 < c1_ and c0_ < a1 and b0 < d1 and d0 < b1:
                    return None  # two pieces overlap
        filled = np.zeros(self.shape[0], dtype=self.index)
        before = [None] * len(blocks)
        for i in sorted(range(len(blocks)), key=lambda i: blocks[i][1]):  # by column
            r0, _, b = blocks[i]
            rows = slice(r0, r0 + b.shape[0])
            before[i] = filled[rows].copy()
            filled[rows] += np.diff(b.indptr).astype(self.index)
        indptr = np.zeros(self.shape[0] + 1, dtype=self.index)
        np.cumsum(filled, out=indptr[1:])
        del filled
        indices = np.empty(int(indptr[-1]), dtype=self.index)
        slots = []
        for (r0, c0, b), offset in zip(blocks, before, strict=True):
            start = indptr[r0: r0 + b.shape[0]] + offset - b.indptr[:-1].astype(self.index)
            s = np.repeat(start, np.diff(b.indptr)) + np.arange(b.nnz, dtype=self.index)
            indices[s] = b.indices + c0 if c0 else b.indices
            slots.append(s)
        return indptr, indices, slots

    def _block_slots(self, indptr, indices, r0, c0, b) -> np.ndarray:
        out = np.empty(b.nnz, dtype=self.index)
        m, ncols = b.shape[0], np.int64(self.shape[1])
        step = max(1, self.chunk * m // max(b.nnz, 1))
        for lo in range(0, m, step):
            hi = min(m, lo + step)
            a, e = indptr[r0 + lo], indptr[r0 + hi]
            ba, be = b.indptr[lo], b.indptr[hi]
            if be == ba:
                continue
            keys = np.repeat(np.arange(hi - lo, dtype=np.int64) * ncols,
                             np.diff(indptr[r0 + lo: r0 + hi + 1])) + indices[a:e]
            wanted = np.repeat(np.arange(hi - lo, dtype=np.int64) * ncols,
                               np.diff(b.indptr[lo: hi + 1])) + b.indices[ba:be] + c0
            out[ba:be] = a + np.searchsorted(keys, wanted)
        return out

    def _coo_slots(self, indptr, indices, rows, cols) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, dtype=self.index)
        ncols = np.int64(self.shape[1])
        touched = np.unique(rows)
        starts, lengths = indptr[touched], np.diff(indptr)[touched]
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        position = np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())
        keys = np.repeat(touched.astype(np.int64) * ncols, lengths) + indices[position]
        return position[np.searchsorted(keys, rows.astype(np.int64) * ncols + cols)] \
            .astype(self.index)

    def _same_pattern(self, blocks, coo_rows, coo_cols) -> bool:
        patterns, _, (rows, cols), _ = self._learned
        for (_, _, b), (indptr, indices) in zip(blocks, patterns, strict=True):
            if not (same_array(b.indptr, indptr) and same_array(b.indices, indices)):
                return False
        return np.array_equal(coo_rows, rows) and np.array_equal(coo_cols, cols)


def _as_slice(slots: np.ndarray):
    """Consecutive slots (a piece filling whole rows of J on its own, e.g. a
    model's constant mechanical rows) as a slice: no index array to keep."""
    if len(slots) and slots[-1] - slots[0] == len(slots) - 1 \
            and bool(np.all(slots[1:] > slots[:-1])):
        return slice(int(slots[0]), int(slots[-1]) + 1)
    return slots


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays; O(1) when both are views of the same memory."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.__array_interface__["data"][0] == b.__array_interface__["data"][0] \
            and a.strides == b.strides:
        return True
    return bool(np.array_equal(a, b))


def _canonical(block) -> sp.csr_matrix:
    """CSR with sorted indices and no duplicates (explicit zeros kept)."""
    b = block.tocsr() if not sp.isspmatrix_csr(block) else block
    if not b.has_canonical_format:
        b = b.copy()
        b.sum_duplicates()
    return b
