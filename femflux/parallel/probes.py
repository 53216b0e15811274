"""Probe points on N ranks: each probe is interpolated by one rank, the one
holding it in its own cells, and its values are shared with all.

A rank finds a probe in its submesh (scikit-fem's element finder); a probe
in one of the cells the rank writes scores 0, in a halo cell 1, not found 2.
The lowest (score, rank) takes it: a probe on a face between two ranks' cells
is taken once, and a halo cell next to the rank's own cells has the serial
vertex values, so the interpolated value is the serial one to round-off
(P1 interpolation is continuous across the face).
"""

from __future__ import annotations

import numpy as np

from ..fem import Probes


class DistributedProbes:
    """:class:`~femflux.fem.Probes` of the probes this rank takes; ``values``
    returns every probe's values on every rank (collective)."""

    def __init__(self, part, points: dict[str, list[float]], comm):
        self.comm = comm
        self.names = list(points)
        mesh = part.fem_mesh.mesh
        scores = np.full(len(self.names), 2, dtype=np.int64)
        if self.names:
            finder = mesh.element_finder()
            for k, name in enumerate(self.names):
                at = np.asarray(points[name], dtype=float).reshape(-1, 1)[: mesh.dim()]
                try:
                    cell = int(np.asarray(finder(*at)).ravel()[0])
                except (ValueError, IndexError):  # outside this rank's submesh
                    continue
                if cell >= 0:
                    scores[k] = 0 if part.own_cells[cell] else 1
        key = np.array(comm.allgather(scores * comm.size + comm.rank))  # (ranks, probes)
        taker = key.argmin(axis=0) if self.names else np.zeros(0, dtype=np.int64)
        mine = [n for k, n in enumerate(self.names) if taker[k] == comm.rank]
        self.local = Probes(part.fem_mesh, {n: points[n] for n in mine})

    def __bool__(self) -> bool:
        return bool(self.names)

    def values(self, point_fields: dict) -> dict[str, dict[str, float]]:
        """{probe: {field or component: value}}, the same on every rank."""
        found = self.local.values(point_fields) if self.local else {}
        merged: dict = {}
        for part in self.comm.allgather(found):
            merged |= part
        return {name: merged[name] for name in self.names}
