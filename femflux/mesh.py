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

Reading a file
--------------
``meshio.read`` gives cell blocks, integer cell tags and named sets; this module
turns them into one first-order scikit-fem mesh of the top-dimensional cells:

- named groups come from Gmsh physical groups (``gmsh:physical`` cell data and
  ``field_data`` names), meshio ``cell_sets`` (Abaqus ELSET, MSH 4.1),
  other integer tags (``medit:ref``, ``CellEntityIds``, ...: named by their
  number, with a warning) and meshio's ``"a-b-c"`` set encoding of VTU/XDMF;
  Abaqus node sets become boundaries made of the exterior facets they cover;
- groups of top-dimensional cells are regions (they must partition the mesh),
  groups of cells one dimension lower are boundaries (they must be facets);
- coordinates are reduced to the mesh dimension (a planar mesh stored with
  z = 0, a 1D mesh on the x axis); a surface-only file is an error.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import meshio
import numpy as np
import skfem
from skfem.io.meshio import INV_HEX_MAPPING
from skfem.quadrature import get_quadrature

from .errors import CaseError

if TYPE_CHECKING:
    from .case import GenerateSpec, MeshSpec


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

    @property
    def dim(self) -> int:
        return self.mesh.dim()

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

_SKFEM_MESH = {
    "line": skfem.MeshLine1,
    "triangle": skfem.MeshTri1,
    "quad": skfem.MeshQuad1,
    "tetra": skfem.MeshTet1,
    "hexahedron": skfem.MeshHex1,
}
_MESHIO_NAME = {cls: name for name, cls in _SKFEM_MESH.items()}

#: integer cell data read as unnamed numbered tags (names only from Gmsh field_data)
_TAG_KEYS = ("gmsh:physical", "medit:ref", "CellEntityIds", "MaterialIDs", "cell_tags", "region")

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
_RADIAL_TOL = 1e-12  # relative to the mesh size: tolerated negative radius


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


@dataclass
class _Group:
    """Cells of one block that belong to a named (or numbered) set."""

    name: str
    block: int
    cells: np.ndarray  # cell indices within the block
    named: bool = True  # False: a bare integer tag, named by its number


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


def _cell_groups(raw: meshio.Mesh, blocks, top_dim: int, path: str, warnings) -> list[_Group]:
    """Every named or tagged cell set of the file, per block."""
    groups = _gmsh_physical_groups(raw, blocks, path, warnings)
    for key in _TAG_KEYS[1:]:
        groups += _numbered_tag_groups(raw, key)
    groups += _encoded_set_groups(raw)
    groups += _cell_set_groups(raw)
    return _name_unnamed_groups(groups, blocks, top_dim, path, warnings)


def _gmsh_physical_groups(raw: meshio.Mesh, blocks, path: str, warnings) -> list[_Group]:
    """Gmsh physical groups: ``gmsh:physical`` tags named by ``field_data`` (tag, dim).

    Named groups without any cell are reported: all of them empty is the
    MSH 2.2 ``Mesh.SaveAll=1`` trap (every cell written with tag 0), an error.
    """
    if "gmsh:physical" not in raw.cell_data:
        return []
    names = {}
    for name, value in raw.field_data.items():
        value = np.atleast_1d(value)
        if len(value) >= 2:
            names[(int(value[0]), int(value[1]))] = name
    groups = []
    for b, tags in enumerate(raw.cell_data["gmsh:physical"]):
        tags = np.asarray(tags).ravel()
        for tag in np.unique(tags):
            if tag == 0:  # Gmsh writes 0 for cells in no physical group
                continue
            name = names.get((int(tag), blocks[b].dim))
            cells = np.flatnonzero(tags == tag)
            groups.append(_Group(name or str(int(tag)), b, cells, named=name is not None))
    empty = sorted(set(names.values()) - {g.name for g in groups if g.named})
    if empty and len(empty) == len(names):
        raise CaseError(
            f"mesh file {path} names physical groups ({', '.join(empty)}) but no cell carries "
            "them: re-save the mesh with Mesh.SaveAll=0"
        )
    if empty:
        warnings.append(f"{path}: physical groups without cells: {', '.join(empty)}")
    return groups


def _numbered_tag_groups(raw: meshio.Mesh, key: str) -> list[_Group]:
    """Integer cell tags without names (``medit:ref``, ...): one group per value."""
    groups = []
    for b, tags in enumerate(raw.cell_data.get(key, [])):
        tags = np.asarray(tags).ravel()
        if tags.dtype.kind not in "iu":
            continue
        for tag in np.unique(tags):
            groups.append(_Group(str(int(tag)), b, np.flatnonzero(tags == tag), named=False))
    return groups


def _encoded_set_groups(raw: meshio.Mesh) -> list[_Group]:
    """meshio's cell-set encoding in VTU/XDMF: key ``"a-b-c"``, value = set index, -1 none."""
    groups = []
    for key, arrays in raw.cell_data.items():
        if key in _TAG_KEYS or ":" in key:
            continue
        arrays = [np.asarray(a).ravel() for a in arrays]
        if not all(a.dtype.kind in "iu" for a in arrays):
            continue
        names = key.split("-")
        values = np.unique(np.concatenate(arrays)) if arrays else np.array([])
        if len(values) == 0 or values.min() < -1 or values.max() >= len(names):
            continue
        for b, tags in enumerate(arrays):
            for k, name in enumerate(names):
                cells = np.flatnonzero(tags == k)
                if len(cells):
                    groups.append(_Group(name, b, cells))
    return groups


def _cell_set_groups(raw: meshio.Mesh) -> list[_Group]:
    """meshio ``cell_sets`` (Abaqus ELSET, MSH 4.1 names), without Gmsh internals."""
    groups = []
    for name, per_block in raw.cell_sets.items():
        if name.startswith("gmsh:"):  # gmsh:bounding_entities is not a set of cells
            continue
        for b, cells in enumerate(per_block):
            if cells is not None and len(cells):
                groups.append(_Group(name, b, np.unique(np.asarray(cells, dtype=np.int64))))
    return groups


def _name_unnamed_groups(groups, blocks, top_dim, path, warnings) -> list[_Group]:
    """Resolve bare integer tags, separately for regions and for boundaries.

    Where named groups of that kind exist, the bare tags are dropped (a warning
    names those not already covered by a named group); otherwise they are kept
    under their number with a warning, and a single bare region tag (every
    element carries it) becomes ``"domain"`` silently.
    """
    kept = [g for g in groups if g.named or blocks[g.block].dim not in (top_dim, top_dim - 1)]
    for dim, kind in ((top_dim, "regions"), (top_dim - 1, "boundaries")):
        named = [g for g in groups if g.named and blocks[g.block].dim == dim]
        bare = [g for g in groups if not g.named and blocks[g.block].dim == dim]
        if not bare:
            continue
        tags = ", ".join(sorted({g.name for g in bare}, key=_natural))
        if named:
            loose = _uncovered_tags(bare, named, blocks)
            if loose:
                warnings.append(
                    f"{path}: unnamed physical groups / cell tags dropped ({kind} "
                    f"{', '.join(loose)}): give them names to use them"
                )
            continue
        if kind == "regions" and len({g.name for g in bare}) == 1:
            kept += [_Group("domain", g.block, g.cells) for g in bare]
            continue
        kept += bare
        warnings.append(
            f"{path}: unnamed physical groups / cell tags, named by their number: {kind} "
            f'{tags} (give them names, e.g. Physical Surface("bath") in Gmsh)'
        )
    return kept


def _uncovered_tags(bare: list[_Group], named: list[_Group], blocks) -> list[str]:
    """Bare tags with cells outside every named group (tags merely duplicating names: no)."""
    covered = [np.zeros(len(b.nodes), dtype=bool) for b in blocks]
    for g in named:
        covered[g.block][g.cells] = True
    loose = {g.name for g in bare if not np.all(covered[g.block][g.cells])}
    return sorted(loose, key=_natural)


def _natural(text: str):
    """Sort key putting '2' before '10'."""
    return (len(text), text) if text.isdigit() else (math.inf, text)


def _warn_ignored_groups(groups, blocks, top_dim, path, warnings) -> None:
    """Groups of lower-dimensional cells (points in 2D/3D, curves in 3D) are not used."""
    ignored = sorted({g.name for g in groups if blocks[g.block].dim < top_dim - 1})
    if ignored:
        warnings.append(
            f"{path}: groups of dimension below {top_dim - 1} are not used: {', '.join(ignored)}"
        )


# --------------------------------------------------------------------------- geometry


def _row_keys(rows: np.ndarray, nnodes: int) -> np.ndarray:
    """One comparable key per row of sorted node numbers (int64 when it fits, else bytes)."""
    rows = np.asarray(rows, dtype=np.int64)
    width = rows.shape[1]
    bits = max(int(nnodes).bit_length(), 1)
    if bits * width <= 62:
        keys = np.zeros(len(rows), dtype=np.int64)
        for j in range(width):
            keys = (keys << bits) | rows[:, j]
        return keys
    rows = np.ascontiguousarray(rows)
    return rows.view(np.dtype((np.void, rows.itemsize * width))).ravel()


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


# --------------------------------------------------------------------------- named sets


def _regions_from_groups(groups, blocks, top_dim, offsets, cell_map) -> dict[str, np.ndarray]:
    """Element indices of every group of top-dimensional cells (by name, file order)."""
    parts: dict[str, list[np.ndarray]] = {}
    for g in groups:
        if blocks[g.block].dim == top_dim:
            parts.setdefault(g.name, []).append(cell_map[offsets[g.block] + g.cells])
    return {name: np.unique(np.concatenate(p)).astype(np.int64) for name, p in parts.items()}


def _partition(regions: dict, nelements: int, where: str, warnings) -> dict[str, np.ndarray]:
    """Make the regions a partition of the elements.

    No region: ``"domain"``.  Elements in none: ``"unassigned"`` (warning).
    A set covering the whole mesh next to other sets (Abaqus ``ELSET=ALL``) is
    dropped with a warning; any other overlap is an error naming both sets.
    """
    if not regions:
        return {"domain": np.arange(nelements)}
    if len(regions) > 1:
        whole = [name for name, e in regions.items() if len(e) == nelements]
        if len(whole) < len(regions):
            for name in whole:
                del regions[name]
                warnings.append(
                    f"{where}: element set '{name}' covers the whole mesh and overlaps the "
                    "other sets: not used as a region"
                )
    counts = np.zeros(nelements, dtype=np.int64)
    for elements in regions.values():
        counts[elements] += 1
    if np.any(counts > 1):
        element = int(np.flatnonzero(counts > 1)[0])
        a, b = [n for n, e in regions.items() if _contains(e, element)][:2]
        raise CaseError(
            f"mesh file {where}: regions '{a}' and '{b}' overlap ({int(np.sum(counts > 1))} "
            "elements in both): every element must be in exactly one volume/surface group"
        )
    missing = np.flatnonzero(counts == 0)
    if len(missing):
        regions["unassigned"] = missing
        warnings.append(
            f"{where}: {len(missing)} elements are in no group: gathered in region 'unassigned'"
        )
    return regions


def _contains(sorted_array: np.ndarray, value: int) -> bool:
    i = np.searchsorted(sorted_array, value)
    return bool(i < len(sorted_array) and sorted_array[i] == value)


class _FacetIndex:
    """Look up mesh facets by their node numbers (vectorised, hash of sorted nodes)."""

    def __init__(self, mesh: skfem.Mesh):
        self.nnodes = mesh.nvertices
        facets = np.sort(mesh.facets, axis=0).T
        self.width = facets.shape[1]
        keys = _row_keys(facets, self.nnodes)
        self.order = np.argsort(keys, kind="stable")
        self.sorted_keys = keys[self.order]

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Facet index of each row of node numbers, -1 when it is not a facet."""
        rows = np.asarray(rows, dtype=np.int64)
        result = np.full(len(rows), -1, dtype=np.int64)
        if rows.shape[1] != self.width or len(rows) == 0:
            return result
        valid = np.all(rows >= 0, axis=1)
        keys = _row_keys(np.sort(rows[valid], axis=1), self.nnodes)
        pos = np.minimum(np.searchsorted(self.sorted_keys, keys), len(self.sorted_keys) - 1)
        hit = self.sorted_keys[pos] == keys
        result[np.flatnonzero(valid)[hit]] = self.order[pos[hit]]
        return result


def _boundaries_from_groups(mesh, groups, blocks, top_dim, node_map, where):
    """Facet indices of every group of cells one dimension below the mesh."""
    rows: dict[str, list[np.ndarray]] = {}
    for g in groups:
        block = blocks[g.block]
        if block.dim == top_dim - 1 and block.nodes.shape[1]:
            rows.setdefault(g.name, []).append(node_map[block.nodes[g.cells]])
    if not rows:
        return {}
    index = _FacetIndex(mesh)
    boundaries = {}
    for name, parts in rows.items():
        facets = np.concatenate([index.find(r) for r in parts])
        if np.any(facets < 0):
            raise CaseError(
                f"mesh file {where}: boundary group '{name}' has {int(np.sum(facets < 0))} of "
                f"{len(facets)} cells that are not facets of the mesh (a surface not embedded "
                "in the volume mesh?)"
            )
        boundaries[name] = np.unique(facets)
    return boundaries


def _add_point_set_boundaries(mesh, raw, node_map, boundaries, regions, path, warnings):
    """Node sets (Abaqus NSET) become boundaries: the exterior facets they cover."""
    if not raw.point_sets:
        return
    exterior = mesh.boundary_facets()
    unused = []
    for name, nodes in raw.point_sets.items():
        if name in boundaries or name in regions or name.startswith("gmsh:"):
            continue
        inside = np.zeros(mesh.nvertices + 1, dtype=bool)  # last entry: dropped nodes
        inside[node_map[np.asarray(nodes, dtype=np.int64)]] = True
        inside[-1] = False
        covered = exterior[np.all(inside[mesh.facets[:, exterior]], axis=0)]
        if len(covered):
            boundaries[name] = np.sort(covered)
        else:
            unused.append(name)
    if unused:
        unused_names = ", ".join(unused)
        warnings.append(f"{path}: node sets covering no boundary facet not used: {unused_names}")


# --------------------------------------------------------------------------- generated


_SHAPE_DIM = {"interval": 1, "rectangle": 2, "box": 3}
_GENERATED = {
    (1, "simplex"): skfem.MeshLine1,
    (2, "simplex"): skfem.MeshTri1,
    (3, "simplex"): skfem.MeshTet1,
    (2, "quad"): skfem.MeshQuad1,
    (3, "hex"): skfem.MeshHex1,
}


def generate_mesh(
    gen: GenerateSpec, scale: float = 1.0, axisymmetric: bool = False, symmetry: str = "planar"
) -> FemMesh:
    """A structured interval/rectangle/box mesh with boundaries xmin ... zmax.

    ``cell = "simplex"`` splits every rectangle into 2 triangles and every
    brick into 6 tetrahedra; ``"quad"``/``"hex"`` keep them.  Lengths and the
    origin are multiplied by ``scale``.  The single region is ``"domain"``.
    """
    geometry = _geometry(axisymmetric, symmetry, scale, "mesh.generate")
    dim, lengths, cells, origin = _check_generate(gen)
    axes = [scale * (origin[i] + np.linspace(0.0, lengths[i], cells[i] + 1)) for i in range(dim)]
    corners = _radial_check(
        np.array([[a[0] for a in axes], [a[-1] for a in axes]]), geometry, "mesh.generate"
    )
    lower, upper = corners
    axes[0][0] = lower[0]  # a round-off negative radius clipped to 0
    mesh = _GENERATED[(dim, gen.cell)].init_tensor(*axes)
    boundaries = _box_boundaries(mesh, lower, upper)
    regions = {"domain": np.arange(mesh.nelements)}
    return FemMesh(mesh, boundaries, regions, geometry, "generated", [])


def _check_generate(gen: GenerateSpec):
    """Validate a GenerateSpec; returns (dim, lengths, cells, origin)."""
    if gen.shape not in _SHAPE_DIM:
        raise CaseError(
            f"mesh.generate.shape must be interval, rectangle or box, got {gen.shape!r}"
        )
    dim = _SHAPE_DIM[gen.shape]
    if (dim, gen.cell) not in _GENERATED:
        allowed = {1: "simplex", 2: "simplex or quad", 3: "simplex or hex"}[dim]
        raise CaseError(
            f"mesh.generate.cell = {gen.cell!r} does not fit shape {gen.shape!r} (use {allowed})"
        )
    origin = list(gen.origin) if gen.origin else [0.0] * dim
    for key, values in (("length", gen.length), ("cells", gen.cells), ("origin", origin)):
        if len(values) != dim:
            raise CaseError(
                f"mesh.generate.{key} needs {dim} entries for a {gen.shape}, got {len(values)}"
            )
    lengths = [float(v) for v in gen.length]
    if not all(math.isfinite(v) and v > 0 for v in lengths):
        raise CaseError(f"mesh.generate.length must be positive, got {gen.length}")
    if not all(float(n).is_integer() and n >= 1 for n in gen.cells):
        raise CaseError(f"mesh.generate.cells must be integers >= 1, got {gen.cells}")
    return dim, lengths, [int(n) for n in gen.cells], [float(v) for v in origin]


def _box_boundaries(mesh: skfem.Mesh, lower, upper) -> dict[str, np.ndarray]:
    """Exterior facets on the faces x = xmin, x = xmax, y = ymin, ... of a box."""
    exterior = mesh.boundary_facets()
    centres = mesh.p[:, mesh.facets[:, exterior]].mean(axis=1)
    boundaries = {}
    for i, axis in enumerate("xyz"[: mesh.dim()]):
        tol = 1e-9 * (upper[i] - lower[i])
        boundaries[f"{axis}min"] = np.sort(exterior[np.abs(centres[i] - lower[i]) <= tol])
        boundaries[f"{axis}max"] = np.sort(exterior[np.abs(centres[i] - upper[i]) <= tol])
    return boundaries


def load_mesh(spec: MeshSpec) -> FemMesh:
    """The mesh of a case: ``spec.file`` read, or ``spec.generate`` built."""
    options = dict(scale=spec.scale, axisymmetric=spec.axisymmetric, symmetry=spec.symmetry)
    if spec.file is not None and spec.generate is not None:
        raise CaseError("[mesh] has both file and generate: give one")
    if spec.file is not None:
        return read_mesh(spec.file, **options)
    if spec.generate is not None:
        return generate_mesh(spec.generate, **options)
    raise CaseError("[mesh] needs file or generate")


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


# --------------------------------------------------------------------------- info


def _measure_columns(m: FemMesh):
    """Headers (and weighted flags) of the boundary and region measure columns."""
    if m.geometry == "axisymmetric":
        return (
            [("length (m)", False), ("2 pi r area (m^2)", True)],
            [("area (m^2)", False), ("2 pi r volume (m^3)", True)],
        )
    if m.geometry == "cylindrical":
        return (
            [("2 pi r (m^2 per m of axis)", True)],
            [("length (m)", False), ("2 pi r dr (m^3 per m)", True)],
        )
    if m.geometry == "spherical":
        return (
            [("4 pi r^2 (m^2)", True)],
            [("length (m)", False), ("4 pi r^2 dr (m^3)", True)],
        )
    return {
        1: ([], [("length (m)", False)]),
        2: ([("length (m)", False)], [("area (m^2)", False)]),
        3: ([("area (m^2)", False)], [("volume (m^3)", False)]),
    }[m.dim]


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned name column, right-aligned number columns."""
    cells = [[title] + header] + rows
    widths = [max(len(r[j]) for r in cells) for j in range(len(header) + 1)]
    lines = []
    for r in cells:
        text = r[0].ljust(widths[0]) + "".join(
            "   " + r[j].rjust(widths[j]) for j in range(1, len(r))
        )
        lines.append(("" if r is cells[0] else "  ") + text.rstrip())
    return lines


def mesh_info(m: FemMesh) -> str:
    """The text of ``femflux info MESH``: sizes, bounding box, named sets, warnings."""
    geometry = {
        "planar": "planar",
        "axisymmetric": "axisymmetric (x = r, y = z)",
        "cylindrical": "cylindrical (x = r)",
        "spherical": "spherical (x = r)",
    }[m.geometry]
    p = m.mesh.p
    lines = [
        f"mesh          {m.source}",
        f"dimension     {m.dim}",
        f"geometry      {geometry}",
        f"nodes         {m.mesh.nvertices}",
        f"cells         {m.mesh.nelements} {m.cell_type} (first order)",
        f"facets        {m.mesh.nfacets} ({len(m.mesh.boundary_facets())} on the exterior)",
    ]
    for i in range(m.dim):
        label = "bounding box" if i == 0 else ""
        lines.append(f"{label:<14}{'xyz'[i]} {p[i].min():.6g} .. {p[i].max():.6g} m")
    bnd_cols, reg_cols = _measure_columns(m)
    lines.append("")
    rows = [
        [name, str(len(f))] + [f"{boundary_measure(m, f, w):.6g}" for _, w in bnd_cols]
        for name, f in m.boundaries.items()
    ]
    if rows:
        lines += _table(f"boundaries ({len(rows)})", ["facets"] + [h for h, _ in bnd_cols], rows)
    else:
        lines.append("boundaries    none named")
    lines.append("")
    rows = [
        [name, str(len(e))] + [f"{region_measure(m, e, w):.6g}" for _, w in reg_cols]
        for name, e in m.regions.items()
    ]
    lines += _table(f"regions ({len(rows)})", ["elements"] + [h for h, _ in reg_cols], rows)
    if m.warnings:
        lines += ["", "warnings"] + [f"  - {w}" for w in m.warnings]
    return "\n".join(lines)
