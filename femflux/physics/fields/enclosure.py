"""Enclosures: closed gas volumes whose pressure is an unknown (SPEC 6).

An ``[[enclosure]]`` of volume V (m^3; per metre of depth in 2D planar, per
m^2 in 1D planar, like the fluxes) at temperature T_g holds n = p V/(R T_g)
mol of H2.  Its walls are boundaries with ``surface_kinetics`` (hydrogen at a
metal surface, H2 <=> 2 H) whose gas pressure is p, so each wall takes the
inward atom flux K_d p - K_r c^2 (mol/m^2/s) and the gas loses half as many
molecules:

    V/(R T_g) dp/dt = -(1/2) sum_walls int (K_d p - K_r c^2) dA.

A wall may instead hold the Sieverts or Henry concentration of the gas,
``sieverts``/``henry`` with ``pressure = "<enclosure>"``
(:mod:`femflux.physics.boundary.gas_walls`): its inflow is carried by one
multiplier lambda_j (mol/s) per wall dof, unknowns of this field after the
pressures, and the gas loses nu sum_j lambda_j molecules (nu = 1/2 Sieverts,
1 Henry).  In a case in atoms/m^3 (``[model] concentration_unit``) the gas
holds N_A p V/(R T_g) atoms-worth of molecules.

One scalar unknown per enclosure, p - p(0), after the species; its storage is
V/(R T_g), its flux row the wall integral (with its exact Jacobian in p and
in the wall concentrations).  The pressure is reported at each wall as
``boundaries.<wall>.enclosure_pressure`` (Pa) in the summary and history,
and per enclosure (:meth:`Enclosures.report`) as ``enclosures.<name>.pressure``
(Pa) and ``enclosures.<name>.amount`` = p V/(R T_g) (mol of H2, same
per-depth convention as V).
"""

from __future__ import annotations

import numpy as np

from ...errors import CaseError
from ..constants import GAS_CONSTANT
from . import AuxiliaryField

AVOGADRO = 6.02214076e23  # 1/mol


def stressed_gas_walls(case) -> list[str]:
    """The boundaries whose ``sieverts``/``henry`` wall holds a species that
    drifts on the hydrostatic stress (c = c_eq(p) exp(Omega sigma_h/RT): tied
    to sigma_h by multipliers like an enclosure's walls)."""
    if not case.has_elasticity:
        return []
    omega = {s.name: s.partial_molar_volume for s in case.species}
    for region in case.regions:
        for name, value in region.partial_molar_volume.items():
            omega[name] = omega[name] or value
    return [b.name for b in case.boundaries
            if b.solubility_wall is not None and omega.get(b.solubility_wall.species)]


class Enclosures(AuxiliaryField):
    """The pressures of the case's enclosures, one unknown each."""

    name = "enclosures"
    symmetric = False

    def __init__(self, model):
        super().__init__(model)
        self.enclosures = list(model.case.enclosures)
        self.index = {e.name: k for k, e in enumerate(self.enclosures)}
        # mol of gas per Pa; in the case's amount unit (x N_A in atoms/m^3)
        self.moles = np.array([e.volume / (GAS_CONSTANT * e.temperature)
                               for e in self.enclosures])
        unit = model.case.model.concentration_unit
        self.capacity = self.moles * (AVOGADRO if unit == "atoms/m^3" else 1.0)
        #: offset of the multipliers of each sieverts/henry wall, by boundary name
        self.multiplier_offsets: dict[str, int] = {}
        self._taken: dict[str, tuple[str, np.ndarray]] = {}

    def setup(self, offset: int) -> int:
        self.offset = offset
        self.count = len(self.enclosures)
        size = self.count
        m = self.model
        stressed = stressed_gas_walls(m.case)
        for b in m.case.boundaries:
            wall = b.solubility_wall
            if wall is not None and (wall.enclosure is not None or b.name in stressed):
                self.multiplier_offsets[b.name] = offset + size
                dofs = m.dirichlet_dofs(b.name, m.by_name[wall.species])[0]
                self._check_disjoint(b.name, wall.species, dofs)
                size += len(dofs)
        self.size = size
        return size

    def _check_disjoint(self, name: str, species: str, dofs: np.ndarray) -> None:
        """Two tied walls of one species must not share a node (its row is
        tied to one pressure only): a CaseError naming both."""
        for other, (kind, taken) in self._taken.items():
            if kind == species and np.intersect1d(taken, dofs).size:
                raise CaseError(f"boundary {name!r}: its {species!r} wall shares nodes with "
                                f"boundary {other!r} (two sieverts/henry walls tied to a "
                                "pressure cannot meet)")
        self._taken[name] = (species, dofs)

    def unknown(self, name: str) -> int:
        """The index in x of enclosure ``name``'s pressure change p - p(0)."""
        return self.offset + self.index[name]

    def pressure(self, x: np.ndarray, name: str) -> float:
        """Enclosure ``name``'s pressure p (Pa) in the state x.  The unknown is
        p - p(0): its storage V/(R T_g) (p - p(0)) keeps the round-off of
        tiny first steps at the size of the change, not of p."""
        return float(x[self.unknown(name)]) + self.enclosures[self.index[name]].pressure

    def walls(self, k: int) -> list:
        """The surface-kinetics conditions whose gas is enclosure k."""
        name = self.enclosures[k].name
        return [c for c in self.model.conditions
                if getattr(c.value, "enclosure", None) == name]

    def storage(self, diagonal: np.ndarray) -> None:
        diagonal[self.offset:self.offset + self.count] = self.capacity

    def scales(self, x_scale, r_scale) -> None:
        m = self.model
        lo, hi = m.fem_mesh.mesh.p.min(axis=1), m.fem_mesh.mesh.p.max(axis=1)
        length = float(np.linalg.norm(hi - lo)) or 1.0
        d_max = max(max(float(s.diffusivity.max()) for s in m.species), 1e-300)
        for c in self._multiplier_walls():
            c.scales(x_scale, r_scale)
        for k, e in enumerate(self.enclosures):
            i = self.offset + k
            x_scale[i] = e.pressure or 1e5
            exchange = 0.0
            for c in self.walls(k):
                if hasattr(c, "gas_rows"):  # sieverts/henry: its multipliers' scale
                    exchange += c.nu * float(x_scale[c.multipliers].sum()) / x_scale[i]
                else:
                    exchange += 0.5 * c.dissociation_rate(0.0) * c.area()
            r_scale[i] = x_scale[i] * (self.capacity[k] * d_max / length**2 + exchange)

    def initial(self, x: np.ndarray) -> None:
        x[self.offset:self.offset + self.count] = 0.0  # p - p(0)
        for c in self._multiplier_walls():
            c.initial(x)

    def residual(self, x, t, F, rows, cols, vals, pieces) -> None:
        """F_p += (1/2) sum_walls int (K_d p - K_r c^2) dA (surface kinetics),
        nu sum_j lambda_j (sieverts/henry walls), and the Jacobian."""
        for k in range(self.count):
            i = self.offset + k
            for c in self.walls(k):
                if hasattr(c, "gas_rows"):
                    c.gas_rows(x, F, rows, cols, vals, i)
                    continue
                inflow, d_p, d_c = c.gas_exchange(x, t)
                F[i] += 0.5 * inflow
                s = c.species
                rows.append(np.full(s.space.n + 1, i))
                cols.append(np.concatenate([[i], s.offset + np.arange(s.space.n)]))
                vals.append(0.5 * np.concatenate([[d_p], d_c]))

    def _multiplier_walls(self) -> list:
        """The sieverts/henry walls with multipliers (of an enclosure or under stress)."""
        return [c for c in self.model.conditions if hasattr(c, "gas_rows")]

    def split(self) -> list:
        """Pressures and multipliers: one block of a field-split preconditioner."""
        from ...linalg import Field

        return [Field(slice(self.offset, self.offset + self.size), kind="diagonal")] \
            if self.size else []

    def replace_rows(self, x, t, F, J):
        """sieverts/henry walls: a_j = gamma c_eq(p), their rows' reaction to lambda_j."""
        for c in self._multiplier_walls():
            F, J = c.replace_rows(x, t, F, J)
        return F, J

    def move_storage(self, M):
        """The storage of the walls' dofs goes to their multiplier rows."""
        for c in self._multiplier_walls():
            M = c.move_storage(M)
        return M

    def report(self, x) -> dict[str, dict[str, float]]:
        """{name: {"pressure": p (Pa), "amount": p V/(R T_g) (mol H2)}}."""
        out = {}
        for k, e in enumerate(self.enclosures):
            p = self.pressure(x, e.name)
            out[e.name] = {"pressure": p, "amount": float(self.moles[k] * p)}
        return out

    def boundary_summary(self, x, t, fluxes, out) -> None:
        for k in range(self.count):
            for c in self.walls(k):
                out.setdefault(c.boundary.name, {})["enclosure_pressure"] = \
                    self.pressure(x, self.enclosures[k].name)
