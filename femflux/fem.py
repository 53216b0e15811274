"""Finite-element spaces, quadrature point sets and fast vectorised assembly.

Everything here is model-agnostic.  A :class:`Space` is a continuous Lagrange
space on a set of elements (a species lives only in its regions), numbered
locally (``0 .. n-1``); it may be *broken* along the interfaces between groups
of regions (one copy of each interface dof per group, for fields that jump
there).  Flux terms are assembled from element-wise gradients
(``int k grad(v_i).grad(v_j) w dx``) through a cached sparsity pattern, so each
re-assembly is one ``einsum`` and one ``bincount``.  Zero-order terms (storage,
reactions, sources, boundary fluxes) are integrated on a :class:`PointSet`:
nodal (lumped) quadrature for degree 1, which keeps storage and reaction
matrices diagonal and concentrations positive, Gauss points for degree 2.

Integrals carry the geometry's metric ``w(x)``: 1 (planar), ``2 pi r``
(axisymmetric and 1D cylindrical) or ``4 pi r^2`` (1D spherical), so 3D and
axisymmetric results are per body, 2D planar per metre of depth and 1D planar
per square metre.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import skfem

from .mesh import FemMesh

_ELEMENTS = {
    (skfem.MeshLine1, 1): skfem.ElementLineP1,
    (skfem.MeshLine1, 2): skfem.ElementLineP2,
    (skfem.MeshTri1, 1): skfem.ElementTriP1,
    (skfem.MeshTri1, 2): skfem.ElementTriP2,
    (skfem.MeshQuad1, 1): skfem.ElementQuad1,
    (skfem.MeshQuad1, 2): skfem.ElementQuad2,
    (skfem.MeshTet1, 1): skfem.ElementTetP1,
    (skfem.MeshTet1, 2): skfem.ElementTetP2,
    (skfem.MeshHex1, 1): skfem.ElementHex1,
    (skfem.MeshHex1, 2): skfem.ElementHex2,
}


def lagrange_element(mesh: skfem.Mesh, degree: int) -> skfem.Element:
    """The continuous Lagrange element of ``degree`` for the mesh's cell type."""
    for (mesh_type, deg), element in _ELEMENTS.items():
        if isinstance(mesh, mesh_type) and deg == degree:
            return element()
    raise ValueError(f"no degree-{degree} element for {type(mesh).__name__}")


def is_simplex(mesh: skfem.Mesh) -> bool:
    return isinstance(mesh, (skfem.MeshLine1, skfem.MeshTri1, skfem.MeshTet1))


def metric_degree(geometry: str) -> int:
    """Polynomial degree of the metric weight w(x) of a geometry."""
    return {"planar": 0, "axisymmetric": 1, "cylindrical": 1, "spherical": 2}[geometry]


def metric(geometry: str, x: np.ndarray) -> np.ndarray | float:
    """Metric weight w(x) of the volume element: 1, 2 pi r or 4 pi r^2 (r = x[0])."""
    if geometry == "planar":
        return 1.0
    r = x[0]
    if geometry == "spherical":
        return 4.0 * np.pi * r**2
    return 2.0 * np.pi * r


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


class Space:
    """Lagrange space of ``degree`` on a subset of elements, continuous within
    groups of regions.

    With ``groups`` (the group of every region), a dof shared by elements of
    different groups is *broken*: it gets one local copy per group, and the
    elements of each group refer to their own copy (the field may jump across
    the interface between groups; what ties the copies together is up to the
    model).  Without ``groups``, or when the covered elements are all in one
    group, the space is the usual continuous one.

    Attributes
    ----------
    elements : element indices covered (all when the species lives everywhere)
    dofs : global skfem dof indices of the active dofs; local dof k is global
        dof ``dofs[k]`` (sorted; the extra copies of broken dofs follow at the end)
    local : (N,) global dof -> local dof (-1 where absent; the first copy if broken)
    n : number of active (local) dofs
    element_dofs : (nloc, nel) local dof numbers of each covered element
    x : (dim, n) coordinates of the dofs (m)
    grads : (nloc, dim, nel, nq) basis gradients at the quadrature points
    values : (nloc, nel, nq) basis values at the quadrature points
    broken : whether some dof has several copies
    copy_group : (n,) the group of each copy of a broken dof, -1 for other dofs
    """

    def __init__(self, fem_mesh: FemMesh, degree: int = 1, elements: np.ndarray | None = None,
                 groups: np.ndarray | None = None):
        mesh = fem_mesh.mesh
        self.fem_mesh = fem_mesh
        self.degree = degree
        self.element = lagrange_element(mesh, degree)
        self.elements = np.arange(mesh.nelements) if elements is None else np.asarray(elements)
        self.geometry = fem_mesh.geometry
        # Flux terms with element-wise constant coefficients are integrated exactly.
        tensor = 0 if is_simplex(mesh) else 2
        self.intorder = 2 * (degree - 1) + tensor + metric_degree(self.geometry)
        self.basis = skfem.CellBasis(mesh, self.element, intorder=self.intorder,
                                     elements=None if elements is None else self.elements)
        global_dofs = self.basis.element_dofs
        self.global_element_dofs = global_dofs
        region_ids = fem_mesh.region_ids
        element_group = None
        if groups is not None:
            element_group = np.asarray(groups)[region_ids[self.elements]]
            if len(np.unique(element_group)) < 2:
                element_group = None  # one group: nothing to break
        self.broken = element_group is not None
        self.region_group = np.asarray(groups) if self.broken else None
        if self.broken:
            self._number_broken(global_dofs, element_group)
        else:
            self.dofs = np.flatnonzero(np.bincount(global_dofs.ravel(), minlength=self.basis.N))
            self.local = np.full(self.basis.N, -1, dtype=np.int64)
            self.local[self.dofs] = np.arange(len(self.dofs))
            self.element_dofs = self.local[global_dofs].astype(np.int32)
            self.copy_group = np.full(len(self.dofs), -1, dtype=np.int64)
        self.n = len(self.dofs)
        self.x = self.basis.doflocs[:, self.dofs]
        # keep our own arrays of basis values and gradients; skfem's per-function
        # copies are then dropped (they double the memory on large meshes)
        self.grads = np.stack([b[0].grad for b in self.basis.basis])
        self.values = np.stack([np.asarray(b[0]) for b in self.basis.basis])
        self.basis.basis = None
        self.region_mask = np.zeros(max(len(fem_mesh.regions), 1), dtype=bool)
        self.region_mask[np.unique(region_ids[self.elements])] = True

    def _number_broken(self, global_dofs: np.ndarray, element_group: np.ndarray) -> None:
        """Local numbering with one copy per (global dof, group): the first copy
        of every dof in sorted order, then the extra copies of broken dofs."""
        ngroups = int(self.region_group.max()) + 1
        keys = global_dofs.astype(np.int64) * ngroups + element_group[None, :]
        ukeys, inverse = np.unique(keys, return_inverse=True)
        udof, ugroup = ukeys // ngroups, ukeys % ngroups
        first = np.ones(len(ukeys), dtype=bool)
        first[1:] = udof[1:] != udof[:-1]
        nbase = int(first.sum())
        key_local = np.empty(len(ukeys), dtype=np.int64)
        key_local[first] = np.arange(nbase)
        key_local[~first] = nbase + np.arange(len(ukeys) - nbase)
        counts = np.bincount(udof, minlength=self.basis.N)
        self.dofs = np.concatenate([udof[first], udof[~first]])
        self.local = np.full(self.basis.N, -1, dtype=np.int64)
        self.local[udof[first]] = np.arange(nbase)
        self.element_dofs = key_local[inverse.reshape(keys.shape)].astype(np.int32)
        self._ngroups = ngroups
        self._keys = ukeys
        self._key_local = key_local
        self._is_broken = counts > 1  # per global dof
        group = np.where(self._is_broken[udof], ugroup, -1)
        self.copy_group = np.empty(len(ukeys), dtype=np.int64)
        self.copy_group[key_local] = group

    def local_dofs(self, global_dofs: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """Local dof of each global dof as seen from an element of the matching
        region (the copy of that region's group if the dof is broken); -1 where
        the space has no such dof."""
        global_dofs = np.asarray(global_dofs, dtype=np.int64)
        out = self.local[global_dofs]
        if not self.broken:
            return out
        regions = np.broadcast_to(np.asarray(regions), global_dofs.shape)
        keys = global_dofs * self._ngroups + self.region_group[regions]
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        hit = self._keys[pos] == keys
        return np.where(self._is_broken[global_dofs], np.where(hit, self._key_local[pos], -1),
                        out)

    def element_local(self, elements: np.ndarray) -> np.ndarray:
        """(nloc, len(elements)) local dofs of the given (covered) mesh elements."""
        position = np.full(self.fem_mesh.mesh.nelements, -1, dtype=np.int64)
        position[self.elements] = np.arange(len(self.elements))
        return self.element_dofs[:, position[np.asarray(elements)]]

    def facet_dofs(self, facets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local dofs on a set of facets, seen from each covered element next to
        a facet (both copies of a broken dof on an interior facet), with the
        region of that element: ``(local, region)``, one entry per
        (facet dof, adjacent element), duplicates included."""
        mesh = self.fem_mesh.mesh
        facets = np.asarray(facets, dtype=np.int64)
        dofs = self.basis.dofs
        on_facet = [dofs.nodal_dofs[:, mesh.facets[:, facets]].reshape(-1, len(facets))]
        if mesh.dim() == 3 and dofs.edge_dofs.size:
            on_facet.append(dofs.edge_dofs[:, mesh.f2e[:, facets]].reshape(-1, len(facets)))
        if dofs.facet_dofs.size:
            on_facet.append(dofs.facet_dofs[:, facets])
        on_facet = np.vstack(on_facet)  # (dofs per facet, nf) global
        covered = np.zeros(mesh.nelements + 1, dtype=bool)
        covered[self.elements] = True
        local, region = [], []
        for side in (0, 1):
            element = mesh.f2t[side, facets]
            ok = covered[np.where(element < 0, -1, element)] & (element >= 0)
            if not ok.any():
                continue
            reg = np.broadcast_to(self.fem_mesh.region_ids[element[ok]],
                                  on_facet[:, ok].shape)
            local.append(self.local_dofs(on_facet[:, ok], reg).ravel())
            region.append(reg.ravel())
        if not local:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        local, region = np.concatenate(local), np.concatenate(region)
        keep = local >= 0
        return local[keep], region[keep]

    @cached_property
    def quadrature_x(self) -> np.ndarray:
        """(dim, nel, nq) coordinates of the quadrature points."""
        return self.basis.mapping.F(self.basis.X, tind=self.basis.tind)

    @cached_property
    def dx(self) -> np.ndarray:
        """(nel, nq) quadrature weights including the geometry's metric."""
        return self.basis.dx * metric(self.geometry, self.quadrature_x)

    @cached_property
    def pattern(self) -> Pattern:
        return Pattern(self.element_dofs, self.element_dofs, (self.n, self.n))

    def stiffness(self, coefficient: np.ndarray | float) -> sp.csr_matrix:
        """int k grad(v_i).grad(v_j) w dx with k per element (nel,) or per point (nel, nq)."""
        k = np.asarray(coefficient, dtype=float)
        if k.ndim == 1:
            k = k[:, None]
        local = np.einsum("ideq,jdeq,eq->ije", self.grads, self.grads, k * self.dx)
        return self.pattern.assemble(local)

    def gradient(self, u: np.ndarray, at_centroid: bool = True) -> np.ndarray:
        """(dim, nel) gradient of the local field ``u`` per element (centroid)."""
        g = np.einsum("ie,ideq->deq", u[self.element_dofs], self.grads)
        return g.mean(axis=2) if at_centroid else g

    def to_global(self, u: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Local dof values -> all dofs of the mesh (``fill`` where absent; the
        mean of the copies at a broken dof)."""
        out = np.full(self.basis.N, fill, dtype=float)
        if not self.broken:
            out[self.dofs] = u
            return out
        count = np.bincount(self.dofs, minlength=self.basis.N)
        total = np.bincount(self.dofs, weights=u, minlength=self.basis.N)
        present = count > 0
        out[present] = total[present] / count[present]
        return out


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
