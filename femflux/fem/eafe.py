"""Drift-diffusion flux terms J = -k (grad a + a grad psi), as element matrices.

``a`` is a species' activity concentration (mol/m^3), ``psi`` its
dimensionless drift potential (z F phi / RT for ions, -Omega sigma_h / RT for a
species in a stress field) and ``k = D / gamma`` per element.  The weak form
``int -J . grad v dx`` is assembled two ways:

- :class:`EdgeAveragedFlux` — the edge-averaged finite element method (EAFE,
  Xu & Zikatanov 1999) for P1 simplices: every edge (i, j) of an element
  carries the Scharfetter-Gummel flux
  ``w_ij k [B(psi_j - psi_i) a_i - B(psi_i - psi_j) a_j]`` with
  ``w_ij = -int grad(v_i).grad(v_j) w dx`` and the Bernoulli function
  ``B(x) = x / (e^x - 1)``.  Under a temperature field the drift of an edge
  is ``factor_E (psi_j - psi_i)``, ``factor_E = T0/T`` at its midpoint (psi
  taken at T0): J = -k (grad a + a (T0/T(x)) grad psi), so that adding a
  constant to the potential changes nothing.  Exact for exponential profiles along an edge, an
  M-matrix on Delaunay meshes (positive concentrations), conservative, and
  equal to the Galerkin stiffness when psi is constant.
- :class:`GalerkinDriftFlux` — plain Galerkin with quadrature, for other
  elements (quadrilaterals, hexahedra, degree 2).

Both return the residual vector and d/da, d/dpsi: EAFE as sparse matrices
(assembled per edge), Galerkin as element matrices to be summed through a
:class:`femflux.fem.Pattern`.
"""

from __future__ import annotations

import numpy as np

from .space import Space, is_simplex


def bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (e^x - 1), B(0) = 1, accurate for all x."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-4
    xs = np.where(small, 1.0, x)
    with np.errstate(over="ignore"):
        big = xs / np.expm1(xs)
    return np.where(small, 1.0 - 0.5 * x + x * x / 12.0, big)


def bernoulli_tables(x: np.ndarray):
    """B(x), B(-x), B'(x), B'(-x) without cancellation for any x.

    With a = |x|, q = e^-a and m = 1 - q (from ``expm1``): B(-a) = a/m is the
    large value, B(a) = q a/m the small one; B'(y) = B(y) (1 - B(-y)) / y;
    a series near 0.
    """
    x = np.asarray(x, dtype=float)
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = -np.expm1(-a)
        large = a / m  # B(-a)
        small_ = large * np.exp(-a)  # B(a)
        g_small = small_ * (1.0 - large) / a  # B'(a)
        g_large = -large * (1.0 - small_) / a  # B'(-a)
    positive = x >= 0
    b_plus = np.where(positive, small_, large)
    b_minus = np.where(positive, large, small_)
    g_plus = np.where(positive, g_small, g_large)
    g_minus = np.where(positive, g_large, g_small)
    near = a < 1e-3
    if near.any():
        xs = x[near]
        x2 = xs * xs
        b_plus[near] = 1.0 - 0.5 * xs + x2 / 12.0
        b_minus[near] = 1.0 + 0.5 * xs + x2 / 12.0
        g_plus[near] = -0.5 + xs / 6.0 - xs * x2 / 180.0
        g_minus[near] = -0.5 - xs / 6.0 + xs * x2 / 180.0
    return b_plus, b_minus, g_plus, g_minus


class EdgeAveragedFlux:
    """EAFE drift-diffusion term on a P1 simplex space, assembled edge by edge.

    Every element pair (i, j) of P1 simplices is a mesh edge, and psi_j - psi_i
    (hence the Bernoulli factors) is the same in every element around it: the
    element weights ``w_ij k`` are summed once per global edge (``W``), and a
    residual or Jacobian costs one pass over the edges (about 1.2 per node in
    2D, 7 in 3D) instead of one over nloc^2 entries of every element.
    """

    def __init__(self, space: Space):
        if space.degree != 1 or not is_simplex(space.fem_mesh.mesh):
            raise ValueError("EAFE needs P1 simplices")
        self.space = space
        edges = space.edges  # the mesh's edges, shared with the space's stiffness
        self.element_weights, self.edge_of = edges.element_weights, edges.edge_of
        self.lo, self.hi, self.n_edges = edges.lo, edges.hi, edges.n_edges
        self.factor = None  # (n_edges,) T0/T at the edge midpoints, or None
        self._weights: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def edge_weights(self, k: np.ndarray) -> np.ndarray:
        """W_E = sum over the elements around edge E of w_ij k (per-element k)."""
        cached = self._weights.get(id(k))
        if cached is None or cached[0] is not k:
            W = self.space.edges.weights(k)
            cached = self._weights[id(k)] = (k, W)
        return cached[1]

    def edge_tables(self, psi: np.ndarray):
        """Per edge, with d = psi_hi - psi_lo: ``[[B(d), B(-d)], [B'(d), B'(-d)]]``,
        (2, 2, nedges), evaluated without cancellation."""
        tables = np.empty((2, 2, self.n_edges))
        (tables[0, 0], tables[0, 1],
         tables[1, 0], tables[1, 1]) = bernoulli_tables(self.drop(psi))
        return tables

    def drop(self, psi: np.ndarray) -> np.ndarray:
        """The drift along every edge, psi_hi - psi_lo (times :attr:`factor`)."""
        d = psi[self.hi] - psi[self.lo]
        return d if self.factor is None else d * self.factor

    def midpoints(self) -> np.ndarray:
        """(dim, n_edges) the edges' midpoints (m)."""
        x = self.space.x
        return 0.5 * (x[:, self.lo] + x[:, self.hi])

    @staticmethod
    def flipped(tables):
        """The tables of -psi from those of psi (a view: B(d) <-> B(-d))."""
        return tables[:, ::-1]

    def _pattern(self, cols: np.ndarray | None, n_cols: int):
        """CSR pattern of the entries (lo, lo), (hi, hi), (lo, hi), (hi, lo),
        columns through ``cols`` (the column of each dof; None: itself)."""
        return self.space.edges.pattern(cols, n_cols)

    def assemble(self, k: np.ndarray, a: np.ndarray, psi: np.ndarray | None, tables=None,
                 psi_columns: tuple[np.ndarray, int] | None = None):
        """Residual (space.n,) and the CSR matrices d/da and d/dpsi.

        ``k`` per element, ``a`` and ``psi`` dof vectors of the space;
        ``tables`` = :meth:`edge_tables` of psi when already known (species
        of equal and opposite charges share them); ``psi_columns`` = (column of
        the psi unknown at each dof, number of columns) for d/dpsi (default:
        the space's own dofs).  d/dpsi is None without psi.
        """
        n = self.space.n
        W = self.edge_weights(k)
        if tables is None:
            tables = self.edge_tables(np.zeros(n) if psi is None else psi)
        b, bm = tables[0, 0], tables[0, 1]
        a_lo, a_hi = a[self.lo], a[self.hi]
        wb, wbm = W * b, W * bm
        flux = wb * a_lo - wbm * a_hi  # from lo to hi
        residual = (np.bincount(self.lo, weights=flux, minlength=n)
                    - np.bincount(self.hi, weights=flux, minlength=n))
        dA = self._pattern(None, n).assemble(wb, wbm, -wbm, -wb)
        if psi is None:
            return residual, dA, None
        G = W * (tables[1, 0] * a_lo + tables[1, 1] * a_hi)  # d flux / d(psi_hi - psi_lo)
        if self.factor is not None:
            G = G * self.factor
        cols, n_cols = psi_columns if psi_columns is not None else (None, n)
        dP = self._pattern(cols, n_cols).assemble(-G, -G, G, G)
        return residual, dA, dP


class GalerkinDriftFlux:
    """Galerkin drift-diffusion term int k (grad a + a grad psi) . grad v dx
    (grad psi times :attr:`factor` = T0/T at the quadrature points under a
    temperature field)."""

    def __init__(self, space: Space):
        self.space = space
        self.factor = None  # (nel, nq) T0/T at the quadrature points, or None

    def assemble(self, k: np.ndarray, a: np.ndarray, psi: np.ndarray | None, tables=None):
        s = self.space
        G = s.grads  # (nloc, dim, nel, nq)
        V = s.values  # (nloc, nel, nq)
        kk = (k[:, None] if k.ndim == 1 else k) * s.dx  # (nel, nq)
        ae = a[s.element_dofs]
        grad_a = np.einsum("ie,ideq->deq", ae, G)
        dA = np.einsum("ideq,jdeq,eq->ije", G, G, kk)
        if psi is None:
            flux = grad_a
            dP = np.zeros_like(dA)
        else:
            pe = psi[s.element_dofs]
            grad_p = np.einsum("ie,ideq->deq", pe, G)
            a_q = np.einsum("ie,ieq->eq", ae, V)
            drift = kk if self.factor is None else kk * self.factor
            if self.factor is not None:
                grad_p = grad_p * self.factor
            flux = grad_a + a_q * grad_p
            dA += np.einsum("ideq,jeq,deq,eq->ije", G, V, grad_p, kk)
            dP = np.einsum("ideq,jdeq,eq->ije", G, G, drift * a_q)
        r = np.einsum("ideq,deq,eq->ie", G, flux, kk)
        residual = np.bincount(s.element_dofs.ravel(), weights=r.ravel(), minlength=s.n)
        return residual, dA, dP


def drift_flux(space: Space):
    """EAFE on P1 simplices, Galerkin otherwise."""
    if space.degree == 1 and is_simplex(space.fem_mesh.mesh):
        return EdgeAveragedFlux(space)
    return GalerkinDriftFlux(space)
