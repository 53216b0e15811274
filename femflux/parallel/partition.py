"""The mesh split between the MPI ranks: vertex ownership and each rank's submesh.

Only rank 0 reads (or generates) the whole mesh.  It partitions its vertices
with METIS (pymetis, nodal graph), broadcasts the owner of every vertex, and
sends every rank its piece; rank 0 then lets the whole mesh go.  A rank keeps

- its *owned* vertices O (their dofs are its rows of the distributed system);
- the *halo* cells: every cell touching a vertex of a cell touching O (two
  layers), so that the serial model code assembled on the submesh gives the
  complete rows of the dofs at O, and the point fields (c, phi, mu) at every
  vertex of the cells the rank writes are those of the serial run;
- its *own* cells: the cells whose lowest-numbered vertex it owns (each
  cell is written by exactly one rank).

Named boundaries and regions are carried over to the submesh (a facet is
kept where it is a facet of a kept cell), in the same order, so region
numbers and names agree on every rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CaseError
from ..mesh import FemMesh


@dataclass
class Partition:
    """One rank's part of the mesh.

    ``owner`` (N_vertices,): the rank owning every global vertex; ``cells``:
    global indices of the submesh's cells (sorted); ``vertices``: the global
    vertex of every submesh vertex (sorted); ``own_cells``: (ncells,) bool,
    the submesh cells this rank writes; ``fem_mesh``: the submesh."""

    rank: int
    size: int
    owner: np.ndarray
    cells: np.ndarray
    vertices: np.ndarray
    own_cells: np.ndarray
    fem_mesh: FemMesh

    @property
    def owned_vertices(self) -> np.ndarray:
        """(n_local_vertices,) bool: the submesh vertices this rank owns."""
        return self.owner[self.vertices] == self.rank


def vertex_owners(fem_mesh: FemMesh | None, comm) -> np.ndarray:
    """The rank owning each vertex: METIS's nodal partition of rank 0's mesh."""
    owner = None
    if comm.rank == 0:
        mesh = fem_mesh.mesh
        if comm.size > mesh.nvertices:
            owner = np.zeros(0, dtype=np.int64)  # signals the error below on all ranks
        else:
            import pymetis

            cut = pymetis.part_mesh(comm.size, mesh.t.T.astype(np.int64),
                                    gtype=pymetis.GType.NODAL)
            owner = np.asarray(cut.vertex_part, dtype=np.int64)
    owner = comm.bcast(owner, root=0)
    if len(owner) == 0 or np.bincount(owner, minlength=comm.size).min() == 0:
        nodes = comm.bcast(fem_mesh.mesh.nvertices if comm.rank == 0 else None, root=0)
        raise CaseError(f"the mesh ({nodes} nodes) is too small for "
                        f"{comm.size} MPI ranks: some rank would own no node")
    return owner


def partition(fem_mesh: FemMesh | None, comm) -> Partition:
    """This rank's :class:`Partition` (collective).  Only rank 0 holds the
    whole ``fem_mesh`` (None elsewhere): it cuts every rank's piece (its
    cells, their vertices and coordinates, its region cells and boundary
    facets given by their corner vertices) and sends it; each rank builds its
    own submesh and finds its facets."""
    owner = vertex_owners(fem_mesh, comm)
    piece = None
    if comm.rank == 0:
        for rank in range(comm.size - 1, -1, -1):  # rank 0's own piece last
            cut = _cut(fem_mesh, owner, rank)
            if rank:
                comm.send(cut, dest=rank, tag=17)
            else:
                piece = cut
    else:
        piece = comm.recv(source=0, tag=17)
    return _assemble(piece, owner, comm)


def _cut(fem_mesh: FemMesh, owner: np.ndarray, rank: int) -> dict:
    """Rank ``rank``'s piece of the mesh as plain arrays (to be sent)."""
    mesh = fem_mesh.mesh
    t = mesh.t
    mine = owner == rank
    layer1 = np.flatnonzero(mine[t].any(axis=0))
    near = np.zeros(mesh.nvertices, dtype=bool)
    near[t[:, layer1]] = True
    cells = np.flatnonzero(near[t].any(axis=0))
    vertices = np.unique(t[:, cells])
    local_vertex = np.full(mesh.nvertices, -1, dtype=np.int64)
    local_vertex[vertices] = np.arange(len(vertices))
    position = np.full(mesh.nelements, -1, dtype=np.int64)
    position[cells] = np.arange(len(cells))
    regions = {name: np.sort(position[e][position[e] >= 0]) for name, e in
               fem_mesh.regions.items()}
    boundaries = {}
    for name, facets in fem_mesh.boundaries.items():
        corners = local_vertex[mesh.facets[:, facets]]
        boundaries[name] = np.sort(corners[:, (corners >= 0).all(axis=0)], axis=0)
    return {"kind": type(mesh), "p": np.ascontiguousarray(mesh.p[:, vertices]),
            "t": np.ascontiguousarray(local_vertex[t[:, cells]]), "cells": cells,
            "vertices": vertices, "regions": regions, "boundaries": boundaries,
            "geometry": fem_mesh.geometry, "source": fem_mesh.source,
            "warnings": list(fem_mesh.warnings)}


def _assemble(piece: dict, owner: np.ndarray, comm) -> Partition:
    """The rank's :class:`Partition` from its piece."""
    sub = piece["kind"](piece["p"], piece["t"])
    sorted_facets = np.sort(sub.facets, axis=0)
    boundaries = {name: _local_facets(sorted_facets, corners)
                  for name, corners in piece["boundaries"].items()}
    own_cells = owner[piece["vertices"][sub.t].min(axis=0)] == comm.rank
    local = FemMesh(mesh=sub, boundaries=boundaries, regions=piece["regions"],
                    geometry=piece["geometry"], source=piece["source"],
                    warnings=piece["warnings"], reduce_max=_reduce_max(comm))
    return Partition(rank=comm.rank, size=comm.size, owner=owner, cells=piece["cells"],
                     vertices=piece["vertices"], own_cells=own_cells, fem_mesh=local)


def _reduce_max(comm):
    """max over the ranks of a number or an array (elementwise; collective)."""
    def reduce_max(value):
        from mpi4py import MPI

        array = np.array(value, dtype=float)
        comm.Allreduce(MPI.IN_PLACE, array, op=MPI.MAX)
        return array if array.ndim else float(array)

    return reduce_max


def _local_facets(sorted_facets: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The submesh facets (columns of ``sorted_facets``: its facets' sorted
    vertices) with the given sorted corner vertices (sorted facet indices)."""
    if corners.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    found = _column_positions(sorted_facets, corners)
    return np.sort(found[found >= 0])


def _column_positions(table: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index in ``table``'s columns of every column of ``wanted`` (-1 if absent)."""
    n_table = table.shape[1]
    both = np.hstack([table, wanted])
    order = np.lexsort(both[::-1])
    ordered = both[:, order]
    same = np.r_[False, (ordered[:, 1:] == ordered[:, :-1]).all(axis=0)]
    out = np.full(wanted.shape[1], -1, dtype=np.int64)
    # a wanted column right after its equal table column (table first among equals:
    # lexsort is stable and the table comes first in ``both``)
    hit = same & (order >= n_table)
    previous = order[np.flatnonzero(hit) - 1]
    ok = previous < n_table
    out[order[hit][ok] - n_table] = previous[ok]
    return out
