"""An approximate Schur-complement split of node-blocked coupled systems
(e.g. species and their electric potential), the default AMG preconditioner
of non-symmetric systems with node blocks.

With the unknowns of the last node component p (the potential) last and the
others c (the species) first,

    A = [[A_cc, A_cp],
         [A_pc, A_pp]],

the coupling A_cp is taken as proportional to A_cc row by row,
A_cc^-1 A_cp ~ W = diag(w), w_i = (A_cp)_{i, node(i)} / (A_cc)_{ii} (exact
when a row's drift and diffusion share their stencil, as in Nernst-Planck:
J = -D (grad c + c z F/RT grad phi) gives w = c z F/RT), so that the Schur
complement is S = A_pp - A_pc W, with the pattern of A_pp (a screened
Poisson operator: eps K + F^2 sum z^2 c/RT M).  One application (block LDU
with W):

    y_c = AMG(A_cc) r_c,   z_p = AMG(S) (r_p - A_pc y_c),   z_c = y_c - W z_p,

one scalar smoothed-aggregation V-cycle for each of A_cc and S.  Unlike
Gauss-Seidel on the coupled matrix (point- or node-block-wise), which
diverges where the mesh is coarse against the Debye length (the coupling
then outweighs the diagonal: the conical nanopore at 10x its mesh density,
whose node-block AMG iterations grew by 35x per V-cycle), this stays a good
preconditioner in the electroneutral regime.  Hierarchies are kept across
Newton iterations (new fine levels only), as :class:`_AlgebraicMultigrid`'s.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fem import same_array
from ..fem.pattern import csr_slots
from .amg import VCycle, _AlgebraicMultigrid, _smoothed_aggregation, node_permutation
from .krylov import _krylov
from .sparse import _shifted


def schur_layout(perm: np.ndarray, size: int, n: int) -> int | None:
    """k = n - n / size, the unknowns before the last node component, when
    the unknowns are component-major (component a of node i at a n / size +
    i, see :func:`~femflux.linalg.amg.node_permutation`), else None."""
    if size < 2 or n % size or not np.array_equal(perm, node_permutation(n, size)):
        return None
    return n - n // size


class _SchurSplit:
    """The approximate Schur-complement preconditioner above, with GMRES.

    ``A`` (n, n) CSR with the last component's unknowns [k, n) (node i's at
    k + i; the c unknown j belongs to node j mod m); ``shift`` (n,) is added
    to the diagonal blocks (not to the Krylov operator)."""

    symmetric = False

    def __init__(self, A, k: int, shift=None):
        self.k, self.shape = k, A.shape
        self.m = A.shape[0] - k
        self._learn(A.tocsr())
        Acc, S = self._blocks(shift)
        self.ml = [_smoothed_aggregation(Acc, False), _smoothed_aggregation(S, False)]
        self.cycles = [VCycle(ml) for ml in self.ml]
        self.iterations = 0
        self.fresh_iterations = None

    def _learn(self, A) -> None:
        """Positions in A.data of A_cc, of A_cp's node-diagonal and of S's entries."""
        k, m = self.k, self.m
        self.A, self.pattern = A, (A.indptr, A.indices)
        indptr, indices = A.indptr, A.indices
        top = indptr[k]
        rows = np.repeat(np.arange(k), np.diff(indptr[: k + 1]))
        inside = indices[:top] < k
        self.cc_take = np.flatnonzero(inside)
        cc_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[inside], minlength=k))])
        self.cc_pattern = (indices[:top][inside].copy(), cc_indptr)
        own = np.flatnonzero(indices[:top] == k + rows % m)  # (i, k + node(i))
        self.cp_rows, self.cp_take = rows[own], own
        # S = A_pp - A_pc W: entry (p, j) of the p rows goes to column j - k
        # (j >= k) or node(j) = j mod m (j < k), duplicates summed
        lower = A.indices[top:]
        target_cols = np.where(lower >= k, lower - k, lower % m)
        prow = np.repeat(np.arange(m), np.diff(indptr[k:]))
        found = _diagonal_coupling_slots(prow, target_cols, lower >= k, m) \
            if A.has_sorted_indices else None
        s_indptr, s_indices, self.s_target = found or csr_slots(prow, target_cols, (m, m))
        self.s_pattern = (s_indices, s_indptr)
        self.s_cols = lower
        # A_pc on its own (the preconditioner's product skips A_pp's zeros)
        pc = np.flatnonzero(lower < k)
        self.pc_take = (pc + top).astype(A.indices.dtype if A.nnz < 2**31 else np.int64)
        pc_indptr = np.concatenate([[0], np.cumsum(np.bincount(prow[pc], minlength=m))])
        self.pc_pattern = (lower[pc].copy(), pc_indptr.astype(A.indices.dtype))

    def _blocks(self, shift):
        """A_cc and S of the current A (new arrays), and w."""
        A, k, m = self.A, self.k, self.m
        data = A.data
        Acc = sp.csr_matrix((data[self.cc_take], *self.cc_pattern), shape=(k, k))
        dcc = Acc.diagonal()
        dcp = np.zeros(k)
        dcp[self.cp_rows] = data[self.cp_take]
        self.w = np.divide(dcp, dcc, out=np.zeros(k), where=dcc != 0)
        scale = np.concatenate([-self.w, np.ones(m)])
        values = np.bincount(self.s_target, weights=data[A.indptr[k]:] * scale[self.s_cols],
                             minlength=len(self.s_pattern[0]))
        S = sp.csr_matrix((values, *self.s_pattern), shape=(m, m))
        self.Apc = sp.csr_matrix((data[self.pc_take], *self.pc_pattern), shape=(m, k))
        if shift is not None:
            Acc = _shifted(Acc, shift[:k], copy=False)
            S = _shifted(S, shift[k:], copy=False)
        return Acc, S

    def update(self, A, shift=None) -> None:
        """A new matrix of the same pattern: new fine levels, coarse levels kept."""
        for ml in self.ml:
            ml.levels[0].A = None
        A = A.tocsr()
        if same_array(A.indptr, self.pattern[0]) and same_array(A.indices, self.pattern[1]):
            self.A, self.pattern = A, (A.indptr, A.indices)
        else:
            self._learn(A)
        for ml, block in zip(self.ml, self._blocks(shift), strict=True):
            ml.levels[0].A = block

    stale = _AlgebraicMultigrid.stale

    def release(self) -> None:
        """Drop the matrix (the hierarchies and the blocks stay); update() restores."""
        self.A = self.Apc = None

    def precondition(self, r: np.ndarray) -> np.ndarray:
        k = self.k
        y = self.cycles[0](r[:k])
        z = self.cycles[1](r[k:] - self.Apc @ y)
        out = np.empty(self.shape[0])
        out[:k] = y - self.w * np.tile(z, k // self.m)
        out[k:] = z
        return out

    def solve(self, b, rtol=1e-9):
        # the long restart where it was measured: 3 or more unknowns per node
        # (PNP); with 2 (Cahn-Hilliard's c, mu: the split's diagonal W is no
        # approximation there) GMRES(30) gives up and SuperLU solves exactly
        x, self.iterations = _krylov(self.A, b, self.precondition, rtol, "Schur split",
                                      self.fresh_iterations, long=self.shape[0] >= 3 * self.m)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        return x


def _diagonal_coupling_slots(prow: np.ndarray, cols: np.ndarray, own: np.ndarray, m: int):
    """S's pattern and slots without a sort when A_pc couples every p row
    only to its own node (a lumped charge density, as in Nernst-Planck-Poisson)
    and A_pp has every diagonal: S's pattern is then A_pp's, each A_pc entry
    goes to its row's diagonal.  ``prow``/``cols`` the row and mapped column
    (node j mod m, or j - k) of each entry of the p rows (CSR order, columns
    sorted), ``own`` where they are A_pp's; (indptr, indices, slots) or None."""
    other = ~own
    if not np.array_equal(cols[other], prow[other]):
        return None
    rows, indices = prow[own], cols[own]
    diagonal = np.flatnonzero(indices == rows)
    if len(diagonal) != m or not np.array_equal(rows[diagonal], np.arange(m)):
        return None
    index = np.int32 if len(cols) < 2**31 else np.int64
    s_indptr = np.zeros(m + 1, dtype=index)
    np.cumsum(np.bincount(rows, minlength=m), out=s_indptr[1:])
    slots = np.empty(len(cols), dtype=index)
    slots[own] = np.arange(len(indices), dtype=index)
    slots[other] = diagonal[prow[other]]
    return s_indptr, indices.astype(index), slots

