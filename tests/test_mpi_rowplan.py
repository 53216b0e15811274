"""The lean path of a rank's Newton rows (femflux/parallel/rowplan.py), without
MPI: the owned rows of a local Jacobian, scaled, their local columns mapped to
global ones as PETSc maps them, against a dense product computed here; the
refill of the same pattern; the fall-back."""

import numpy as np
import pytest
import scipy.sparse as sp

from femflux.parallel import rowplan
from femflux.parallel.rowplan import RowPlan


def _problem(seed, n_local=300, n_global=1000, density=0.05):
    rng = np.random.default_rng(seed)
    J = sp.random(n_local, n_local, density=density, random_state=seed, format="csr")
    J = (J + sp.eye(n_local)).tocsr()  # every row has its diagonal
    J.sum_duplicates()
    J.sort_indices()
    owned = np.sort(rng.choice(n_local, size=n_local // 2, replace=False))
    rng.shuffle(owned)  # owned rows in global order: not the local order
    start = 17
    l2g = np.empty(n_local, dtype=np.int64)
    l2g[owned] = start + np.arange(len(owned))  # owned unknown i is global start + i
    others = np.setdiff1d(np.arange(n_global), l2g[owned])
    halo = np.setdiff1d(np.arange(n_local), owned)
    l2g[halo] = rng.choice(others, size=len(halo), replace=False)  # halo scattered
    return rng, J, owned, l2g, start, (len(owned), n_global)


def _reference(J, owned, l2g, shape, row_scale, col_scale, fixed, start):
    """The dense rows diag(r) J[owned] diag(s) in global columns, + 1 on the
    diagonal of the fixed rows."""
    D = J.toarray()[owned] * row_scale[:, None] * col_scale[None, :]
    out = np.zeros(shape)
    out[:, l2g] = D
    out[fixed, start + fixed] += 1.0
    return out


def _dense(rows, l2g, shape):
    """The rows as PETSc's MatSetValuesLocal puts them (columns through l2g)."""
    out = np.zeros(shape)
    for i in range(shape[0]):
        a, b = rows.indptr[i], rows.indptr[i + 1]
        cols = l2g[rows.cols[a:b]]
        assert len(np.unique(cols)) == b - a  # distinct columns: nothing overwritten
        out[i, cols] = rows.data[a:b]
    return out


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_scaled_owned_rows_in_global_columns(monkeypatch, chunk):
    monkeypatch.setattr(rowplan, "CHUNK", chunk)  # many chunks, or one
    rng, J, owned, l2g, start, shape = _problem(1)
    plan = RowPlan(J, owned, l2g, start, shape, index=np.int32)
    row_scale = rng.uniform(0.5, 2.0, shape[0])
    fixed = np.array([0, 5, 33])
    row_scale[fixed] = 0.0  # prescribed rows: zero, then the identity
    col_scale = rng.uniform(0.5, 2.0, J.shape[1])
    rows = plan.scaled(J, row_scale, col_scale, fixed)
    expected = _reference(J, owned, l2g, shape, row_scale, col_scale, fixed, start)
    assert rows.pattern is plan and rows.cols.dtype == np.int32
    assert np.array_equal(_dense(rows, l2g, shape), expected)
    # new values on the same pattern: the same plan, the same columns, new data
    J2 = sp.csr_matrix((rng.normal(size=J.nnz), J.indices, J.indptr), shape=J.shape)
    assert plan.fits(J2)
    again = plan.scaled(J2, row_scale, col_scale, fixed)
    assert again.pattern is plan and np.array_equal(again.cols, rows.cols)
    expected2 = _reference(J2, owned, l2g, shape, row_scale, col_scale, fixed, start)
    assert np.array_equal(_dense(again, l2g, shape), expected2)


def test_other_pattern_and_missing_diagonal():
    rng, J, owned, l2g, start, shape = _problem(2)
    plan = RowPlan(J, owned, l2g, start, shape, index=np.int32)
    other = (J + sp.eye(J.shape[0], k=3)).tocsr()
    assert not plan.fits(other)  # a different pattern: the plan is learned again
    K = J.tolil()
    K[owned[4], owned[4]] = 0.0
    K = K.tocsr()
    K.eliminate_zeros()  # row 4 has no diagonal entry now
    no_diagonal = RowPlan(K, owned, l2g, start, shape, index=np.int32)
    ones = np.ones(shape[0])
    assert no_diagonal.scaled(K, ones, np.ones(K.shape[1]), np.array([4])) is None
    assert no_diagonal.scaled(K, ones, np.ones(K.shape[1]), np.array([5])) is not None
