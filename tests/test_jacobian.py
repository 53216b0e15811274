"""BlockSum: the Jacobian summation with a learned pattern equals a plain COO sum."""

import numpy as np
import scipy.sparse as sp

from femflux.fem import BlockSum


def _pieces(rng, density=0.3):
    A = sp.random(6, 6, density=density, random_state=rng, format="csr")
    B = sp.random(6, 4, density=density, random_state=rng, format="csr")
    C = sp.random(4, 6, density=density, random_state=rng, format="csr")
    return [(0, 0, A), (0, 6, B), (6, 0, C), (6, 6, sp.identity(4, format="csr"))]


def _reference(pieces, rows, cols, vals, n=10):
    J = sp.csr_matrix((n, n))
    for r0, c0, b in pieces:
        full = sp.lil_matrix((n, n))
        full[r0:r0 + b.shape[0], c0:c0 + b.shape[1]] = b
        J = J + full.tocsr()
    if rows:
        J = J + sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(n, n)).tocsr()
    return J.toarray()


def test_block_sum_matches_coo_sum_when_reused_and_when_the_pattern_changes():
    rng = np.random.default_rng(1)
    pieces = _pieces(rng)
    rows, cols = [np.array([0, 3, 3, 9])], [np.array([9, 1, 1, 0])]  # with a duplicate
    summed = BlockSum((10, 10))
    for call in range(4):  # 1st: COO, 2nd: learn, 3rd and 4th: learned slots
        scaled = [(r0, c0, b * (call + 1.0)) for r0, c0, b in pieces]
        vals = [np.array([1.0, 2.0, 3.0, 4.0]) * (call + 1)]
        J = summed(scaled, rows, cols, vals)
        np.testing.assert_allclose(J.toarray(), _reference(scaled, rows, cols, vals), rtol=1e-14)
    assert summed._learned is not None
    other = _pieces(np.random.default_rng(7), density=0.5)  # another pattern: falls back
    J = summed(other, [], [], [])
    np.testing.assert_allclose(J.toarray(), _reference(other, [], [], []), rtol=1e-14)


def test_block_sum_lays_column_disjoint_pieces_side_by_side():
    """Pieces that share rows only with column-disjoint pieces (a coupled
    model's blocks; an explicit zero, an empty row, a narrow piece) are laid
    side by side without a search: the COO sum, sorted canonical CSR, and
    later calls reuse the pattern."""
    rng = np.random.default_rng(11)
    pieces = _pieces(rng)
    A = pieces[0][2].copy()
    A.data[::3] = 0.0  # explicit zeros keep their slots
    narrow = sp.random(6, 2, density=0.5, random_state=rng, format="csr")
    pieces = [(0, 0, A), (0, 8, narrow), (0, 6, pieces[1][2][:, :2]), pieces[2],
              (7, 6, sp.identity(3, format="csr"))]  # row 6 of the last block row: only C's
    summed = BlockSum((10, 10))
    assert summed._side_by_side([(r0, c0, b.tocsr()) for r0, c0, b in pieces]) is not None
    for factor in (1.0, -3.0):
        scaled = [(r0, c0, b * factor) for r0, c0, b in pieces]
        J = summed(scaled, [], [], [])
        np.testing.assert_allclose(J.toarray(), _reference(scaled, [], [], []), rtol=1e-14)
        assert J.has_canonical_format
        assert J.nnz == sum(b.nnz for _, _, b in pieces)  # the zeros kept
    overlapping = [(0, 0, A), (2, 3, sp.identity(3, format="csr"))]
    assert summed._side_by_side(overlapping) is None


def test_node_blocks_conversion_equals_the_permuted_matrix_for_reused_patterns():
    from femflux.linalg import _NodeBlocks

    rng = np.random.default_rng(3)
    n_nodes, size = 7, 3
    A = sp.random(n_nodes * size, n_nodes * size, density=0.2, random_state=rng, format="csr")
    A = (A + sp.identity(n_nodes * size)).tocsr()
    perm = (np.arange(size)[None, :] * n_nodes + np.arange(n_nodes)[:, None]).ravel()
    convert = _NodeBlocks(perm, size)
    for factor in (1.0, -2.5):  # the second call reuses the learned gather
        B = sp.csr_matrix((A.data * factor, A.indices, A.indptr), shape=A.shape)
        M = convert(B)
        assert M.blocksize == (size, size)
        np.testing.assert_array_equal(M.toarray(), B[perm][:, perm].toarray())


def test_bordered_matrix_and_its_split_match_block_assembly():
    """[[J, G^T], [G, 0]] built by insertion equals sp.bmat, the split gives back
    J, G^T and G (also with an empty row in J), and the products and scaling
    agree with the assembled matrix."""
    import scipy.sparse as sp

    from femflux.linalg import BorderedMatrix, scale_in_place

    rng = np.random.default_rng(3)
    J = (sp.random(40, 40, 0.2, random_state=4, format="lil") + sp.eye(40)).tolil()
    J[7, :] = 0.0
    J = J.tocsr()
    J.eliminate_zeros()
    G = sp.csr_matrix(rng.random((2, 40)) * (rng.random((2, 40)) < 0.5))
    full = sp.bmat([[J, G.T], [G, None]], format="csr")
    M = BorderedMatrix(J, G.T, G)
    assert abs(M.tocsr() - full).max() == 0.0
    z = rng.standard_normal(42)
    assert np.allclose(M @ z, full @ z, rtol=1e-14, atol=1e-14)
    back = BorderedMatrix.from_csr(full, 2)
    assert abs(back.A - J).max() == 0.0
    assert np.array_equal(back.B, G.T.toarray()) and np.array_equal(back.C, G.toarray())
    d = np.abs(J.diagonal())
    assert np.allclose(back.shift(1e-9), 1e-9 * np.where(d > 0, d, d.mean()))
    r, c = rng.random(42) + 0.5, rng.random(42) + 0.5
    S = M.scaled(r, c)
    expected = (sp.diags(r) @ full @ sp.diags(c)).toarray()
    assert np.allclose(S.tocsr().toarray(), expected, rtol=1e-14, atol=0)
    assert abs(M.A - J).max() == 0.0  # not in place: M unchanged
    big = sp.random(3000, 3000, 0.01, random_state=5, format="csr")  # several row chunks
    scaled = big.copy()
    scale_in_place(scaled, r.repeat(72)[:3000], c.repeat(72)[:3000], chunk=1000)
    ref = sp.diags(r.repeat(72)[:3000]) @ big @ sp.diags(c.repeat(72)[:3000])
    assert abs(scaled - ref).max() <= 1e-14 * abs(ref).max()


def test_block_sum_keeps_explicit_zeros_overlaps_and_learns_in_row_chunks():
    """Overlapping pieces add up, an explicit zero keeps its slot (a later call
    may put a value there), slots are found chunk by chunk, and a piece that
    fills whole rows of J alone is stored as a slice."""
    rng = np.random.default_rng(5)
    n = 60
    A = sp.random(40, n, density=0.2, random_state=rng, format="csr")
    A.data[::7] = 0.0  # explicit zeros in the pattern
    over = sp.random(10, 10, density=0.5, random_state=rng, format="csr")
    tail = sp.random(20, n, density=0.3, random_state=rng, format="csr")  # rows 40..59 alone
    summed = BlockSum((n, n))
    summed.chunk = 17  # many row chunks
    pieces = [(0, 0, A), (5, 3, over), (40, 0, tail)]
    J = summed(pieces, [np.array([2, 2])], [np.array([59, 59])], [np.array([1.0, -1.0])])
    np.testing.assert_allclose(J.toarray(), _reference(pieces, [np.array([2, 2])],
                                                       [np.array([59, 59])],
                                                       [np.array([1.0, -1.0])], n=n))
    assert J.nnz >= A.nnz + tail.nnz  # the zeros and the cancelled COO pair keep slots
    assert isinstance(summed._learned[1][2], slice)
    A2 = A.copy()
    A2.data[:] = 1.0  # the same pattern, now all nonzero
    J2 = summed([(0, 0, A2), (5, 3, over), (40, 0, tail)], [np.array([2, 2])],
                [np.array([59, 59])], [np.array([1.0, 1.0])])
    assert np.shares_memory(J2.indices, J.indices)  # the learned pattern is reused
    np.testing.assert_allclose(J2.toarray(), _reference([(0, 0, A2), (5, 3, over), (40, 0, tail)],
                                                        [np.array([2, 2])], [np.array([59, 59])],
                                                        [np.array([1.0, 1.0])], n=n))


def test_an_iterative_solver_releases_its_matrix_and_takes_it_back():
    """After release() the solver holds no matrix (resolve refuses); restore()
    or the next solve() bring one back, with the same answers as before."""
    import pytest
    import scipy.sparse as sp

    from femflux.linalg import BorderedMatrix, LinearSolver, NewtonFailure

    n = 30 ** 3
    lap = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30))
    eye = sp.identity(30)
    A = (sp.kron(sp.kron(lap, eye), eye) + sp.kron(sp.kron(eye, lap), eye)
         + sp.kron(sp.kron(eye, eye), lap)).tocsr()
    g = np.full((1, n), 1.0 / n)
    M = BorderedMatrix(A, g.T, g)  # Neumann-like gauge border on an SPD A (exactly solvable)
    b = np.concatenate([np.random.default_rng(0).standard_normal(n), [0.0]])
    solver = LinearSolver("iterative", 3, symmetric=True, border=1)
    x = solver.solve(M, b, rtol=1e-10)
    assert np.linalg.norm(M @ x - b) <= 1e-7 * np.linalg.norm(b)
    solver.release()
    assert solver.released and solver._cached.M is None
    with pytest.raises(NewtonFailure):
        solver.resolve(b)
    solver.restore(M)
    assert np.linalg.norm(M @ solver.resolve(b) - b) <= 1e-5 * np.linalg.norm(b)
    solver.release()
    x2 = solver.solve(M, b, rtol=1e-10)  # a new solve takes the matrix again
    assert not solver.released and np.allclose(x2, x, atol=1e-6 * np.abs(x).max())
