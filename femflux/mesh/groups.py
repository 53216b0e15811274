"""Named groups of a mesh file: cell tags and sets -> boundaries and regions.

Gmsh physical groups (named by ``field_data``), bare integer tags
(``medit:ref``, ``CellEntityIds``, ...), meshio's ``"a-b-c"`` set encoding of
VTU/XDMF, meshio ``cell_sets`` (Abaqus ELSET, MSH 4.1; Gmsh's
``gmsh:bounding_entities`` filtered) and node sets (Abaqus NSET) are gathered
per cell block.  Groups of top-dimensional cells become regions, which must
partition the mesh; groups of cells one dimension lower become boundaries,
which must be facets of the mesh.  Unnamed groups, empty groups and groups
that cannot be used are reported as warnings, or as a
:class:`femflux.errors.CaseError` naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import meshio
import numpy as np
import skfem

from ..errors import CaseError

#: integer cell data read as unnamed numbered tags (names only from Gmsh field_data)
_TAG_KEYS = ("gmsh:physical", "medit:ref", "CellEntityIds", "MaterialIDs", "cell_tags", "region")


# --------------------------------------------------------------------------- cell groups


@dataclass
class _Group:
    """Cells of one block that belong to a named (or numbered) set."""

    name: str
    block: int
    cells: np.ndarray  # cell indices within the block
    named: bool = True  # False: a bare integer tag, named by its number


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
