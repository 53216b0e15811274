"""Fast vectorised assembly: the reused sparsity :class:`Pattern` of element matrices.

Element matrices are summed into a CSR matrix through a cached pattern: the
first assembly is a COO -> CSR conversion, from the second on the CSR slot of
every element entry is known and each re-assembly is one ``bincount``.
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

    @classmethod
    def from_entries(cls, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Pattern:
        """The pattern of given entries (values passed to :meth:`assemble` in
        the same order)."""
        pattern = cls.__new__(cls)
        pattern._maps, pattern._entries, pattern.shape = None, (rows, cols), shape
        pattern.slots = pattern.indices = pattern.indptr = None
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
            A = sp.coo_matrix((local.ravel(), self.entries()), shape=self.shape).tocsr()
            A.sum_duplicates()
            if self.indices is not None:  # assembled before: worth learning the slots
                self._learn(A)
            self.indices = A.indices
            return A
        data = np.bincount(self.slots, weights=local.ravel(), minlength=len(self.indices))
        return sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)

    def _learn(self, A: sp.csr_matrix) -> None:
        """Find the CSR slot of each element entry (CSR keys are sorted)."""
        n = self.shape[1]
        row_of_slot = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(A.indptr))
        keys = row_of_slot * n + A.indices
        del row_of_slot
        rows, cols = self.entries()
        slots = np.searchsorted(keys, rows.astype(np.int64) * n + cols)
        self.slots = slots.astype(np.int32) if len(keys) < 2**31 else slots
        self.indptr = A.indptr.copy()
        self._maps = self._entries = None  # only the slots are needed from now on
