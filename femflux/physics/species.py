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

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.space.n)


def species_coefficients(case, spec, region_index: dict) -> tuple[np.ndarray, np.ndarray]:
    """(D, gamma) per region of species ``spec``: its values, overridden per region."""
    n = len(region_index)
    D = np.full(n, spec.diffusivity, dtype=float)
    gamma = np.full(n, spec.activity_coefficient, dtype=float)
    for region in case.regions:
        k = region_index[region.name]
        D[k] = region.diffusivity.get(spec.name, D[k])
        gamma[k] = region.activity_coefficient.get(spec.name, gamma[k])
    return D, gamma
