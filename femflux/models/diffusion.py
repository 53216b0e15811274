"""The ``diffusion`` model (SPEC 4.1).

mu_i = mu0_i + RT ln(gamma_i c_i / c_ref) and L_ii = D_i c_i / RT, so inside a
region J_i = -D_i grad c_i (mol/m^2/s), with dc_i/dt = -div J_i + R_i.  The
activity coefficient only matters where it jumps between regions
(partitioning: c_i jumps so that mu_i stays continuous).
"""

from __future__ import annotations

import numpy as np

from .transport import SpeciesTransport


class DiffusionModel(SpeciesTransport):
    """Fickian diffusion of any number of species with mass-action reactions."""

    kind = "diffusion"

    def point_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {}
        for s in self.species:
            fields[s.name] = self.node_concentration(s, x)
        for s in self.species:
            fields[f"mu_{s.name}"] = self.chemical_potential(s, fields[s.name])
        return fields
