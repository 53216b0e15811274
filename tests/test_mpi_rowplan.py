"""The lean path of a rank's Newton rows (femflux/parallel/rowplan.py), without
MPI: the owned rows of a local Jacobian, scaled, their local columns mapped to
global ones as PETSc maps them, against a dense product computed here; the
refill of the same nonzeros; zeros of the pattern left out (the P1 Laplacian
of a box mesh of right-angled tets is the 7-point stencil); the fall-back."""

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
    assert rows.pattern is plan.kept and rows.cols.dtype == np.int32
    assert np.array_equal(_dense(rows, l2g, shape), expected)
    # the fixed rows: their diagonal alone (row scale 0)
    assert all(rows.indptr[i + 1] - rows.indptr[i] == 1 for i in fixed)
    # new values on the same pattern: the same entries, the same columns, new data
    J2 = sp.csr_matrix((rng.normal(size=J.nnz), J.indices, J.indptr), shape=J.shape)
    assert plan.fits(J2)
    again = plan.scaled(J2, row_scale, col_scale, fixed)
    assert again.pattern is rows.pattern and np.array_equal(again.cols, rows.cols)
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


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_zeros_left_out_and_learned_again(monkeypatch, chunk):
    """Exact zeros of the pattern do not go to PETSc (diagonals do); a zero
    turning nonzero, or a nonzero turning zero, makes new kept entries."""
    monkeypatch.setattr(rowplan, "CHUNK", chunk)
    rng, J, owned, l2g, start, shape = _problem(3)
    zero = rng.random(J.nnz) < 0.4
    J.data[zero] = 0.0  # explicit zeros in the pattern (diagonals among them)
    ones_r, ones_c = np.ones(shape[0]), np.ones(J.shape[1])
    none = np.zeros(0, dtype=np.int64)
    plan = RowPlan(J, owned, l2g, start, shape, index=np.int32)
    rows = plan.scaled(J, ones_r, ones_c, none)
    dense = _dense(rows, l2g, shape)
    assert np.array_equal(dense, _reference(J, owned, l2g, shape, ones_r, ones_c, none, start))
    on_diagonal = l2g[rows.cols] == np.repeat(start + np.arange(shape[0]), np.diff(rows.indptr))
    assert np.all((rows.data != 0) | on_diagonal)  # no zero but a diagonal
    assert np.count_nonzero(on_diagonal) == shape[0]  # every diagonal, zero or not
    expected_nnz = np.count_nonzero(J[owned].toarray()) + np.count_nonzero(J.diagonal()[owned] == 0)
    assert len(rows.data) == expected_nnz
    # a zero off the diagonal turns nonzero: new kept entries, the right values
    J2 = J.copy()
    J2.data[np.flatnonzero(zero)[:3]] = 2.5
    again = plan.scaled(J2, ones_r, ones_c, none)
    assert again.pattern is not rows.pattern
    ref2 = _reference(J2, owned, l2g, shape, ones_r, ones_c, none, start)
    assert np.array_equal(_dense(again, l2g, shape), ref2)
    # and back: a nonzero turning zero is left out again
    third = plan.scaled(J, ones_r, ones_c, none)
    assert third.pattern is not again.pattern and len(third.data) == expected_nnz


def _box_laplacian(n, h):
    """P1 stiffness int grad u . grad v of a cube cut in n^3 cubes of side h
    (a power of 2: exact coordinates), six right-angled tets a cube (femflux's
    box mesh), summed element by element through femflux's Pattern (which
    keeps every pair of a tet's vertices)."""
    from skfem import MeshTet

    from femflux.fem.pattern import Pattern

    mesh = MeshTet.init_tensor(*(h * np.arange(n + 1.0),) * 3)
    x = mesh.p[:, mesh.t]  # (3, 4, cells)
    B = np.stack([x[:, k] - x[:, 0] for k in (1, 2, 3)], axis=0).transpose(2, 0, 1)
    grads = np.linalg.solve(B, np.broadcast_to(np.array([[-1.0, 1, 0, 0], [-1, 0, 1, 0],
                                                         [-1, 0, 0, 1]]), (len(B), 3, 4)))
    volume = np.abs(np.linalg.det(B)) / 6  # grads: (cells, 3 xyz, 4 vertices)
    local = np.einsum("c,cxi,cxj->ijc", volume, grads, grads)
    N = mesh.p.shape[1]
    pattern = Pattern(mesh.t, mesh.t, (N, N))
    pattern.assemble(local)
    return mesh, pattern.assemble(local)  # the second: through the learned slots


def test_box_laplacian_keeps_the_seven_point_stencil():
    """P1 Laplacian on the box mesh: its pattern has the 15 neighbours of a
    vertex, its nonzeros are the 7-point finite-difference stencil (closed
    form: 6 h on the diagonal, -h to the 6 axis neighbours, for cubes of side
    h); the face- and body-diagonal couplings cancel and are left out."""
    n, h = 6, 0.5
    mesh, J = _box_laplacian(n, h)
    N = J.shape[0]
    plan = RowPlan(J, np.arange(N), np.arange(N), 0, (N, N), index=np.int32)
    rows = plan.scaled(J, np.ones(N), np.ones(N), np.zeros(0, dtype=np.int64))
    interior = np.flatnonzero(np.all((mesh.p > 1e-9) & (mesh.p < n * h - 1e-9), axis=0))
    assert np.all(np.diff(J.indptr)[interior] == 15)  # the pattern
    assert np.all(np.diff(rows.indptr)[interior] == 7)  # the vertex and its 6 axis neighbours
    for i in interior:
        a, b = rows.indptr[i], rows.indptr[i + 1]
        cols, values = rows.cols[a:b], rows.data[a:b]
        axis = np.count_nonzero(np.abs(mesh.p[:, cols] - mesh.p[:, [i]]) > 1e-9, axis=0)
        assert np.all(axis[cols != i] == 1)
        assert np.allclose(values[cols != i], -h) and np.isclose(values[cols == i][0], 6 * h)
