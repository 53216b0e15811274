"""A species as unknowns: its space, its place in the unknown vector and its
coefficients per region.

The unknown of species i is its *activity concentration* a_i = gamma_i c_i
(mol/m^3): mu_i = mu0_i + RT ln(a_i / c_ref) + ... is continuous across region
interfaces, so a_i is one continuous field and c_i = a_i / gamma_i jumps where
the activity coefficient jumps (partitioning, SPEC 4.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..case import evaluate
from ..errors import CaseError
from .constants import GAS_CONSTANT
from .solubility import solubility_laws


@dataclass
class SpeciesField:
    """One species: its space, its place in the unknown vector and its coefficients."""

    name: str
    index: int
    space: object  # femflux.fem.Space
    offset: int
    diffusivity: np.ndarray  # (nregions,) m^2/s
    gamma: np.ndarray  # (nregions,) activity coefficient
    regions: np.ndarray  # (nregions,) bool: the species exists there
    P: sp.csr_matrix  # prolongation to the cell points
    spec: object = None  # the case's Species entry
    laws: object = None  # SolubilityLaws when regions give its solubility
    energy: np.ndarray | None = None  # (nregions,) J/mol of Arrhenius diffusivities
    # (E_S per region J/mol, T0 K, T(x, t)) when gamma follows a temperature field
    # (Arrhenius solubilities under T(x, y, z, t)); ``time`` the model's time (s)
    thermal: tuple | None = None
    time: float = 0.0

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.space.n)

    @property
    def profile(self):
        """gamma(x, y, z) when the activity coefficient is an expression, else None."""
        return getattr(self.spec, "activity_profile", None)

    def gamma_at(self, x: np.ndarray, region, t: float | None = None) -> np.ndarray:
        """The activity coefficient at points ``x`` (dim, ...) of the given
        regions: the region's value, or the expression gamma(x, y, z); under a
        temperature field with Arrhenius solubilities K = K0 exp(-E_S/RT) also
        times K(T0)/K(T(x, t)) = exp(E_S/R (1/T(x, t) - 1/T0)), at time ``t``
        (default: the model's time, :attr:`time`)."""
        gamma = self.gamma[region]
        if self.profile is not None:
            gamma = gamma * np.asarray(evaluate(self.profile, x, 0.0))
        if self.thermal is not None:
            energy, T0, temperature = self.thermal
            T = temperature(x, self.time if t is None else t)
            gamma = gamma * np.exp(energy[region] / GAS_CONSTANT * (1.0 / T - 1.0 / T0))
        return gamma

    def temperature_drift(self, x: np.ndarray, region, grad_T: np.ndarray, t: float):
        """-grad ln gamma (1/m) at points x (dim, ...) of the regions, from
        grad T (dim, ...) there: E_S grad T/(R T^2) (0 without :attr:`thermal`)."""
        energy, _, temperature = self.thermal
        T = temperature(x, t)
        return energy[region] / (GAS_CONSTANT * T * T) * grad_T


def species_coefficients(case, spec, region_index: dict) -> tuple[np.ndarray, np.ndarray]:
    """(D, gamma) per region of species ``spec``: its values, overridden per
    region; with regions' solubilities gamma = K_ref/K
    (:mod:`femflux.physics.solubility`)."""
    n = len(region_index)
    D = np.full(n, spec.diffusivity, dtype=float)
    gamma = np.full(n, spec.activity_coefficient, dtype=float)
    for region in case.regions:
        k = region_index[region.name]
        D[k] = region.diffusivity.get(spec.name, D[k])
        gamma[k] = region.activity_coefficient.get(spec.name, gamma[k])
    laws = solubility_laws(case, spec, list(region_index))
    if laws is not None:
        given = [r.name for r in case.regions if spec.name in r.activity_coefficient]
        if given or spec.activity_coefficient != 1.0:
            where = f"region {given[0]!r}" if given else f"species {spec.name!r}"
            raise CaseError(f"{where}: activity_coefficient of {spec.name!r} cannot combine "
                            "with a region's solubility (which sets c/K continuous)")
        gamma = laws.gamma
    return D, gamma


def activation_energies(case, spec, region_index: dict) -> np.ndarray:
    """E (J/mol) of the species' diffusivity per region (0: not Arrhenius)."""
    energy = np.full(len(region_index), spec.activation_energy, dtype=float)
    for region in case.regions:
        if spec.name in region.activation_energy:
            energy[region_index[region.name]] = region.activation_energy[spec.name]
    return energy
