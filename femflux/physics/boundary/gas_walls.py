"""Walls in equilibrium with a gas (SPEC 6, hydrogen in metals): the
concentration of the species at the wall follows the gas pressure p (Pa),

    Sieverts (H2 <=> 2 H, dissolved as atoms):  c = K_S sqrt(p),
    Henry (the molecule dissolves as such):     c = K_H p,

K_S in mol/(m^3 Pa^0.5), K_H in mol/(m^3 Pa) (per atoms/m^3 in a case in
atoms/m^3), numbers or Arrhenius K0 exp(-E/RT) at the temperature of the
wall's dofs (FESTIM's SievertsBC/HenrysBC, TMAP8's enclosure with solubility).
With stress (kind stress-diffusion) the equilibrium is that of the chemical
potential mu = RT ln c - Omega sigma_h: c = c_eq(p) exp(Omega sigma_h/RT).

- :class:`SolubilityWall` — p a number or an expression of x, y, z, t: a
  Dirichlet condition; its flux is the weak-form reaction, as for
  ``concentration``;
- :class:`EnclosedSolubilityWall` — p the unknown pressure of an
  ``[[enclosure]]`` (or any wall under stress): the wall's dofs a_j are tied
  to p by multipliers lambda_j (mol/s: the inflow at dof j), unknowns of the
  enclosure field:

      species row j:     a_j - gamma_j c_eq(p) = 0
      multiplier row j:  R_j(a) - lambda_j = 0     (R_j the species' weak-form
                                                    row j: storage and fluxes)
      enclosure row:     V/(R T_g) dp/dt + nu sum_j lambda_j = 0

  (index 1: a_j is algebraic, lambda_j its row's reaction),

  nu = 1/2 (Sieverts: two atoms per molecule) or 1 (Henry), so gas +
  dissolved + outflow is conserved to the solver's tolerance, and the
  wall's outward flux is -sum_j lambda_j.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...case import evaluate
from ..constants import GAS_CONSTANT
from .species import Concentration, SpeciesCondition

#: molecules of gas per dissolved particle
MOLECULES_PER_PARTICLE = {"sieverts": 0.5, "henry": 1.0}


def equilibrium(law: str, K, p, floor: float = 0.0):
    """(c_eq(p), dc_eq/dp) of the law: K sqrt(p) (odd in p, for the negative
    values a Newton step may propose; dc/dp taken at |p| >= ``floor`` Pa) or K p."""
    p = np.asarray(p, dtype=float)
    if law == "henry":
        return K * p, K * np.ones_like(p)
    root = np.sqrt(np.abs(p))
    return K * np.sign(p) * root, 0.5 * K / np.maximum(root, np.sqrt(floor) or 1e-300)


def wall_K(model, wall, x: np.ndarray, t: float):
    """K at the points ``x`` at time t: the case's T, T(t), or T(x, y, z, t)."""
    if model.case.model.temperature_spatial:
        return wall.K.at(model.local_temperature(x, t))
    return wall.K.at(model.temperature(t))


class SolubilityWall(Concentration):
    """c = K sqrt(p) or K p with p (Pa) a number or an expression of x, y, z, t."""

    def dirichlet(self, t):
        s, wall = self.species, self.value
        local, gamma = self.model.dirichlet_dofs(self.boundary.name, s)
        x = s.space.x[:, local]
        p = np.broadcast_to(evaluate(wall.pressure, x, t), local.shape)
        c, _ = equilibrium(wall.law, wall_K(self.model, wall, x, t), p)
        return [(s.offset + local, gamma * c)]


class EnclosedSolubilityWall(SpeciesCondition):
    """c = c_eq(p) (exp(Omega sigma_h/RT) with stress) at the wall's dofs,
    p an enclosure's unknown pressure or a given pressure; multipliers
    lambda_j carry the inflow (see the module docstring)."""

    def __init__(self, model, b, s, value, offset: int):
        super().__init__(model, b, s, value)
        self.local, gamma = model.dirichlet_dofs(b.name, s)
        self.gamma = np.broadcast_to(gamma, self.local.shape)
        self.size = len(self.local)
        self.offset = offset  # of the multipliers, placed by the enclosure field
        self.nu = MOLECULES_PER_PARTICLE[value.law]
        self.floor = 0.0

    @property
    def multipliers(self) -> np.ndarray:
        return self.offset + np.arange(self.size)

    @property
    def dofs(self) -> np.ndarray:
        return self.species.offset + self.local

    def _pressure(self, x, t) -> tuple[np.ndarray, int | None]:
        wall = self.value
        if wall.enclosure is not None:
            enclosures = self.model.field("enclosures")
            return (np.full(self.size, enclosures.pressure(x, wall.enclosure)),
                    enclosures.unknown(wall.enclosure))
        p = evaluate(wall.pressure, self.species.space.x[:, self.local], t)
        return np.broadcast_to(p, self.local.shape), None

    def _stress(self, x, t) -> tuple[np.ndarray, np.ndarray | None, float]:
        """(exp(Omega sigma_h/RT) at the dofs, index of sigma_h there, Omega/RT)."""
        s, m = self.species, self.model
        omega = s.spec.partial_molar_volume if m.elastic is not None else 0.0
        if not omega:
            return np.ones(self.size), None, 0.0
        elastic = m.elastic
        index = m.field_index(s, elastic.sh_offset, elastic.sh_space)[self.local]
        scale = omega / (GAS_CONSTANT * m.local_temperature(s.space.x[:, self.local], t))
        return np.exp(scale * x[index]), index, scale

    def target(self, x, t):
        """(a_eq at the dofs, d a_eq/dp, p's index or None, stress (factor, index, scale))."""
        wall = self.value
        p, i = self._pressure(x, t)
        K = wall_K(self.model, wall, self.species.space.x[:, self.local], t)
        c, dc = equilibrium(wall.law, K, p, self.floor)
        stress = self._stress(x, t)
        gamma = self.gamma if self.species.thermal is None else \
            self.model.dirichlet_dofs(self.boundary.name, self.species)[1]  # gamma(x, t)
        return gamma * c * stress[0], gamma * dc * stress[0], i, stress

    def replace_rows(self, x, t, F, J):
        """Row j of the species (its weak-form row R_j: storage, fluxes,
        reactions) moves to multiplier row j as R_j - lambda_j; row j becomes
        a_j - a_eq(p) (the storage moves with it: :meth:`move_storage`)."""
        n = J.shape[0]
        dofs, lam, ones = self.dofs, self.multipliers, np.ones(self.size)
        a_eq, da_dp, i, (_, index, scale) = self.target(x, t)
        F[lam] = F[dofs] - x[lam]
        F[dofs] = x[dofs] - a_eq
        rows, cols, vals = [dofs, lam], [dofs, lam], [ones, -ones]
        if i is not None:
            rows.append(dofs)
            cols.append(np.full(self.size, i))
            vals.append(-da_dp)
        if index is not None:  # d/d(sigma_h) of exp(Omega sigma_h/RT)
            rows.append(dofs)
            cols.append(index)
            vals.append(-a_eq * scale)
        new = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(n, n))
        return F, (self._moved(J) + new).tocsr()

    def _moved(self, A):
        """A with rows j moved to the multiplier rows (rows j and lambda emptied first)."""
        n = A.shape[0]
        keep = np.ones(n)
        keep[self.dofs] = 0.0
        keep[self.multipliers] = 0.0
        move = sp.csr_matrix((np.ones(self.size), (self.multipliers, self.dofs)), shape=(n, n))
        return sp.diags(keep) @ A + move @ A

    def move_storage(self, M):
        """The storage of rows j goes with them to the multiplier rows."""
        return self._moved(M).tocsr()

    def gas_rows(self, x, F, rows, cols, vals, i: int) -> None:
        """The enclosure row: F_p += nu sum_j lambda_j."""
        F[i] += self.nu * x[self.multipliers].sum()
        rows.append(np.full(self.size, i))
        cols.append(self.multipliers)
        vals.append(np.full(self.size, self.nu))

    def initial(self, x: np.ndarray) -> None:
        """The wall's dofs start in equilibrium with the initial pressure
        (the multiplier rows are algebraic)."""
        x[self.dofs] = self.target(x, 0.0)[0]

    def scales(self, x_scale: np.ndarray, r_scale: np.ndarray) -> None:
        """lambda_j and its row (the species row j) like the residual of the
        species row; row j (a_j - a_eq) like a_j."""
        lam, dofs = self.multipliers, self.dofs
        x_scale[lam] = r_scale[lam] = r_scale[dofs]
        r_scale[dofs] = x_scale[dofs]

    def report_flux(self, x, t, out):
        out[self.boundary.name][self.species.name] = -float(x[self.multipliers].sum())


def gas_wall_condition(model, b):
    """The condition of a boundary's ``sieverts`` or ``henry`` wall: with
    multipliers where p is an enclosure's or the species drifts on stress."""
    wall = b.solubility_wall
    s = model.by_name[wall.species]
    enclosures = model.field("enclosures")
    if enclosures is not None and b.name in enclosures.multiplier_offsets:
        return EnclosedSolubilityWall(model, b, s, wall, enclosures.multiplier_offsets[b.name])
    return SolubilityWall(model, b, s, wall)
