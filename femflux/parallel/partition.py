"""The mesh split between the MPI ranks: vertex ownership and each rank's submesh.

Rank 0 partitions the vertices of the (global) mesh with METIS (pymetis,
nodal graph) and broadcasts the owner of every vertex.  A rank then keeps

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


def vertex_owners(fem_mesh: FemMesh, comm) -> np.ndarray:
    """The rank owning each vertex: METIS's nodal partition, computed on rank 0."""
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
        raise CaseError(f"the mesh ({fem_mesh.mesh.nvertices} nodes) is too small for "
                        f"{comm.size} MPI ranks: some rank would own no node")
    return owner


def partition(fem_mesh: FemMesh, comm) -> Partition:
    """This rank's :class:`Partition` of ``fem_mesh`` (collective)."""
    owner = vertex_owners(fem_mesh, comm)
    mesh = fem_mesh.mesh
    t = mesh.t
    mine = owner == comm.rank
    layer1 = np.flatnonzero(mine[t].any(axis=0))
    near = np.zeros(mesh.nvertices, dtype=bool)
    near[t[:, layer1]] = True
    cells = np.flatnonzero(near[t].any(axis=0))
    vertices = np.unique(t[:, cells])
    local_vertex = np.full(mesh.nvertices, -1, dtype=np.int64)
    local_vertex[vertices] = np.arange(len(vertices))
    sub = type(mesh)(np.ascontiguousarray(mesh.p[:, vertices]),
                    np.ascontiguousarray(local_vertex[t[:, cells]]))
    position = np.full(mesh.nelements, -1, dtype=np.int64)
    position[cells] = np.arange(len(cells))
    regions = {name: np.sort(position[e][position[e] >= 0]) for name, e in
               fem_mesh.regions.items()}
    boundaries = {name: _local_facets(mesh, sub, local_vertex, f)
                  for name, f in fem_mesh.boundaries.items()}
    own_cells = owner[t[:, cells].min(axis=0)] == comm.rank
    local = FemMesh(mesh=sub, boundaries=boundaries, regions=regions,
                    geometry=fem_mesh.geometry, source=fem_mesh.source,
                    warnings=list(fem_mesh.warnings))
    return Partition(rank=comm.rank, size=comm.size, owner=owner, cells=cells,
                     vertices=vertices, own_cells=own_cells, fem_mesh=local)


def _local_facets(mesh, sub, local_vertex: np.ndarray, facets: np.ndarray) -> np.ndarray:
    """The submesh facets that are the given global facets (sorted)."""
    corners = local_vertex[mesh.facets[:, facets]]
    corners = np.sort(corners[:, (corners >= 0).all(axis=0)], axis=0)
    if corners.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    found = _column_positions(np.sort(sub.facets, axis=0), corners)
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
