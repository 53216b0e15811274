"""Finite-element spaces: Lagrange elements, the geometry metric, :class:`Space`.

A :class:`Space` is a continuous Lagrange space on a set of elements (a
species lives only in its regions), numbered locally (``0 .. n-1``); it may be
*broken* along the interfaces between groups of regions (one copy of each
interface dof per group, for fields that jump there).  Flux terms are
assembled from element-wise gradients (``int k grad(v_i).grad(v_j) w dx``)
through the space's cached :class:`~femflux.fem.pattern.Pattern`.

Integrals carry the geometry's metric ``w(x)``: 1 (planar), ``2 pi r``
(axisymmetric and 1D cylindrical) or ``4 pi r^2`` (1D spherical), so 3D and
axisymmetric results are per body, 2D planar per metre of depth and 1D planar
per square metre.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp
import skfem

from ..mesh import FemMesh
from .edges import Edges
from .pattern import Pattern

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
        self.region_mask[region_ids[self.elements]] = True

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

    @cached_property
    def edges(self) -> Edges:
        """The mesh edges of a P1 simplex space (:class:`~femflux.fem.edges.Edges`)."""
        if self.degree != 1 or not is_simplex(self.fem_mesh.mesh):
            raise ValueError("edges need P1 simplices")
        return Edges(self.grads, self.dx, self.element_dofs, self.n)

    def stiffness(self, coefficient: np.ndarray | float) -> sp.csr_matrix:
        """int k grad(v_i).grad(v_j) w dx with k per element (nel,) or per point (nel, nq).

        P1 simplices: summed per edge (K_ij = -W_E, K_ii = sum of the W_E at
        i, see :mod:`~femflux.fem.edges`; gradients are constant, so k enters
        as its metric-weighted element mean); else element matrices through
        :attr:`pattern`."""
        k = np.asarray(coefficient, dtype=float)
        if k.ndim == 0:
            k = np.full(len(self.elements), float(k))
        if self.degree == 1 and is_simplex(self.fem_mesh.mesh):
            if k.ndim == 2:
                measure = self.dx.sum(axis=1)
                k = np.divide((k * self.dx).sum(axis=1), measure, out=np.zeros(len(measure)),
                              where=measure != 0)
            W = self.edges.weights(k)
            return self.edges.pattern(None, self.n).assemble(W, W, -W, -W)
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
