"""Fast vectorised assembly: the reused sparsity :class:`Pattern` of element matrices.

Element matrices are summed into a CSR matrix through a cached pattern: the
first assembly is a COO -> CSR conversion, from the second on the CSR slot of
every element entry is known and each re-assembly is one ``bincount``.
Patterns of given entries (:meth:`Pattern.from_entries`, re-assembled every
Newton iteration) learn their slots at the first assembly.  The slots are
found by :func:`csr_slots`: one COO -> CSR conversion that keeps the
duplicates, carrying each entry's number, and a sort within the rows (no
search over int64 keys: 2-3x faster at 1e6 cells).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Pattern:
    """Sparsity pattern of element matrices, reused across assemblies.

    ``row_dofs``/``col_dofs`` are (nloc, nel) local-to-global dof maps;
    ``assemble(local)`` sums element matrices of shape (nloc_r, nloc_c, nel)
    into a CSR matrix.  The first assembly is a plain COO -> CSR conversion;
    from the second on, the map from element entries to CSR slots is known and
    an assembly is a single ``bincount``.
    """

    def __init__(self, row_dofs: np.ndarray, col_dofs: np.ndarray, shape: tuple[int, int]):
        self._maps = (row_dofs, col_dofs)  # the entries are broadcast when needed (memory)
        self._entries = None
        self.shape = shape
        self.slots = None  # CSR slot of every element entry, from the second assembly on
        self.indices = self.indptr = None
        self.learn_first = False  # learn the slots at the first assembly

    @classmethod
    def from_entries(cls, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Pattern:
        """The pattern of given entries (values passed to :meth:`assemble` in
        the same order)."""
        pattern = cls.__new__(cls)
        pattern._maps, pattern._entries, pattern.shape = None, (rows, cols), shape
        pattern.slots = pattern.indices = pattern.indptr = None
        pattern.learn_first = True
        return pattern

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of every element entry, in the order of ``local.ravel()``."""
        if self._entries is not None:
            return self._entries
        row_dofs, col_dofs = self._maps
        nr, nc, nel = row_dofs.shape[0], col_dofs.shape[0], row_dofs.shape[1]
        return (np.broadcast_to(row_dofs[:, None, :], (nr, nc, nel)).ravel(),
                np.broadcast_to(col_dofs[None, :, :], (nr, nc, nel)).ravel())

    def assemble(self, local: np.ndarray) -> sp.csr_matrix:
        if self.slots is None:
            if self.indices is None and not self.learn_first:  # maybe the only assembly
                A = sp.coo_matrix((local.ravel(), self.entries()), shape=self.shape).tocsr()
                A.sum_duplicates()
                self.indices = A.indices
                return A
            self.indptr, self.indices, self.slots = csr_slots(*self.entries(), self.shape)
            self._maps = self._entries = None  # only the slots are needed from now on
        data = np.bincount(self.slots, weights=local.ravel(), minlength=len(self.indices))
        return sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)


def csr_slots(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
    """(indptr, indices, slots): the canonical CSR pattern of the entries
    (rows, cols), duplicates summed, and the slot in ``indices`` of every
    entry.  One COO -> CSR conversion keeping the duplicates, with each
    entry's number as its value, then a sort within each row (numbers move
    with their columns); a new slot starts wherever the column or the row
    changes."""
    count = len(rows)
    number = np.arange(count, dtype=np.float64)  # exact below 2^53 entries
    coo = sp.coo_matrix((number, (rows, cols)), shape=shape)
    coo.has_canonical_format = True  # keep the duplicates: they are the point
    A = coo.tocsr()
    del coo, number
    A.has_sorted_indices = False
    A.sort_indices()
    index = np.int32 if count < 2**31 else np.int64
    new = np.empty(count, dtype=bool)
    if count:
        new[0] = True
        np.not_equal(A.indices[1:], A.indices[:-1], out=new[1:])
        starts = A.indptr[:-1][np.diff(A.indptr) > 0]
        new[starts] = True  # the first entry of every row
    position = np.cumsum(new, dtype=index) - 1
    slots = np.empty(count, dtype=index)
    slots[A.data.astype(np.int64)] = position
    before = np.concatenate([[0], position + 1]).astype(index)
    return before[A.indptr], A.indices[new], slots
