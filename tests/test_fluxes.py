"""The edge-averaged (EAFE / Scharfetter-Gummel) drift-diffusion term, checked
against independent references: the Galerkin stiffness (psi constant), the
Boltzmann equilibrium (zero flux), linearity in a, finite differences in psi."""

import numpy as np
import pytest
import skfem

from femflux.fem import EdgeAveragedFlux, GalerkinDriftFlux, Space
from femflux.mesh import FemMesh


def _space(dim: int) -> Space:
    """A distorted (non-Delaunay in places) simplex mesh with two regions."""
    mesh = (skfem.MeshTri().refined(3) if dim == 2 else skfem.MeshTet().refined(2))
    rng = np.random.default_rng(dim)
    p = mesh.p.copy()
    interior = np.ones(p.shape[1], dtype=bool)
    interior[mesh.boundary_nodes()] = False
    p[:, interior] += 0.02 * rng.standard_normal((dim, interior.sum()))
    mesh = type(mesh)(p, mesh.t)
    x_mid = mesh.p[0, mesh.t].mean(axis=0)
    regions = {"left": np.flatnonzero(x_mid < 0.5), "right": np.flatnonzero(x_mid >= 0.5)}
    return Space(FemMesh(mesh=mesh, boundaries={}, regions=regions))


@pytest.fixture(params=[2, 3])
def space(request):
    return _space(request.param)


def _k(space):
    k = np.full(space.fem_mesh.mesh.nelements, 2.0)
    k[space.fem_mesh.regions["right"]] = 0.5  # region-wise D / gamma
    return k


def test_constant_potential_gives_the_galerkin_stiffness(space):
    k = _k(space)
    term = EdgeAveragedFlux(space)
    a = 1.0 + space.x[0] ** 2
    residual, dA, dP = term.assemble(k, a, np.full(space.n, 0.7))
    K = space.stiffness(k)
    assert abs(dA - K).max() < 1e-12 * abs(K).max()
    assert np.allclose(residual, K @ a, rtol=0, atol=1e-12 * np.abs(K @ a).max())
    # and the Galerkin drift term agrees when there is no drift
    r_g, dA_g, _ = GalerkinDriftFlux(space).assemble(k, a, np.full(space.n, 0.7))
    assert np.allclose(r_g, residual, atol=1e-12 * np.abs(residual).max())


def test_boltzmann_profile_carries_no_flux(space):
    psi = 3.0 * np.sin(2.0 * space.x[0]) + 2.0 * space.x[1]
    a = 5.0 * np.exp(-psi)
    residual, dA, _ = EdgeAveragedFlux(space).assemble(_k(space), a, psi)
    assert np.abs(residual).max() < 1e-12 * np.abs(dA).max() * a.max()
    # a wrong sign of the drift would not balance
    wrong, _, _ = EdgeAveragedFlux(space).assemble(_k(space), a, -psi)
    assert np.abs(wrong).max() > 1e-3 * np.abs(dA).max()


def test_linear_in_a_and_jacobian_in_psi(space):
    rng = np.random.default_rng(0)
    term = EdgeAveragedFlux(space)
    k = _k(space)
    a = 1.0 + rng.random(space.n)
    psi = 4.0 * rng.standard_normal(space.n)  # large edge differences: both Bernoulli branches
    residual, dA, dP = term.assemble(k, a, psi)
    assert np.allclose(dA @ a, residual, rtol=1e-12, atol=1e-14 * np.abs(residual).max())
    v = rng.standard_normal(space.n)
    h = 1e-6
    r_plus, _, _ = term.assemble(k, a, psi + h * v)
    r_minus, _, _ = term.assemble(k, a, psi - h * v)
    fd = (r_plus - r_minus) / (2 * h)
    assert np.abs(dP @ v - fd).max() < 1e-6 * np.abs(fd).max()
    # the tables of -psi are the flipped tables of psi
    flipped = term.flipped(term.edge_tables(psi))
    r_flip, _, _ = term.assemble(k, a, -psi, flipped)
    r_neg, _, _ = term.assemble(k, a, -psi)
    assert np.array_equal(r_flip, r_neg)


@pytest.mark.parametrize("columns", ["identity", "increasing", "permuted", "shared"])
def test_edge_pattern_sums_the_edge_entries_as_coo_does(columns):
    """EdgePattern (built from the edges without a sort, off-diagonal entries
    written, diagonal ones summed per node) against scipy's COO sum of the
    same entries: identity columns, an increasing column map (d/dpsi into
    another block's columns), and maps the edge structure does not fit (a
    permutation, two dofs to one column: the general sum)."""
    import scipy.sparse as sp

    from femflux.fem.edges import EdgePattern

    s = _space(2)
    term = EdgeAveragedFlux(s)
    lo, hi, n = term.lo, term.hi, s.n
    rng = np.random.default_rng(3)
    cols, n_cols = {"identity": (None, n),
                    "increasing": (2 * np.arange(n) + 1, 2 * n + 1),
                    "permuted": (rng.permutation(n) + 5, n + 7),
                    "shared": (np.arange(n) // 2, n)}[columns]
    values = [rng.standard_normal(len(lo)) for _ in range(4)]
    pattern = EdgePattern(lo, hi, cols, (n, n_cols))
    assert (pattern.pattern is None) == (columns in ("identity", "increasing"))
    c = np.arange(n) if cols is None else cols
    reference = sp.coo_matrix((np.concatenate(values),
                               (np.concatenate([lo, hi, lo, hi]),
                                np.concatenate([c[lo], c[hi], c[hi], c[lo]]))),
                              shape=(n, n_cols)).toarray()
    for _ in range(2):  # the first and a later assembly
        np.testing.assert_allclose(pattern.assemble(*values).toarray(), reference,
                                   rtol=1e-13, atol=1e-13)


def test_p1_stiffness_by_edges_is_skfems_assembly(space):
    """Space.stiffness on P1 simplices (summed per edge) against skfem's own
    assembly of int k grad u . grad v with k per element (region-wise), and
    k per quadrature point constant on each element gives the same."""
    from skfem.helpers import dot, grad

    k = _k(space)

    @skfem.BilinearForm
    def form(u, v, w):
        return w.k * dot(grad(u), grad(v))

    basis = skfem.CellBasis(space.fem_mesh.mesh, space.element)
    reference = form.assemble(basis, k=np.repeat(k[:, None], basis.X.shape[1], axis=1)
                              ).toarray()
    order = np.argsort(space.dofs)  # local numbering -> skfem's
    K = space.stiffness(k)
    np.testing.assert_allclose(K.toarray()[np.ix_(order, order)],
                               reference[np.ix_(space.dofs[order], space.dofs[order])],
                               rtol=1e-12, atol=1e-12 * abs(reference).max())
    per_point = np.repeat(k[:, None], space.dx.shape[1], axis=1)
    np.testing.assert_allclose(space.stiffness(per_point).toarray(), K.toarray(),
                               rtol=1e-13, atol=1e-13 * abs(reference).max())
