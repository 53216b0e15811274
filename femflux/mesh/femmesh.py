"""The FemMesh object and its geometry: named tags, measures, the radial weight.

Owns:

- :class:`FemMesh`: a scikit-fem mesh in metres with named facet sets
  (boundaries) and named element sets (regions), its geometry,
  ``release_caches`` and ``global_max`` (over all parts of a distributed mesh);
- the geometry options (``planar``, ``axisymmetric``, ``cylindrical``,
  ``spherical``) and their checks on the coordinates (x = r >= 0);
- ``element_measures``, ``facet_measures``, ``region_measure``,
  ``boundary_measure``: sizes with the geometry weight of SPEC section 3
  (2 pi r for axisymmetric and cylindrical, 4 pi r^2 for spherical).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import skfem
from skfem.quadrature import get_quadrature

from ..errors import CaseError


@dataclass
class FemMesh:
    """A mesh ready for assembly.

    Attributes
    ----------
    mesh : skfem.Mesh
        Coordinates in metres (``scale`` applied).
    boundaries : dict[str, np.ndarray]
        Named facet sets: name -> facet indices into ``mesh.facets`` (sorted,
        unique).  Exterior facets or interior facets between regions.
    regions : dict[str, np.ndarray]
        Named element sets: name -> element indices (sorted, unique).  They
        partition the mesh (every element in exactly one region).  A mesh
        without element groups has the single region ``"domain"``.
    geometry : str
        ``"planar"``, ``"axisymmetric"`` (2D, x = r >= 0, y = z),
        ``"cylindrical"`` or ``"spherical"`` (1D, radial x >= 0).
    source : str
        File name, or ``"generated"``.
    warnings : list[str]
        Things a user should know (e.g. unnamed physical groups were dropped).
    """

    mesh: skfem.Mesh
    boundaries: dict[str, np.ndarray]
    regions: dict[str, np.ndarray]
    geometry: str = "planar"
    source: str = "generated"
    warnings: list[str] = field(default_factory=list)
    #: when this mesh is an MPI rank's part of a larger one: the largest of a
    #: value (number or array, elementwise) over all parts (None: the whole mesh)
    reduce_max: object = field(default=None, repr=False, compare=False)

    @property
    def dim(self) -> int:
        return self.mesh.dim()

    def global_max(self, value):
        """The largest ``value`` over the whole mesh, from this mesh's (a part's) own."""
        return value if self.reduce_max is None else self.reduce_max(value)

    @property
    def region_ids(self) -> np.ndarray:
        """Region number of every element (0, 1, ... in the order of ``regions``)."""
        ids = np.zeros(self.mesh.nelements, dtype=np.int32)
        for k, elements in enumerate(self.regions.values()):
            ids[elements] = k
        return ids

    @property
    def region_names(self) -> dict[int, str]:
        return dict(enumerate(self.regions))

    @property
    def cell_type(self) -> str:
        """The meshio name of the element type: line, triangle, quad, tetra, hexahedron."""
        return _MESHIO_NAME[type(self.mesh)]

    def release_caches(self) -> None:
        """Drop skfem's cached affine maps of every element and facet (some
        20 doubles per element and 10 per facet), once the spaces and facet
        bases are built; skfem recomputes them if a new basis needs them."""
        mapping = getattr(self.mesh, "_cached_mapping", None)
        for name in ("_A", "_b", "_detA", "_invA", "_B", "_c", "_detB"):
            if mapping is not None and hasattr(mapping, name):
                delattr(mapping, name)


# --------------------------------------------------------------------------- cell types

_SKFEM_MESH = {
    "line": skfem.MeshLine1,
    "triangle": skfem.MeshTri1,
    "quad": skfem.MeshQuad1,
    "tetra": skfem.MeshTet1,
    "hexahedron": skfem.MeshHex1,
}
_MESHIO_NAME = {cls: name for name, cls in _SKFEM_MESH.items()}


# --------------------------------------------------------------------------- geometry

_RADIAL_TOL = 1e-12  # relative to the mesh size: tolerated negative radius


def _geometry(axisymmetric: bool, symmetry: str, scale: float, where: str) -> str:
    """Validate the geometry options; returns the ``FemMesh.geometry`` string."""
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise CaseError(f"mesh.scale must be a positive number, got {scale!r} ({where})")
    if symmetry not in ("planar", "cylindrical", "spherical"):
        raise CaseError(f"mesh.symmetry must be planar, cylindrical or spherical, got {symmetry!r}")
    if axisymmetric and symmetry != "planar":
        raise CaseError(
            f"mesh.axisymmetric (2D) and mesh.symmetry = {symmetry!r} (1D) cannot both be set"
        )
    return "axisymmetric" if axisymmetric else symmetry


def _radial_check(points: np.ndarray, geometry: str, where: str) -> np.ndarray:
    """Check the dimension and x = r >= 0 of radial geometries; clip round-off negatives."""
    dim = points.shape[1]
    if geometry == "axisymmetric" and dim != 2:
        raise CaseError(f"mesh.axisymmetric needs a 2D mesh, {where} is {dim}D")
    if geometry in ("cylindrical", "spherical") and dim != 1:
        raise CaseError(f"mesh.symmetry = {geometry!r} needs a 1D mesh, {where} is {dim}D")
    if geometry == "planar":
        return points
    size = float(np.ptp(points, axis=0).max()) if len(points) else 0.0
    xmin = float(points[:, 0].min())
    if xmin < -_RADIAL_TOL * size:
        raise CaseError(
            f"{where}: the radial coordinate x must be >= 0 for a {geometry} mesh "
            f"(min x = {xmin:g}); put the axis/centre at x = 0"
        )
    points = points.copy()
    np.maximum(points[:, 0], 0.0, out=points[:, 0])
    return points


# --------------------------------------------------------------------------- measures


def _radial_weight(geometry: str, x: np.ndarray) -> np.ndarray:
    """The geometry weight at points x (dim, ...): 1, 2 pi r or 4 pi r^2."""
    if geometry in ("axisymmetric", "cylindrical"):
        return 2.0 * np.pi * x[0]
    if geometry == "spherical":
        return 4.0 * np.pi * x[0] ** 2
    return np.ones(x.shape[1:])


def element_measures(m: FemMesh, elements=None, weighted: bool = True) -> np.ndarray:
    """Size of every element in ``elements`` (default: all): length, area or volume.

    ``weighted``: include 2 pi r (axisymmetric, cylindrical) or 4 pi r^2
    (spherical), the convention of SPEC section 3.  Exact for first-order
    cells (second-order Gauss rule).
    """
    mapping = m.mesh.mapping()
    X, W = get_quadrature(m.mesh.elem.refdom, 2)
    tind = None if elements is None else np.asarray(elements)
    dx = np.abs(mapping.detDF(X, tind=tind)) * W
    if weighted and m.geometry != "planar":
        dx = dx * _radial_weight(m.geometry, mapping.F(X, tind=tind))
    return dx.sum(axis=1)


def facet_measures(m: FemMesh, facets=None, weighted: bool = True) -> np.ndarray:
    """Size of every facet in ``facets`` (default: all): 1 per point in 1D, m or m^2.

    ``weighted`` as in :func:`element_measures`.
    """
    facets = np.arange(m.mesh.nfacets) if facets is None else np.asarray(facets)
    if m.dim == 1:
        x = m.mesh.p[:, m.mesh.facets[0, facets]]
        return _radial_weight(m.geometry, x) if weighted else np.ones(len(facets))
    if len(facets) == 0:
        return np.zeros(0)
    mapping = m.mesh.mapping()
    X, W = get_quadrature(m.mesh.bndelem.refdom, 2)
    ds = np.abs(mapping.detDG(X, facets)) * W
    if weighted and m.geometry != "planar":
        ds = ds * _radial_weight(m.geometry, mapping.G(X, facets))
    return ds.sum(axis=1)


def region_measure(m: FemMesh, region, weighted: bool = True) -> float:
    """Total size of a region (name or element indices); see :func:`element_measures`."""
    elements = m.regions[region] if isinstance(region, str) else np.asarray(region)
    if len(elements) == 0:
        return 0.0
    return float(element_measures(m, elements, weighted).sum())


def boundary_measure(m: FemMesh, boundary, weighted: bool = True) -> float:
    """Total size of a boundary (name or facet indices); see :func:`facet_measures`."""
    facets = m.boundaries[boundary] if isinstance(boundary, str) else boundary
    return float(facet_measures(m, facets, weighted).sum())


facet_measure = boundary_measure  # the name used in the design notes
