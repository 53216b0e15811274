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
  ``B(x) = x / (e^x - 1)``.  Exact for exponential profiles along an edge, an
  M-matrix on Delaunay meshes (positive concentrations), conservative, and
  equal to the Galerkin stiffness when psi is constant.
- :class:`GalerkinDriftFlux` — plain Galerkin with quadrature, for other
  elements (quadrilaterals, hexahedra, degree 2).

Both return the residual vector and the element matrices d/da and d/dpsi, to
be summed through a :class:`femflux.fem.Pattern`.
"""

from __future__ import annotations

import numpy as np

from .fem import Space, is_simplex


def bernoulli(x: np.ndarray) -> np.ndarray:
    """B(x) = x / (e^x - 1), B(0) = 1, accurate for all x."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-4
    xs = np.where(small, 1.0, x)
    with np.errstate(over="ignore"):
        big = xs / np.expm1(xs)
    return np.where(small, 1.0 - 0.5 * x + x * x / 12.0, big)


def bernoulli_derivative(x: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """dB/dx = B(x) (1 - B(x)) / x - B(x), -1/2 at 0 (``b`` = B(x) if known)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    xs = np.where(small, 1.0, x)
    b = bernoulli(xs) if b is None else np.where(small, 1.0, b)
    big = b * (1.0 - b) / xs - b
    return np.where(small, -0.5 + x / 6.0 - x**3 / 180.0, big)


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
    """EAFE drift-diffusion term on a P1 simplex space."""

    def __init__(self, space: Space):
        if space.degree != 1 or not is_simplex(space.fem_mesh.mesh):
            raise ValueError("EAFE needs P1 simplices")
        self.space = space
        # w_ij = -K^e_ij: P1 stiffness entries of each element (with the metric)
        G = space.grads[..., 0]  # (nloc, dim, nel): constant gradients
        dx = space.dx.sum(axis=1)  # (nel,) element measure with the metric
        nloc = G.shape[0]
        self.pairs = [(i, j) for i in range(nloc) for j in range(i + 1, nloc)]
        self.weights = np.stack([-np.einsum("de,de->e", G[i], G[j]) * dx
                                 for i, j in self.pairs])  # (npairs, nel)

    def edge_tables(self, psi: np.ndarray):
        """Per edge of every element, with d = psi_j - psi_i: ``[[B(d), B(-d)],
        [B'(d), B'(-d)]]``, (2, 2, npairs, nel), evaluated without cancellation."""
        pe = psi[self.space.element_dofs]
        nel = pe.shape[1]
        tables = np.empty((2, 2, len(self.pairs), nel))
        for p, (i, j) in enumerate(self.pairs):  # edge by edge: small temporaries
            b, bm, g, gm = bernoulli_tables(pe[j] - pe[i])
            tables[0, 0, p], tables[0, 1, p], tables[1, 0, p], tables[1, 1, p] = b, bm, g, gm
        return tables

    @staticmethod
    def flipped(tables):
        """The tables of -psi from those of psi (a view: B(d) <-> B(-d))."""
        return tables[:, ::-1]

    def assemble(self, k: np.ndarray, a: np.ndarray, psi: np.ndarray | None, tables=None):
        """Residual (space.n,), d/da and d/dpsi element matrices (nloc, nloc, nel).

        ``k`` per element, ``a`` and ``psi`` local dof vectors of the space;
        ``tables`` = :meth:`edge_tables` of psi when already known (species
        of equal and opposite charges share them).
        """
        dofs = self.space.element_dofs
        ae = a[dofs]  # (nloc, nel)
        nloc, nel = ae.shape
        if tables is None:
            tables = self.edge_tables(np.zeros(self.space.n) if psi is None else psi)
        dA = np.zeros((nloc, nloc, nel))
        dP = np.zeros((nloc, nloc, nel))
        r = np.zeros((nloc, nel))
        for p, (i, j) in enumerate(self.pairs):  # each edge once
            w = self.weights[p] * k
            b, bm = tables[0, 0, p], tables[0, 1, p]
            g, gm = tables[1, 0, p], tables[1, 1, p]
            flux = w * (b * ae[i] - bm * ae[j])  # from node i to node j
            r[i] += flux
            r[j] -= flux
            wb, wbm = w * b, w * bm
            dA[i, i] += wb
            dA[i, j] -= wbm
            dA[j, i] -= wb
            dA[j, j] += wbm
            G = w * (g * ae[i] + gm * ae[j])  # d flux / d(psi_j - psi_i)
            dP[i, j] += G
            dP[i, i] -= G
            dP[j, j] -= G
            dP[j, i] += G
        residual = np.bincount(dofs.ravel(), weights=r.ravel(), minlength=self.space.n)
        return residual, dA, dP

    def flux_at_centroids(self, k: np.ndarray, a: np.ndarray, psi: np.ndarray | None):
        """(dim, nel) J per element: -k (grad a + a_mean grad psi) (for output)."""
        grad_a = self.space.gradient(a)
        if psi is None:
            return -k * grad_a
        a_mean = a[self.space.element_dofs].mean(axis=0)
        return -k * (grad_a + a_mean * self.space.gradient(psi))


class GalerkinDriftFlux:
    """Galerkin drift-diffusion term int k (grad a + a grad psi) . grad v dx."""

    def __init__(self, space: Space):
        self.space = space

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
            flux = grad_a + a_q * grad_p
            dA += np.einsum("ideq,jeq,deq,eq->ije", G, V, grad_p, kk)
            dP = np.einsum("ideq,jdeq,eq->ije", G, G, kk * a_q)
        r = np.einsum("ideq,deq,eq->ie", G, flux, kk)
        residual = np.bincount(s.element_dofs.ravel(), weights=r.ravel(), minlength=s.n)
        return residual, dA, dP

    def flux_at_centroids(self, k, a, psi):
        grad_a = self.space.gradient(a)
        if psi is None:
            return -k * grad_a
        a_mean = a[self.space.element_dofs].mean(axis=0)
        return -k * (grad_a + a_mean * self.space.gradient(psi))


def drift_flux(space: Space):
    """EAFE on P1 simplices, Galerkin otherwise."""
    if space.degree == 1 and is_simplex(space.fem_mesh.mesh):
        return EdgeAveragedFlux(space)
    return GalerkinDriftFlux(space)
