"""Meshes: meshio import, generated meshes, named boundaries and regions.

Interface (used by models, results, cli and plot):

- ``FemMesh``: a scikit-fem mesh in metres with named facet sets (boundaries)
  and named element sets (regions).
- ``load_mesh(spec: MeshSpec) -> FemMesh``: from ``spec.file`` or ``spec.generate``.
- ``read_mesh(path, scale=1.0, axisymmetric=False, symmetry="planar") -> FemMesh``.
- ``generate_mesh(gen: GenerateSpec, scale=1.0, ...) -> FemMesh``.
- ``mesh_info(mesh: FemMesh) -> str``: the text ``femflux info`` prints.
- ``element_measures``, ``facet_measures``, ``region_measure``,
  ``boundary_measure``: sizes with the geometry weight of SPEC section 3
  (2 pi r for axisymmetric and cylindrical, 4 pi r^2 for spherical).

All problems raise :class:`femflux.errors.CaseError` naming the file.

Modules:

- :mod:`.femmesh` -- the FemMesh object: tags, geometry, measures, release_caches;
- :mod:`.read` -- meshio import of cells and coordinates, and the file traps;
- :mod:`.groups` -- named groups of a file -> boundaries and regions;
- :mod:`.generate` -- structured interval/rectangle/box meshes;
- :mod:`.load` -- the ``[mesh]`` table of a case: read or generated;
- :mod:`.info` -- the text of ``femflux info``.
"""

from .femmesh import (
    FemMesh,
    boundary_measure,
    element_measures,
    facet_measure,
    facet_measures,
    region_measure,
)
from .generate import generate_mesh
from .info import mesh_info
from .load import load_mesh
from .read import read_mesh

__all__ = [
    "FemMesh",
    "boundary_measure",
    "element_measures",
    "facet_measure",
    "facet_measures",
    "generate_mesh",
    "load_mesh",
    "mesh_info",
    "read_mesh",
    "region_measure",
]
