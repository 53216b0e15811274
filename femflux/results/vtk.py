"""The one conversion of femflux fields to VTK.

``to_meshio`` turns a scikit-fem mesh (or :class:`femflux.mesh.FemMesh`) with
point and cell arrays into a ``meshio.Mesh`` with VTK's cell types and vertex
order; ``solution.vtu`` and ``step_NNNNN.vtu`` are written from it and
``to_pyvista`` (pictures, :meth:`femflux.Result.to_pyvista`) wraps it as a
``pyvista.UnstructuredGrid``.  meshio and PyVista are imported inside the
functions so that ``import femflux`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

if TYPE_CHECKING:
    import meshio
    import pyvista as pv

# (dimension, vertices per element) -> meshio cell type
_CELL_TYPES = {(1, 2): "line", (2, 3): "triangle", (2, 4): "quad", (3, 4): "tetra",
               (3, 8): "hexahedron", (3, 6): "wedge"}
_VTK_CELL_TYPES = {"line": 3, "triangle": 5, "quad": 9, "tetra": 10, "hexahedron": 12, "wedge": 13}
_SKFEM_TO_VTK_HEX = [0, 3, 6, 2, 1, 5, 7, 4]
_CHUNK = 1 << 16  # tetrahedra per orientation check


def to_meshio(
    fem_mesh: Any,
    point_data: dict[str, Any] | None = None,
    cell_data: dict[str, Any] | None = None,
) -> meshio.Mesh:
    """A scikit-fem mesh (or FemMesh) with its point and cell arrays as a meshio Mesh.

    Lines, triangles, quadrilaterals, tetrahedra, hexahedra and wedges are
    supported (quadratic meshes keep their corner vertices); hexahedra get
    VTK's vertex order and tetrahedra a positive volume.  Points are 3D (1D
    and 2D points get y = z = 0 and z = 0).  Point arrays have one row per
    mesh vertex and cell arrays one per element, each shaped (n,) or (n, k);
    (k, n) arrays (scikit-fem's layout) are transposed and 2-component
    vectors padded to 3.  A FemMesh adds its ``region`` ids as cell data
    unless ``cell_data`` has one.
    """
    import meshio

    mesh = getattr(fem_mesh, "mesh", fem_mesh)
    points = points_3d(mesh)
    t = np.asarray(mesh.t)
    cell_type = _CELL_TYPES.get((mesh.dim(), t.shape[0]))
    if cell_type is None:
        raise CaseError(f"cannot draw {type(mesh).__name__} elements")
    if cell_type == "hexahedron":
        t = t[_SKFEM_TO_VTK_HEX]
    if cell_type == "tetra":
        t = _positive_tets(points, t)
    n_cells = t.shape[1]
    point_arrays = {name: _vtk_array(values, len(points), name)
                    for name, values in (point_data or {}).items()}
    cell_data = dict(cell_data or {})
    if "region" not in cell_data and hasattr(fem_mesh, "region_ids"):
        cell_data["region"] = fem_mesh.region_ids
    cell_arrays = {name: [_vtk_array(values, n_cells, name)]
                   for name, values in cell_data.items()}
    return meshio.Mesh(points, [(cell_type, np.ascontiguousarray(t.T))],
                       point_data=point_arrays, cell_data=cell_arrays)


def to_pyvista(
    fem_mesh: Any,
    point_data: dict[str, Any] | None = None,
    cell_data: dict[str, Any] | None = None,
) -> pv.UnstructuredGrid:
    """A scikit-fem mesh (or FemMesh) as a PyVista UnstructuredGrid: the meshio Mesh of
    :func:`to_meshio` as it is (same points, cells and arrays, dtypes kept)."""
    import pyvista as pv

    m = to_meshio(fem_mesh, point_data, cell_data)
    (block,) = m.cells
    grid = pv.UnstructuredGrid({_VTK_CELL_TYPES[block.type]: block.data}, m.points)
    grid.point_data.update(m.point_data)
    grid.cell_data.update({name: arrays[0] for name, arrays in m.cell_data.items()})
    return grid


def points_3d(mesh: Any) -> np.ndarray:
    """Mesh vertices as an (n, 3) array (missing coordinates are 0)."""
    p = np.asarray(mesh.p, dtype=float)
    points = np.zeros((p.shape[1], 3))
    points[:, : p.shape[0]] = p.T
    return points


def _positive_tets(points: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Tetrahedra reordered where needed so that VTK sees positive volumes (by
    chunks: large results are written without large temporaries)."""
    negative = np.empty(t.shape[1], dtype=bool)
    for start in range(0, t.shape[1], _CHUNK):
        a, b, c, d = (points[t[i, start:start + _CHUNK]] for i in range(4))
        negative[start:start + _CHUNK] = np.einsum("ij,ij->i", np.cross(b - a, c - a), d - a) < 0
    if not negative.any():
        return t
    t = t.copy()
    t[1, negative], t[2, negative] = t[2, negative], t[1, negative]
    return t


def _vtk_array(values: Any, n: int, name: str) -> np.ndarray:
    """A contiguous array with ``n`` rows, vectors padded to 3 components."""
    a = np.asarray(values)
    if a.ndim == 2 and a.shape[0] != n and a.shape[1] == n:
        a = a.T
    if a.shape[0] != n:
        raise ValueError(f"array {name!r} has {a.shape[0]} rows, the mesh needs {n}")
    if a.ndim == 2 and a.shape[1] == 2:
        a = np.column_stack([a, np.zeros(n, dtype=a.dtype)])
    return np.ascontiguousarray(a)
