"""Closed species: what no boundary exchanges is conserved (SPEC 4.0).

A species that no boundary exchanges with the outside (no concentration,
inward_flux, mass_transfer or butler_volmer on it) keeps its amount; with
reactions (and traps, mobile -> trapped), the combinations m with
sum_i m_i nu_i = 0 for every reaction are kept.  A redox electrode
(``butler_volmer`` with ``reduced``: O + n e- <=> R, both in solution)
exchanges electrons, not matter: like a reaction O -> R it keeps the amount
of O + R.  A metal electrode (no ``reduced``) exchanges O.  A steady run
then solves for the steady state with those amounts (bordered constraints of
the solver), and its prescribed inward fluxes must balance along every
conserved combination.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..errors import CaseError
from .boundary.species import InwardFlux
from .traps import all_species


def _metal_electrode_species(b) -> set[str]:
    """O of a metal electrode O^n+ + n e- <=> M(s): exchanged with the metal."""
    bv = b.butler_volmer
    return {bv.species} if bv is not None and bv.reduced is None else set()


def redox_couples(case) -> list[tuple[str, str]]:
    """(O, R) of every redox electrode O + n e- <=> R (both in solution)."""
    return [(b.butler_volmer.species, b.butler_volmer.reduced) for b in case.boundaries
            if b.butler_volmer is not None and b.butler_volmer.reduced is not None]


def exchanged_species(case) -> set[str]:
    """Species that some boundary exchanges with the outside."""
    names = set()
    for b in case.boundaries:
        names |= set(b.concentration) | set(b.mass_transfer) | set(b.inward_flux)
        names |= _metal_electrode_species(b)
        if b.surface_kinetics is not None:
            names.add(b.surface_kinetics.species)
        if b.solubility_wall is not None:
            names.add(b.solubility_wall.species)
    return names


def _dirichlet_like(case) -> set[str]:
    names = set()
    for b in case.boundaries:
        names |= set(b.concentration) | set(b.mass_transfer)
        names |= _metal_electrode_species(b)
        if b.surface_kinetics is not None:
            names.add(b.surface_kinetics.species)
        if b.solubility_wall is not None:
            names.add(b.solubility_wall.species)
    return names


def conserved_combinations(case) -> np.ndarray:
    """(k, nspecies) combinations m with sum_i m_i dAmount_i/dt = 0 for
    species that exchange nothing with the outside (beyond prescribed inward
    fluxes, which must then balance)."""
    index = {spec.name: i for i, spec in enumerate(all_species(case))}
    nsp = len(index)
    rows = []
    for r in case.reactions:
        row = np.zeros(nsp)
        for name, nu in r.products.items():
            row[index[name]] += nu
        for name, nu in r.reactants.items():
            row[index[name]] -= nu
        rows.append(row)
    for trap in case.traps:  # mobile -> trapped
        row = np.zeros(nsp)
        row[index[trap.species]], row[index[trap.name]] = -1.0, 1.0
        rows.append(row)
    for oxidised, reduced in redox_couples(case):  # O -> R at an electrode
        row = np.zeros(nsp)
        row[index[oxidised]] -= 1.0
        row[index[reduced]] += 1.0
        rows.append(row)
    flux_only = set()
    for b in case.boundaries:
        flux_only |= set(b.inward_flux)
    open_species = exchanged_species(case) - (flux_only - _dirichlet_like(case))
    for name in open_species:
        row = np.zeros(nsp)
        row[index[name]] = 1.0
        rows.append(row)
    if not rows:
        return np.eye(nsp)
    return scipy.linalg.null_space(np.array(rows)).T


def check_flux_balance(model, m: np.ndarray) -> None:
    """A steady run whose prescribed inward fluxes cannot balance along a
    conserved combination ``m`` is bad input (CaseError naming the species)."""
    net = np.zeros(len(model.species))
    scale = 0.0
    for c in model.conditions:
        if not isinstance(c, InwardFlux):
            continue
        inflow = c.point_inflow(0.0)
        net[c.species.index] += inflow.sum()
        scale += np.abs(inflow).sum()
    for row in m:
        imbalance = float(row @ net)
        if abs(imbalance) > 1e-9 * max(scale, 1e-300) and scale > 0:
            names = [s.name for s in model.species if abs(row[s.index]) > 1e-12]
            raise CaseError(
                f"steady run: the prescribed inward fluxes of {', '.join(names)} cannot "
                f"balance (net inflow {imbalance:.4g} mol/s); use a transient run or add "
                "a concentration or mass_transfer condition")
