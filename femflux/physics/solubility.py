"""Solubility laws per region (SPEC 6, hydrogen in metals).

A region's ``solubility = { law, K }`` says how much of the species
dissolves at the partial pressure p (Pa) of its gas:

    Sieverts (a diatomic gas dissolving as atoms, H2 <=> 2 H):  c = K_S sqrt(p),
    Henry (the molecule dissolves as such):                     c = K_H p,

with K_S in mol/(m^3 Pa^0.5), K_H in mol/(m^3 Pa).  At an interface p (the
chemical potential) is continuous and J.n too (mass conserved):

- between regions of one law c/K is continuous: the species' unknown is the
  activity a = c K_ref/K (gamma = K_ref/K, K_ref the K of the law's first
  region), continuous as everywhere (a linear jump of c, like partitioning);
- between a Sieverts and a Henry region the jump is nonlinear,
  (c_S/K_S)^2 = c_H/K_H: the species' space is broken there (one copy per
  side) and the tie row of the copies is

      a_H - q a_S |a_S| = 0,   q = K_ref,H / K_ref,S^2

  (:class:`femflux.physics.interfaces.InterfaceTies`), odd in a_S so that it
  stays monotone for the negative values a Newton step may propose.

K may be Arrhenius ``{ pre, energy }``, K = K0 exp(-E_S/RT).  gamma is
taken at the case's temperature T0 = T(t = 0) and kept: under a temperature
program T(t) the regions of one law and one E_S keep c/K continuous with
that gamma (K_ref/K is then the constant K0_ref/K0), and the space is broken
between regions of one law whose E_S differ, tied by

    a_o e_o(T) = a_r e_r(T),   e(T) = exp(E_S/R (1/T - 1/T0))

(c_o/K_o(T) = c_r/K_r(T)); the Sieverts-Henry tie takes
q(T) = q exp(-(E_H - 2 E_S)/R (1/T - 1/T0)).  The storage a/gamma stays
constant in time.  Under a temperature field T(x, y, z, t) gamma follows
T instead, gamma = K_ref(T0)/K(T(x, t)) (:attr:`thermal`,
:meth:`femflux.physics.species.SpeciesField.gamma_at`): a = K_ref(T0) sqrt(p)
(resp. K_ref(T0) p) is continuous across the regions of one law whatever
their E_S, the storage a/gamma changes in time, and inside a region the flux
is Fick's J = -D grad c = -(D/gamma) (grad a - a grad ln gamma) (FESTIM's
law: no Soret term).
"""

from __future__ import annotations

import numpy as np

from ..errors import CaseError

SIEVERTS, HENRY = 0, 1
LAW_INDEX = {"sieverts": SIEVERTS, "henry": HENRY}


class SolubilityLaws:
    """The laws and constants of one species over the model's regions.

    ``law`` (nregions,) SIEVERTS | HENRY, ``K`` (nregions,) the solubility
    constant at T0, ``energy`` (nregions,) its E_S (J/mol, 0: constant),
    ``K_ref`` per law, ``gamma`` = K_ref/K per region; ``mixed`` when both
    laws occur, ``split`` when regions of one law have different E_S under a
    temperature program (the space is broken between them)."""

    def __init__(self, case, spec, region_names: list[str]):
        given = {r.name: r.solubility for r in case.regions
                 if r.solubility is not None and r.solubility.species == spec.name}
        mine = [name for name in region_names if spec.exists_in(name)]
        missing = [name for name in mine if name not in given]
        if missing:
            raise CaseError(f"region {missing[0]!r}: solubility of species {spec.name!r} is "
                            "required (it is given in another region: every region of the "
                            "species needs one)")
        T = case.model.temperature
        n = len(region_names)
        self.law = np.full(n, -1)
        self.K = np.ones(n)
        self.energy = np.zeros(n)
        for k, name in enumerate(region_names):
            if name not in given:
                continue
            sol = given[name]
            self.law[k] = LAW_INDEX[sol.law]
            self.K[k] = sol.K.at(T)
            self.energy[k] = sol.K.energy
        self.K_ref = {}
        for law in (SIEVERTS, HENRY):
            present = np.flatnonzero(self.law == law)
            if len(present):
                self.K_ref[law] = float(self.K[present[0]])
        self.gamma = np.ones(n)
        for k in np.flatnonzero(self.law >= 0):
            self.gamma[k] = self.K_ref[self.law[k]] / self.K[k]
        self.mixed = len(self.K_ref) == 2
        present = self.law >= 0
        # the groups that break the space: (law, E_S) under a program, else the law
        # under T(x, y, z, t) gamma follows T instead (SpeciesField.thermal)
        self.thermal = case.model.temperature_spatial and bool(np.any(self.energy))
        by_energy = case.model.temperature_program is not None and not self.thermal and any(
            len(np.unique(self.energy[present & (self.law == law)])) > 1
            for law in (SIEVERTS, HENRY))
        self.split = by_energy
        keys = [(int(law), float(E) if by_energy else 0.0)
                for law, E in zip(np.where(self.law == HENRY, HENRY, SIEVERTS),
                                  np.where(present, self.energy, 0.0), strict=True)]
        distinct = sorted(set(keys), key=keys.index) if by_energy else [(SIEVERTS, 0.0),
                                                                          (HENRY, 0.0)]
        self._groups = np.array([distinct.index(key) for key in keys])
        self.group_law = np.array([law for law, _ in distinct])
        self.group_energy = np.zeros(len(distinct))
        for k in np.flatnonzero(present):
            self.group_energy[self._groups[k]] = self.energy[k]

    @property
    def q(self) -> float:
        """a_H = q a_S^2 at a Sieverts-Henry interface."""
        return self.K_ref[HENRY] / self.K_ref[SIEVERTS] ** 2

    @property
    def broken(self) -> bool:
        """The species' space is broken between region groups."""
        return self.mixed or self.split

    def groups(self) -> np.ndarray:
        """The region groups that break the species' space: the law of each
        region (regions without the species join the Sieverts group), or its
        (law, E_S) when :attr:`split`; ``group_law`` and ``group_energy``
        give each group's law and E_S (J/mol)."""
        return self._groups

    def pressure(self, a: np.ndarray, law: np.ndarray) -> np.ndarray:
        """p (Pa) of activities a on dofs of the given laws."""
        a = np.abs(a)
        ref = np.where(law == HENRY, self.K_ref.get(HENRY, 1.0), self.K_ref.get(SIEVERTS, 1.0))
        return np.where(law == HENRY, a / ref, (a / ref) ** 2)

    def activity(self, p: float, law: np.ndarray) -> np.ndarray:
        """a on dofs of the given laws at the pressure p (Pa)."""
        ref = np.where(law == HENRY, self.K_ref.get(HENRY, 1.0), self.K_ref.get(SIEVERTS, 1.0))
        return np.where(law == HENRY, ref * p, ref * np.sqrt(p))


def solubility_laws(case, spec, region_names: list[str]) -> SolubilityLaws | None:
    """The species' :class:`SolubilityLaws`, or None when no region gives its solubility."""
    if not any(r.solubility is not None and r.solubility.species == spec.name
               for r in case.regions):
        return None
    return SolubilityLaws(case, spec, region_names)


def consistent_interface_start(a_h, a_s, m_h, m_s, q):
    """Activities of the Henry and Sieverts copies of interface dofs that
    satisfy the tie a_H = q a_S^2 and keep the node's amount m_H a_H + m_S a_S
    (m the copies' lumped storage, c = a/gamma): where the initial values
    already satisfy it they are returned unchanged."""
    total = np.maximum(m_h * a_h + m_s * a_s, 0.0)
    s = 2.0 * total / (m_s + np.sqrt(m_s**2 + 4.0 * q * m_h * total))
    return q * s * s, s
