"""Reading a mesh file: meshio import of the cells and coordinates, and its traps.

``meshio.read`` gives cell blocks, integer cell tags and named sets; this module
turns them into one first-order scikit-fem mesh of the top-dimensional cells
(the named sets are turned into boundaries and regions by :mod:`.groups`):

- named groups come from Gmsh physical groups (``gmsh:physical`` cell data and
  ``field_data`` names), meshio ``cell_sets`` (Abaqus ELSET, MSH 4.1),
  other integer tags (``medit:ref``, ``CellEntityIds``, ...: named by their
  number, with a warning) and meshio's ``"a-b-c"`` set encoding of VTU/XDMF;
  Abaqus node sets become boundaries made of the exterior facets they cover;
- groups of top-dimensional cells are regions (they must partition the mesh),
  groups of cells one dimension lower are boundaries (they must be facets);
- coordinates are reduced to the mesh dimension (a planar mesh stored with
  z = 0, a 1D mesh on the x axis); a surface-only file is an error;
- high-order cells are read as first order, repeated cells (MSH 2.2 writes a
  cell once per physical group) are merged, inverted cells are reoriented and
  degenerate ones are an error; meshio's diagnostics and ``sys.exit`` on
  unreadable files become one-line errors.

All problems raise :class:`femflux.errors.CaseError` naming the file.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import meshio
import numpy as np
import skfem
from skfem.io.meshio import INV_HEX_MAPPING

from ..errors import CaseError
from .femmesh import _SKFEM_MESH, FemMesh, _geometry, _radial_check
from .groups import (
    _add_point_set_boundaries,
    _boundaries_from_groups,
    _cell_groups,
    _partition,
    _regions_from_groups,
    _row_keys,
    _warn_ignored_groups,
)

# --------------------------------------------------------------------------- cell types

#: first-order cell type -> (topological dimension, number of corner nodes)
_CELL_SHAPES = {
    "vertex": (0, 1),
    "line": (1, 2),
    "triangle": (2, 3),
    "quad": (2, 4),
    "tetra": (3, 4),
    "hexahedron": (3, 8),
}
#: cell types meshio knows but femflux cannot use, with their dimension
_UNSUPPORTED_SHAPES = {"polygon": 2, "wedge": 3, "pyramid": 3, "polyhedron": 3}

#: the neighbours (a, b, c) of each hexahedron corner (VTK order) with
#: (x_a - x_i) x (x_b - x_i) . (x_c - x_i) > 0 for a positively oriented cell
_HEX_CORNERS = np.array(
    [
        [0, 1, 3, 4],
        [1, 2, 0, 5],
        [2, 3, 1, 6],
        [3, 0, 2, 7],
        [4, 7, 5, 0],
        [5, 4, 6, 1],
        [6, 5, 7, 2],
        [7, 6, 4, 3],
    ]
)
_REVERSED_ORDER = {
    "line": [1, 0],
    "triangle": [0, 2, 1],
    "quad": [0, 3, 2, 1],
    "tetra": [1, 0, 2, 3],
    "hexahedron": [0, 3, 2, 1, 4, 7, 6, 5],
}
_DEGENERATE_TOL = 1e-12  # |Jacobian| / h^d below this: a collapsed element


def _first_order_type(cell_type: str) -> str:
    """``tetra10`` -> ``tetra``: meshio's high-order names end in the node count."""
    return re.sub(r"\d+$", "", cell_type)


def _cell_dim(cell_type: str) -> int | None:
    """Topological dimension of a meshio cell type, or None for an unknown type."""
    base = _first_order_type(cell_type)
    if base in _CELL_SHAPES:
        return _CELL_SHAPES[base][0]
    return _UNSUPPORTED_SHAPES.get(base)


# --------------------------------------------------------------------------- reading


@dataclass
class _Block:
    """One meshio cell block reduced to first order (corner nodes)."""

    kind: str  # first-order meshio type
    dim: int
    nodes: np.ndarray  # (ncells, ncorners) file node numbers


def read_mesh(
    path, scale: float = 1.0, axisymmetric: bool = False, symmetry: str = "planar"
) -> FemMesh:
    """Read any meshio format into a :class:`FemMesh` (coordinates times ``scale``).

    Raises :class:`CaseError` naming the file for every problem: missing or
    unreadable file, unsupported or mixed cell types, surface-only 3D files,
    degenerate elements, overlapping regions, boundaries that are not facets,
    and radial coordinates x < 0 for axisymmetric/cylindrical/spherical meshes.
    """
    path = Path(path)
    geometry = _geometry(axisymmetric, symmetry, scale, str(path))
    raw = _read_file(path)
    warnings: list[str] = []
    blocks = _first_order_blocks(raw, str(path), warnings)
    kind = _top_cell_type(blocks, str(path))
    top_dim = _CELL_SHAPES[kind][0]
    groups = _cell_groups(raw, blocks, top_dim, str(path), warnings)

    top = [b for b, block in enumerate(blocks) if block.dim == top_dim]
    sizes = [len(blocks[b].nodes) for b in top]
    offsets = dict(zip(top, np.cumsum([0] + sizes)[:-1], strict=True))
    cells = np.concatenate([blocks[b].nodes for b in top]).astype(np.int64)
    cells, cell_map = _merge_duplicate_cells(cells, str(path), warnings)
    points, cells, node_map = _used_points(np.asarray(raw.points, dtype=float), cells, str(path))
    points = _reduce_coordinates(points, kind, str(path), warnings)
    _warn_duplicate_nodes(points, cells, str(path), warnings)
    cells = _orient_cells(kind, points, cells, str(path), warnings)
    points = _radial_check(points * scale, geometry, str(path))
    mesh = _skfem_mesh(kind, points, cells)

    regions = _regions_from_groups(groups, blocks, top_dim, offsets, cell_map)
    regions = _partition(regions, mesh.nelements, str(path), warnings)
    boundaries = _boundaries_from_groups(mesh, groups, blocks, top_dim, node_map, str(path))
    _add_point_set_boundaries(mesh, raw, node_map, boundaries, regions, str(path), warnings)
    _warn_ignored_groups(groups, blocks, top_dim, str(path), warnings)
    return FemMesh(mesh, boundaries, regions, geometry, str(path), warnings)


def _read_file(path: Path) -> meshio.Mesh:
    """``meshio.read`` with one-line errors for missing, unknown and broken files.

    meshio prints its diagnostics and calls ``sys.exit`` when no reader
    succeeds; both are captured here.  ``.msh`` is read as Gmsh (meshio would
    first try ANSYS).
    """
    if not path.is_file():
        raise CaseError(f"mesh file {path} not found")
    if path.suffix == ".geo":
        raise CaseError(f"mesh file {path} is a Gmsh geometry: mesh it first (gmsh -3 {path})")
    file_format = "gmsh" if path.suffix.lower() == ".msh" else None
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            return meshio.read(path, file_format=file_format)
    except (Exception, SystemExit) as exc:  # meshio raises many types for broken files
        detail = str(exc) if not isinstance(exc, SystemExit) else printed.getvalue()
        detail = " ".join(detail.split()) or type(exc).__name__
        hint = ""
        if file_format == "gmsh" and "gmsh:physical" in detail:
            hint = " (saved with Mesh.SaveAll=1 next to physical groups? save with SaveAll=0)"
        raise CaseError(f"mesh file {path} cannot be read: {detail}{hint}") from None


def _first_order_blocks(raw: meshio.Mesh, path: str, warnings: list[str]) -> list[_Block]:
    """All cell blocks as first-order cells (high-order: corner nodes only)."""
    blocks, high_order = [], set()
    for block in raw.cells:
        dim = _cell_dim(block.type)
        base = _first_order_type(block.type)
        if dim is None:
            raise CaseError(f"mesh file {path}: unsupported cell type '{block.type}'")
        if base not in _CELL_SHAPES:  # wedge, pyramid, polygon: kept to report
            blocks.append(_Block(base, dim, np.zeros((len(block.data), 0), dtype=np.int64)))
            continue
        ncorners = _CELL_SHAPES[base][1]
        data = np.asarray(block.data)
        if data.shape[1] > ncorners:
            high_order.add(block.type)
        blocks.append(_Block(base, dim, data[:, :ncorners]))
    if high_order:
        warnings.append(
            f"{path}: high-order cells ({', '.join(sorted(high_order))}) read as first order "
            "(corner nodes only; curved edges become straight)"
        )
    return blocks


def _top_cell_type(blocks: list[_Block], path: str) -> str:
    """The single first-order type of the top-dimensional cells (mixed types: error)."""
    sized = [b for b in blocks if len(b.nodes) and b.dim > 0]
    if not sized:
        raise CaseError(f"mesh file {path} contains no cells")
    top_dim = max(b.dim for b in sized)
    kinds = sorted({b.kind for b in sized if b.dim == top_dim})
    if len(kinds) > 1:
        raise CaseError(
            f"mesh file {path} mixes {' and '.join(kinds)} cells: femflux needs one element "
            "type (mesh all simplices, or recombine everything)"
        )
    if kinds[0] not in _SKFEM_MESH:
        raise CaseError(
            f"mesh file {path}: {kinds[0]} cells are not supported (use line, triangle, quad, "
            "tetra or hexahedron cells)"
        )
    return kinds[0]


# --------------------------------------------------------------------------- cells


def _row_hash(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every row (wrapping arithmetic); equal rows hash equal."""
    h = np.zeros(len(rows), dtype=np.uint64)
    for j in range(rows.shape[1]):
        h = h * np.uint64(0x9E3779B97F4A7C15) + rows[:, j].astype(np.uint64)
    return h


def _merge_duplicate_cells(cells: np.ndarray, path: str, warnings) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated cells (MSH 2.2 repeats a cell once per physical group it is in).

    Returns the unique cells (first occurrences, file order) and the map from
    the stacked file cells to them.
    """
    sorted_cells = np.sort(cells, axis=1)
    hashes = np.sort(_row_hash(sorted_cells))
    if not np.any(hashes[1:] == hashes[:-1]):  # fast path: equal rows have equal hashes
        return cells, np.arange(len(cells))
    keys = _row_keys(sorted_cells, int(cells.max()) + 1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) == len(cells):
        return cells, np.arange(len(cells))
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    warnings.append(
        f"{path}: {len(cells) - len(first)} repeated elements merged (an element listed in "
        "several groups)"
    )
    return cells[first[order]], rank[inverse.ravel()]


def _used_points(points: np.ndarray, cells: np.ndarray, path: str):
    """Keep only the nodes of the top-dimensional cells; renumber the cells.

    Returns ``(points, cells, node_map)`` with ``node_map[file node] = new node``
    or -1 for a dropped node.
    """
    used = np.unique(cells)
    if used[0] < 0 or used[-1] >= len(points):
        raise CaseError(f"mesh file {path}: cells refer to nodes that do not exist")
    node_map = np.full(len(points), -1, dtype=np.int64)
    node_map[used] = np.arange(len(used))
    return points[used], node_map[cells], node_map


def _warn_duplicate_nodes(points: np.ndarray, cells: np.ndarray, path: str, warnings) -> None:
    """Coincident nodes (within 1e-10 of the mesh size) that are separate nodes
    split the mesh: nothing flows between their sides.  Warn with their number
    and the number of connected parts of the cells."""
    size = max(float(np.ptp(points, axis=0).max(initial=0.0)), 1e-300)
    keys = np.round((points - points.min(axis=0)) / (1e-10 * size)).astype(np.int64)
    duplicates = len(points) - len(np.unique(keys, axis=0))
    if duplicates == 0:
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, ncells = len(points), len(cells)
    incidence = coo_matrix((np.ones(cells.size), (cells.ravel(), np.repeat(
        np.arange(ncells), cells.shape[1]) + n)), shape=(n + ncells, n + ncells))
    parts = connected_components(incidence, directed=False)[0]
    warnings.append(f"{path}: {duplicates} duplicate node{'s' if duplicates > 1 else ''}; the "
                    f"mesh has {parts} disconnected part{'s' if parts > 1 else ''} (coincident "
                    "nodes do not connect cells: merge them, e.g. Gmsh Coherence)")


def _reduce_coordinates(points: np.ndarray, kind: str, path: str, warnings) -> np.ndarray:
    """Coordinates with one column per mesh dimension.

    A 2D mesh stored with a constant z and a 1D mesh with constant y and z are
    flat; cells of a lower dimension spread in space (a surface mesh of a
    volume, a curve in the plane) are an error.
    """
    dim = _CELL_SHAPES[kind][0]
    if points.shape[1] < dim:
        raise CaseError(f"mesh file {path}: {dim}D cells with {points.shape[1]}D coordinates")
    extent = np.ptp(points, axis=0) if len(points) else np.zeros(points.shape[1])
    size = max(float(extent.max()), 1e-300)
    spread = extent > 1e-10 * size
    if np.any(spread[dim:]):
        if dim == 2 and not spread[1]:
            raise CaseError(
                f"mesh file {path} is a planar mesh in the xz plane: femflux reads 2D meshes "
                "in the xy plane (axisymmetric: x = r, y = z)"
            )
        if dim == 2:
            raise CaseError(
                f"mesh file {path} contains only surface cells ({kind}) spread in 3D: add a "
                "Physical Volume (Gmsh saves only the cells of physical groups)"
            )
        raise CaseError(
            f"mesh file {path} contains only curve cells (line) spread in "
            f"{int(np.flatnonzero(spread).max()) + 1}D: add a Physical Surface/Volume, or lay "
            "a 1D mesh along the x axis"
        )
    offsets = points[0, dim:] if len(points) else np.zeros(0)
    if np.any(np.abs(offsets) > 1e-10 * size):
        axes = ", ".join(f"{'xyz'[dim + j]} = {v:g}" for j, v in enumerate(offsets))
        warnings.append(f"{path}: constant coordinate {axes} dropped ({dim}D mesh)")
    return np.ascontiguousarray(points[:, :dim])


def _element_jacobians(kind: str, points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Signed Jacobian determinants at the corners (nelements, ncorners).

    Simplices are affine (one value per element); quads and hexahedra use the
    corner edge vectors in meshio/VTK node order.
    """
    x = points[cells]  # (nel, ncorners, dim)
    if kind == "line":
        return (x[:, 1, 0] - x[:, 0, 0])[:, None]
    if kind == "triangle":
        return _cross2(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0])[:, None]
    if kind == "tetra":
        return _triple(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0])[:, None]
    if kind == "quad":
        nxt, prv = np.roll(np.arange(4), -1), np.roll(np.arange(4), 1)
        return _cross2(x[:, nxt] - x, x[:, prv] - x)
    i, a, b, c = _HEX_CORNERS.T
    return _triple(x[:, a] - x[:, i], x[:, b] - x[:, i], x[:, c] - x[:, i])


def _cross2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _triple(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...i->...", np.cross(u, v), w)


def _max_edge(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Largest corner-to-corner distance of every element (a size for tolerances)."""
    x = points[cells]
    k = cells.shape[1]
    h2 = np.zeros(len(cells))
    for i in range(k):
        for j in range(i + 1, k):
            h2 = np.maximum(h2, np.sum((x[:, i] - x[:, j]) ** 2, axis=1))
    return np.sqrt(h2)


def _orient_cells(kind: str, points: np.ndarray, cells: np.ndarray, path: str, warnings):
    """Positively orient every element; degenerate or twisted elements are an error.

    A mesh whose elements are all negatively oriented (a Gmsh surface meshed
    clockwise) is reordered silently; a mesh with a minority of inverted
    elements is reordered with a warning, since it hints at a broken mesh.
    """
    jac = _element_jacobians(kind, points, cells)
    tol = _DEGENERATE_TOL * _max_edge(points, cells) ** _CELL_SHAPES[kind][0]
    positive = np.all(jac > tol[:, None], axis=1)
    negative = np.all(jac < -tol[:, None], axis=1)
    bad = ~(positive | negative)
    if np.any(bad):
        what = (
            "degenerate (zero-volume)"
            if kind in ("line", "triangle", "tetra")
            else ("degenerate or twisted (non-convex)")
        )
        first = int(np.flatnonzero(bad)[0])
        raise CaseError(
            f"mesh file {path}: {int(bad.sum())} {what} {kind} elements (the first: element "
            f"{first}, nodes {cells[first].tolist()}); remesh"
        )
    flipped = int(negative.sum())
    if flipped:
        cells = cells.copy()
        cells[negative] = cells[negative][:, _REVERSED_ORDER[kind]]
        if 0 < flipped < len(cells) and kind != "line":
            warnings.append(
                f"{path}: {flipped} of {len(cells)} elements were inverted (negative Jacobian) "
                "and have been reoriented"
            )
    return cells


def _skfem_mesh(kind: str, points: np.ndarray, cells: np.ndarray) -> skfem.Mesh:
    """The scikit-fem mesh of first-order cells in meshio node order."""
    t = cells.T
    if kind == "hexahedron":
        t = t[INV_HEX_MAPPING[:8]]
    return _SKFEM_MESH[kind](
        np.ascontiguousarray(points.T, dtype=np.float64),
        np.ascontiguousarray(t, dtype=np.int32),
    )
