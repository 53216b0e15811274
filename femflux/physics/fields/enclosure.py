"""Enclosures: closed gas volumes whose pressure is an unknown (SPEC 6).

An ``[[enclosure]]`` of volume V (m^3; per metre of depth in 2D planar, per
m^2 in 1D planar, like the fluxes) at temperature T_g holds n = p V/(R T_g)
mol of H2.  Its walls are boundaries with ``surface_kinetics`` (hydrogen at a
metal surface, H2 <=> 2 H) whose gas pressure is p, so each wall takes the
inward atom flux K_d p - K_r c^2 (mol/m^2/s) and the gas loses half as many
molecules:

    V/(R T_g) dp/dt = -(1/2) sum_walls int (K_d p - K_r c^2) dA.

One scalar unknown per enclosure, after the species; its storage is
V/(R T_g), its flux row the wall integral (with its exact Jacobian in p and
in the wall concentrations).  The pressure is reported at each wall as
``boundaries.<wall>.enclosure_pressure`` (Pa) in the summary and history,
and per enclosure (:meth:`Enclosures.report`) as ``enclosures.<name>.pressure``
(Pa) and ``enclosures.<name>.amount`` = p V/(R T_g) (mol of H2, same
per-depth convention as V).
"""

from __future__ import annotations

import numpy as np

from ..constants import GAS_CONSTANT
from . import AuxiliaryField


class Enclosures(AuxiliaryField):
    """The pressures of the case's enclosures, one unknown each."""

    name = "enclosures"
    symmetric = False

    def __init__(self, model):
        super().__init__(model)
        self.enclosures = list(model.case.enclosures)
        self.index = {e.name: k for k, e in enumerate(self.enclosures)}
        # mol of gas per Pa
        self.capacity = np.array([e.volume / (GAS_CONSTANT * e.temperature)
                                  for e in self.enclosures])

    def setup(self, offset: int) -> int:
        self.offset = offset
        self.size = len(self.enclosures)
        return self.size

    def unknown(self, name: str) -> int:
        """The index in x of enclosure ``name``'s pressure."""
        return self.offset + self.index[name]

    def walls(self, k: int) -> list:
        """The surface-kinetics conditions whose gas is enclosure k."""
        name = self.enclosures[k].name
        return [c for c in self.model.conditions
                if getattr(c.value, "enclosure", None) == name]

    def storage(self, diagonal: np.ndarray) -> None:
        diagonal[self.offset:self.offset + self.size] = self.capacity

    def scales(self, x_scale, r_scale) -> None:
        m = self.model
        lo, hi = m.fem_mesh.mesh.p.min(axis=1), m.fem_mesh.mesh.p.max(axis=1)
        length = float(np.linalg.norm(hi - lo)) or 1.0
        d_max = max(max(float(s.diffusivity.max()) for s in m.species), 1e-300)
        for k, e in enumerate(self.enclosures):
            i = self.offset + k
            exchange = sum(0.5 * c.dissociation_rate(0.0) * c.area() for c in self.walls(k))
            x_scale[i] = e.pressure or 1e5
            r_scale[i] = x_scale[i] * (self.capacity[k] * d_max / length**2 + exchange)

    def initial(self, x: np.ndarray) -> None:
        for k, e in enumerate(self.enclosures):
            x[self.offset + k] = e.pressure

    def residual(self, x, t, F, rows, cols, vals, pieces) -> None:
        """F_p += (1/2) sum_walls int (K_d p - K_r c^2) dA and its Jacobian."""
        for k in range(self.size):
            i = self.offset + k
            for c in self.walls(k):
                inflow, d_p, d_c = c.gas_exchange(x, t)
                F[i] += 0.5 * inflow
                s = c.species
                rows.append(np.full(s.space.n + 1, i))
                cols.append(np.concatenate([[i], s.offset + np.arange(s.space.n)]))
                vals.append(0.5 * np.concatenate([[d_p], d_c]))

    def report(self, x) -> dict[str, dict[str, float]]:
        """{name: {"pressure": p (Pa), "amount": p V/(R T_g) (mol H2)}}."""
        out = {}
        for k, e in enumerate(self.enclosures):
            p = float(x[self.offset + k])
            out[e.name] = {"pressure": p, "amount": float(self.capacity[k] * p)}
        return out

    def boundary_summary(self, x, t, fluxes, out) -> None:
        for k in range(self.size):
            for c in self.walls(k):
                out.setdefault(c.boundary.name, {})["enclosure_pressure"] = \
                    float(x[self.offset + k])
