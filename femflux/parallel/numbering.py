"""Global numbering of a distributed model's unknowns, PETSc's ownership.

A rank's model (the serial :class:`~femflux.models.SpeciesTransport` on its
submesh) numbers its unknowns locally: block by block (every species, then
phi), each block over the nodes of its space.  The distributed system numbers
them globally, PETSc style: rank 0's owned unknowns first, then rank 1's,
...; within a rank node by node (the blocks of a node together) in global
vertex order.  A dof is owned by the owner of its vertex.

Scalar unknowns (electrode potentials) come last, owned by the last rank.

- ``l2g`` (n_local,): the global number of every local unknown (owned and halo);
- ``owned`` (n_owned,): the local unknowns this rank owns, in global order
  (owned entry i is global unknown ``start + i``);
- :meth:`Numbering.ghost_update`: the local vector (halo included) from the
  owned parts of all ranks (a PETSc scatter).
"""

from __future__ import annotations

import numpy as np

from ..errors import CaseError


class Numbering:
    """The global numbering of ``model``'s unknowns on ``part`` (collective)."""

    def __init__(self, model, part, comm):
        from petsc4py import PETSc

        self.comm = comm
        blocks = [(s.offset, s.space) for s in model.species]
        for f in model.fields:
            blocks += f.nodal()
        if any(space.degree != 1 or space.broken for _, space in blocks):
            raise CaseError("this case is not yet distributed over MPI ranks: broken "
                            "(Donnan interface) or degree-2 spaces; run it on one rank")
        nv = len(part.owner)
        nb = len(blocks)
        last = comm.size - 1
        # (block, global vertex) of every local nodal unknown; the others are the
        # scalar unknowns (electrode potentials), owned by the last rank
        block_of = np.full(model.n, -1, dtype=np.int64)
        vertex_of = np.full(model.n, -1, dtype=np.int64)
        for b, (offset, space) in enumerate(blocks):
            block_of[offset:offset + space.n] = b
            vertex_of[offset:offset + space.n] = part.vertices[space.dofs]
        self.scalars = np.flatnonzero(block_of < 0)
        k = len(self.scalars)
        if comm.allreduce(k, op=_min()) != comm.allreduce(k, op=_max()):
            raise RuntimeError("MPI numbering: the ranks disagree on the scalar unknowns")
        nodal = np.flatnonzero(block_of >= 0)
        mine = nodal[part.owner[vertex_of[nodal]] == comm.rank]
        owned = mine[np.lexsort((block_of[mine], vertex_of[mine]))]
        n_nodal = len(owned)
        if comm.rank == last:
            owned = np.concatenate([owned, self.scalars])
        self.n_owned = len(owned)
        self.start = comm.exscan(self.n_owned) or 0
        self.N = comm.allreduce(self.n_owned)
        N_nodal = self.N - k
        # every rank's numbers of its owned (block, vertex) pairs, summed: +1 marks present
        table = np.zeros(nb * nv, dtype=np.int64)
        table[block_of[owned[:n_nodal]] * nv + vertex_of[owned[:n_nodal]]] = \
            self.start + np.arange(n_nodal) + 1
        from mpi4py import MPI

        comm.Allreduce(MPI.IN_PLACE, table, op=MPI.SUM)
        l2g = np.empty(model.n, dtype=np.int64)
        l2g[nodal] = table[block_of[nodal] * nv + vertex_of[nodal]] - 1
        l2g[self.scalars] = N_nodal + np.arange(k)
        if (l2g < 0).any():  # a halo unknown no rank owns: the partition is inconsistent
            raise RuntimeError("MPI numbering: a halo unknown has no owner")
        block_of[self.scalars] = nb + np.arange(k)
        self.l2g = l2g
        self.owned = owned
        self.n_local = model.n
        self.block_of, self.vertex_of = block_of, vertex_of
        # unknowns per node when every node has every block (PETSc's block size)
        full = k == 0 and n_nodal == nb * int(np.count_nonzero(
            part.owner[part.vertices] == comm.rank))
        self.block_size = nb if comm.allreduce(bool(full), op=_min()) else 1
        # the scatter from the owned parts (a distributed Vec) to the local vectors
        self.vec = PETSc.Vec().createMPI((self.n_owned, self.N), comm=comm)
        self._local = PETSc.Vec().createSeq(self.n_local, comm=PETSc.COMM_SELF)
        index = PETSc.IS().createGeneral(l2g.astype(PETSc.IntType), comm=PETSc.COMM_SELF)
        self._scatter = PETSc.Scatter().create(self.vec, index, self._local, None)

    def ghost_update(self, owned_values: np.ndarray) -> np.ndarray:
        """(n_local,) values of every local unknown from the owned parts (collective)."""
        from petsc4py import PETSc

        self.vec.getArray()[:] = owned_values
        self._scatter.scatter(self.vec, self._local, addv=PETSc.InsertMode.INSERT,
                              mode=PETSc.ScatterMode.FORWARD)
        return self._local.getArray().copy()

    def sum(self, value):
        """A number (or array) summed over the ranks."""
        from mpi4py import MPI

        if np.ndim(value):
            out = np.array(value, dtype=float)
            self.comm.Allreduce(MPI.IN_PLACE, out, op=MPI.SUM)
            return out
        return self.comm.allreduce(float(value), op=MPI.SUM)


def _min():
    from mpi4py import MPI

    return MPI.MIN


def _max():
    from mpi4py import MPI

    return MPI.MAX
