"""The edges of a P1 simplex space and matrices of per-edge entries.

On P1 simplices every pair (i, j) of an element's dofs is a mesh edge, and
the element matrices of a stiffness-like term (``int k grad(v_i).grad(v_j)
w dx``, the EAFE drift-diffusion flux) are sums over edges: ``K_ij = -W_E``
for the edge E = (i, j) and ``K_ii = sum of W_E`` over the edges at i, with
``W_E = sum over the elements e around E of -k_e grad(v_i).grad(v_j) |e|_w``
(1/m^2 times m^d times the metric).  :class:`Edges` numbers them once per
space; :class:`EdgePattern` sums per-edge entries into CSR without sorting.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .pattern import Pattern


class Edges:
    """The edges (lo, hi), lo < hi, of a P1 simplex space (local dofs), sorted
    by (lo, hi); ``edge_of`` (npairs, nel) the edge of every element pair
    (i, j), i < j, and ``element_weights`` (npairs, nel) their
    -grad(v_i).grad(v_j) |e|_w (m^(d-2) times the metric)."""

    def __init__(self, grads: np.ndarray, dx: np.ndarray, element_dofs: np.ndarray, n: int):
        G = grads[..., 0]  # (nloc, dim, nel): constant gradients
        measure = dx.sum(axis=1)  # (nel,) element measure with the metric
        el = element_dofs
        nloc = G.shape[0]
        pairs = [(i, j) for i in range(nloc) for j in range(i + 1, nloc)]
        self.element_weights = np.stack([-np.einsum("de,de->e", G[i], G[j]) * measure
                                         for i, j in pairs])  # (npairs, nel)
        keys = np.stack([np.minimum(el[i], el[j]).astype(np.int64) * n
                         + np.maximum(el[i], el[j]) for i, j in pairs])
        unique, edge_of = np.unique(keys.ravel(), return_inverse=True)
        self.edge_of = edge_of.astype(np.int32 if len(unique) < 2**31 else np.int64)
        self.lo, self.hi = unique // n, unique % n  # (nedges,) lo < hi
        self.n, self.n_edges = n, len(unique)
        self._structure = None  # edge_structure() of (lo, hi), once
        self._patterns: dict[int, tuple] = {}  # id(cols): (cols, its EdgePattern)

    def weights(self, k: np.ndarray) -> np.ndarray:
        """W_E = sum over the elements around edge E of their weight times k
        (per element, (nel,))."""
        return np.bincount(self.edge_of, weights=(self.element_weights * k).ravel(),
                           minlength=self.n_edges)

    def pattern(self, cols: np.ndarray | None, n_cols: int) -> EdgePattern:
        """The :class:`EdgePattern` of the edges with columns through ``cols``
        (the column of each dof; None: itself), kept per ``cols`` array."""
        key = -1 if cols is None else id(cols)
        cached = self._patterns.get(key)
        if cached is None or cached[0] is not cols:
            if self._structure is None:
                self._structure = edge_structure(self.lo, self.hi, self.n)
            same = cols is None or (n_cols == self.n and np.array_equal(cols, np.arange(self.n)))
            pattern = EdgePattern(self.lo, self.hi, None if same else cols, (self.n, n_cols),
                                  self._structure)  # the identity shares the indices too
            cached = self._patterns[key] = (cols, pattern)
        return cached[1]


class EdgePattern:
    """The CSR matrix of per-edge entries: for every edge E = (lo, hi),
    ``lo_lo`` at (lo, c(lo)), ``hi_hi`` at (hi, c(hi)), ``lo_hi`` at
    (lo, c(hi)) and ``hi_lo`` at (hi, c(lo)), duplicates summed (c: the
    column map ``cols``, None for the identity; ``structure``: the
    :func:`edge_structure` of (lo, hi), shared by the patterns of one mesh).

    With c strictly increasing (the identity, or a field's columns in its
    own block) row i holds its lower neighbours, itself and its upper ones,
    in that order, whatever c: the pattern is built from the edges without
    a sort, every edge's off-diagonal entries have a slot of their own and
    are written, and only the diagonal is summed, per node by ``bincount``
    (2 x n_edges entries into n, not 4 x n_edges into the matrix's slots).
    Any other c: the general :class:`Pattern` sum."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, cols: np.ndarray | None,
                 shape: tuple[int, int], structure=None):
        self.lo, self.hi, self.shape = lo, hi, shape
        self.pattern = None
        if cols is not None and not bool(np.all(cols[1:] > cols[:-1])):
            self.pattern = Pattern.from_entries(
                np.concatenate([lo, hi, lo, hi]),
                np.concatenate([cols[lo], cols[hi], cols[hi], cols[lo]]), shape)
            return
        if structure is None:
            structure = edge_structure(lo, hi, shape[0])
        self.indptr, indices, self.diagonal, self.lo_hi, self.hi_lo = structure
        self.indices = indices if cols is None else cols[indices].astype(indices.dtype)

    def assemble(self, lo_lo, hi_hi, lo_hi, hi_lo) -> sp.csr_matrix:
        """The matrix of the given per-edge values (each (n_edges,))."""
        if self.pattern is not None:
            return self.pattern.assemble(np.concatenate([lo_lo, hi_hi, lo_hi, hi_lo]))
        n = self.shape[0]
        data = np.empty(len(self.indices))
        data[self.lo_hi] = lo_hi
        data[self.hi_lo] = hi_lo
        diagonal = np.bincount(self.lo, weights=lo_lo, minlength=n)
        diagonal += np.bincount(self.hi, weights=hi_hi, minlength=n)
        data[self.diagonal] = diagonal
        A = sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)
        A.has_sorted_indices = True
        return A


def edge_structure(lo: np.ndarray, hi: np.ndarray, n: int):
    """The CSR pattern (indptr, indices) of the n x n matrix of the edges
    (lo, hi), (hi, lo) and every diagonal entry (i, i), and the slots in
    ``indices`` of the diagonal (per node), of (lo, hi) and of (hi, lo)
    (per edge).  The edges are unique with lo < hi, sorted by (lo, hi)
    (as ``np.unique`` of lo n + hi gives them); no sort of the entries:
    row i is its lower neighbours (edges with hi = i, by lo), the diagonal,
    its upper ones (edges with lo = i, by hi)."""
    ne = len(lo)
    below = np.bincount(hi, minlength=n)  # neighbours j < i of each node i
    above = np.bincount(lo, minlength=n)  # neighbours j > i
    index = np.int32 if ne * 2 + n < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=index)
    np.cumsum(below + above + 1, out=indptr[1:])
    diagonal = indptr[:-1] + below.astype(index)
    edge = np.arange(ne, dtype=index)
    first = (np.cumsum(above) - above).astype(index)  # first edge of each lo
    lo_hi = diagonal[lo] + 1 + (edge - first[lo])
    order = np.argsort(hi, kind="stable").astype(index)  # edges by (hi, lo)
    first = (np.cumsum(below) - below).astype(index)  # first of each hi in that order
    hi_lo = np.empty(ne, dtype=index)
    hi_lo[order] = indptr[hi[order]] + (edge - first[hi[order]])
    indices = np.empty(int(indptr[-1]), dtype=index)
    indices[diagonal] = np.arange(n, dtype=index)
    indices[lo_hi] = hi
    indices[hi_lo] = lo
    return indptr, indices, diagonal, lo_hi, hi_lo
