"""Quadrature point sets for zero-order terms, and prolongations onto them.

Zero-order terms (storage, reactions, sources, boundary fluxes) are integrated
on a :class:`PointSet`: nodal (lumped) quadrature for degree 1, which keeps
storage and reaction matrices diagonal and concentrations positive, Gauss
points for degree 2.  ``cell_points`` gives the volume points, ``facet_points``
those of a set of facets; a space's prolongation maps its dofs to point
values (weights include the geometry's metric).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import skfem

from ..mesh import FemMesh
from .space import Space, is_simplex, lagrange_element, metric, metric_degree


@dataclass
class PointSet:
    """Quadrature points for zero-order terms of one or more spaces.

    ``x`` (dim, npts), ``weight`` (npts,) including the metric, ``region``
    (npts,) the region index of each point.  A space's prolongation ``P``
    (npts x n, sparse) maps its dofs to point values; then
    ``int f v_i = P.T @ (weight * f)`` and
    ``int g v_i v_j = P.T @ diag(weight * g) @ P``.
    """

    x: np.ndarray
    weight: np.ndarray
    region: np.ndarray
    kind: str  # "nodal" | "gauss"
    node: np.ndarray | None = None  # nodal: the mesh dof of each point
    element: np.ndarray | None = None  # gauss: (element, q) of each point, flattened
    facet_basis: skfem.FacetBasis | None = None  # facet Gauss points
    quadrature: tuple[np.ndarray, np.ndarray] | None = None  # gauss: reference (X, W)

    def prolongation(self, space: Space) -> sp.csr_matrix:
        """Sparse (npts x space.n) map from the space's dofs to point values."""
        npts = len(self.weight)
        if self.kind == "nodal":
            local = space.local_dofs(self.node, self.region)
            rows = np.flatnonzero((local >= 0) & space.region_mask[self.region])
            return sp.csr_matrix((np.ones(len(rows)), (rows, local[rows])),
                                 shape=(npts, space.n))
        # Gauss points: basis values of the element's dofs at each point.
        return _gauss_prolongation(self, space)


def _gauss_prolongation(points: PointSet, space: Space) -> sp.csr_matrix:
    """Basis values of the space at the point set's Gauss points (zero elsewhere)."""
    mesh = space.fem_mesh.mesh
    basis = skfem.CellBasis(mesh, space.element, quadrature=points.quadrature,
                            elements=space.elements)
    nq = points.quadrature[1].shape[0]
    rows = (space.elements[:, None] * nq + np.arange(nq)[None, :])  # (nel, nq)
    rows_all, cols_all, vals_all = [], [], []
    for i, b in enumerate(basis.basis):
        rows_all.append(rows.ravel())
        cols_all.append(np.repeat(space.element_dofs[i], nq))
        vals_all.append(np.asarray(b[0]).ravel())
    return sp.csr_matrix(
        (np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
        shape=(len(points.weight), space.n),
    )


def cell_points(fem_mesh: FemMesh, degree: int) -> PointSet:
    """Points for zero-order volume terms: lumped nodal (degree 1) or Gauss (degree 2).

    Nodal points are (node, region) pairs with weight int_{region} v_node w dx,
    so a node on an interface carries one point per adjacent region.
    """
    mesh = fem_mesh.mesh
    region_ids = fem_mesh.region_ids
    if degree == 1:
        weights = _nodal_weights(fem_mesh)  # (nloc, nel)
        nodes = mesh.t
        regions = np.broadcast_to(region_ids, nodes.shape)
        nreg = max(len(fem_mesh.regions), 1)
        keys = nodes.astype(np.int64).ravel() * nreg + regions.ravel()
        size = mesh.nvertices * nreg
        unique = np.flatnonzero(np.bincount(keys, minlength=size))
        w = np.bincount(keys, weights=weights.ravel(), minlength=size)[unique]
        node = (unique // nreg).astype(np.int64)
        return PointSet(x=mesh.p[:, node], weight=w, region=(unique % nreg).astype(np.int32),
                        kind="nodal", node=node)
    space = Space(fem_mesh, degree)
    order = 2 * degree + metric_degree(fem_mesh.geometry) + (0 if is_simplex(mesh) else 1)
    basis = skfem.CellBasis(mesh, space.element, intorder=order)
    x = basis.mapping.F(basis.X)
    dx = basis.dx * metric(fem_mesh.geometry, x)
    nel, nq = dx.shape
    return PointSet(x=x.reshape(x.shape[0], -1), weight=dx.ravel(),
                    region=np.repeat(region_ids, nq).astype(np.int32), kind="gauss",
                    element=np.arange(nel * nq), quadrature=(basis.X, basis.W))


def _nodal_weights(fem_mesh: FemMesh) -> np.ndarray:
    """(nverts, nel) lumped weights int_e lambda_i w dx of the P1/Q1 basis."""
    mesh = fem_mesh.mesh
    geometry = fem_mesh.geometry
    if is_simplex(mesh) and metric_degree(geometry) <= 1:
        d = mesh.dim()
        p = mesh.p[:, mesh.t]  # (dim, d+1, nel)
        edges = p[:, 1:, :] - p[:, :1, :]  # (dim, d, nel)
        volume = np.abs(np.linalg.det(np.moveaxis(edges, -1, 0))) / np.prod(range(1, d + 1))
        if geometry == "planar":
            return np.broadcast_to(volume / (d + 1), mesh.t.shape)
        w = metric(geometry, p)  # (d+1, nel), linear in x
        # int_e lambda_i sum_j w_j lambda_j = vol (sum_j w_j + w_i) / ((d+1)(d+2))
        return volume * (w.sum(axis=0) + w) / ((d + 1) * (d + 2))
    element = lagrange_element(mesh, 1)
    order = 2 + metric_degree(geometry)
    basis = skfem.CellBasis(mesh, element, intorder=order)
    dx = basis.dx * metric(geometry, basis.mapping.F(basis.X))
    return np.stack([(np.asarray(b[0]) * dx).sum(axis=1) for b in basis.basis])


def facet_points(fem_mesh: FemMesh, facets: np.ndarray, degree: int) -> PointSet:
    """Points on a set of facets: nodal (lumped) for degree 1, Gauss for degree 2.

    ``region`` is the region of the element adjacent to each facet (the first
    one for interior facets).
    """
    mesh = fem_mesh.mesh
    facets = np.asarray(facets, dtype=np.int64)
    element = lagrange_element(mesh, degree)
    order = 2 * degree + metric_degree(fem_mesh.geometry) + (0 if is_simplex(mesh) else 1)
    fbasis = skfem.FacetBasis(mesh, element, facets=facets, intorder=order)
    x = np.asarray(fbasis.global_coordinates())
    ds = fbasis.dx * metric(fem_mesh.geometry, x)  # (nf, nq)
    adjacent = mesh.f2t[0, facets]
    region = fem_mesh.region_ids[adjacent]
    if degree == 1:
        # lumped: int_f v_k w ds for every vertex k of the facet (others vanish there)
        contrib = np.stack([(np.asarray(b[0]) * ds).sum(axis=1) for b in fbasis.basis])
        nodes = fbasis.element_dofs  # (nloc, nf) vertex numbers (P1/Q1 dofs)
        nreg = max(len(fem_mesh.regions), 1)
        keys = nodes.astype(np.int64) * nreg + region[None, :]
        on_facet = contrib > 0
        unique, inverse = np.unique(keys[on_facet], return_inverse=True)
        weight = np.bincount(inverse, weights=contrib[on_facet], minlength=len(unique))
        node = unique // nreg
        return PointSet(x=mesh.p[:, node], weight=weight,
                        region=(unique % nreg).astype(np.int32), kind="nodal", node=node)
    nf, nq = ds.shape
    return PointSet(x=x.reshape(x.shape[0], -1), weight=ds.ravel(),
                    region=np.repeat(region, nq).astype(np.int32), kind="facet-gauss",
                    facet_basis=fbasis)


def facet_prolongation(points: PointSet, space: Space) -> sp.csr_matrix:
    """Prolongation for facet points (nodal or facet Gauss)."""
    if points.kind == "nodal":
        return points.prolongation(space)
    fbasis = points.facet_basis
    vals = np.stack([np.asarray(b[0]) for b in fbasis.basis])  # (nloc, nf, nq)
    nloc, nf, nq = vals.shape
    region = points.region.reshape(nf, nq)[:, 0]
    local = space.local_dofs(fbasis.element_dofs, region[None, :])  # (nloc, nf)
    local = np.where(space.region_mask[region][None, :], local, -1)
    rows = np.broadcast_to(np.arange(nf * nq).reshape(1, nf, nq), vals.shape)
    cols = np.broadcast_to(local[:, :, None], vals.shape)
    ok = cols >= 0
    return sp.csr_matrix((vals[ok], (rows[ok], cols[ok])), shape=(nf * nq, space.n))
