"""Summing a model's Jacobian pieces into one CSR matrix of reused pattern.

A coupled Jacobian arrives as blocks in local numbering with their (row,
column) offsets, e.g. d(flux of species i)/d(phi), plus a few COO triples in
global numbering (reactions, boundary terms).  Converting all of them to COO
and back to CSR costs a sort of every entry and three copies of the matrix.
The pattern of a model's Jacobian does not change from one Newton iteration to
the next, so :class:`BlockSum` learns, once, the CSR slot of every entry of
every piece; afterwards a sum is one scatter-add per piece into a data array
that shares the learned ``indices``/``indptr``.  If the pieces change shape or
pattern, it falls back to COO and learns again.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class BlockSum:
    """``J = sum of pieces``; ``pieces`` = [(row offset, column offset, sparse
    block)], ``rows/cols/vals`` = lists of global COO triples."""

    def __init__(self, shape: tuple[int, int]):
        self.shape = shape
        self.index = np.int32 if max(shape) < 2**31 else np.int64
        self._signature = None  # shapes/offsets/nnz of the last call's pieces
        self._learned = None  # (block patterns, block slots, coo keys, coo slots)
        self.indices = self.indptr = None

    def __call__(self, pieces, rows, cols, vals) -> sp.csr_matrix:
        blocks = [(r0, c0, _canonical(b)) for r0, c0, b in pieces]
        coo_rows = np.concatenate(rows).astype(self.index) if rows else np.zeros(0, self.index)
        coo_cols = np.concatenate(cols).astype(self.index) if cols else np.zeros(0, self.index)
        coo_vals = np.concatenate(vals) if vals else np.zeros(0)
        signature = (tuple((r0, c0, b.shape, b.nnz) for r0, c0, b in blocks), len(coo_rows))
        if self._learned is not None and signature == self._signature \
                and self._same_pattern(blocks, coo_rows, coo_cols):
            _, slots, _, coo_slots = self._learned
            data = np.zeros(len(self.indices))
            for (_, _, b), s in zip(blocks, slots, strict=True):
                data[s] += b.data  # slots of a canonical block are distinct
            if len(coo_slots):
                np.add.at(data, coo_slots, coo_vals)
            return sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)
        J = self._by_coo(blocks, coo_rows, coo_cols, coo_vals)
        if signature == self._signature:  # assembled twice alike: worth learning
            self._learn(J, blocks, coo_rows, coo_cols)
        self._signature = signature
        return J

    def _by_coo(self, blocks, coo_rows, coo_cols, coo_vals) -> sp.csr_matrix:
        r, c, v = [coo_rows], [coo_cols], [coo_vals]
        for r0, c0, b in blocks:
            b = b.tocoo()
            r.append((b.row + r0).astype(self.index))
            c.append((b.col + c0).astype(self.index))
            v.append(b.data)
        J = sp.coo_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                          shape=self.shape).tocsr()
        J.sum_duplicates()
        return J

    def _keys(self, rows, cols) -> np.ndarray:
        return rows.astype(np.int64) * self.shape[1] + cols

    def _learn(self, J, blocks, coo_rows, coo_cols) -> None:
        """The CSR slot of every entry of every piece (CSR keys are sorted)."""
        row_of_slot = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(J.indptr))
        keys = row_of_slot * self.shape[1] + J.indices
        del row_of_slot
        slots, patterns = [], []
        for r0, c0, b in blocks:
            b_rows = np.repeat(np.arange(b.shape[0], dtype=np.int64) + r0, np.diff(b.indptr))
            slots.append(np.searchsorted(keys, b_rows * self.shape[1] + b.indices + c0)
                         .astype(self.index))
            patterns.append((b.indptr, b.indices))
        coo_slots = np.searchsorted(keys, self._keys(coo_rows, coo_cols)).astype(self.index)
        self.indices, self.indptr = J.indices, J.indptr
        self._learned = (patterns, slots, (coo_rows, coo_cols), coo_slots)

    def _same_pattern(self, blocks, coo_rows, coo_cols) -> bool:
        patterns, _, (rows, cols), _ = self._learned
        for (_, _, b), (indptr, indices) in zip(blocks, patterns, strict=True):
            if not (same_array(b.indptr, indptr) and same_array(b.indices, indices)):
                return False
        return np.array_equal(coo_rows, rows) and np.array_equal(coo_cols, cols)


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
