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

    def chemical_potential(self, s, c: np.ndarray) -> np.ndarray:
        """mu = mu0 + RT ln(gamma c / c_ref) in J/mol at the vertices (NaN outside)."""
        spec = self.case.species[s.index]
        a = c * self._vertex_gamma(s)
        floor = 1e-30 * self.c_ref
        mu = spec.standard_potential + self.RT * np.log(np.maximum(a, floor) / self.c_ref)
        return np.where(self._vertex_present(s), mu, np.nan)

    def _vertex_present(self, s) -> np.ndarray:
        mesh = self.fem_mesh.mesh
        present = np.zeros(mesh.nvertices, dtype=bool)
        present[np.unique(mesh.t[:, s.space.elements])] = True
        return present

    def _vertex_gamma(self, s) -> np.ndarray:
        """The activity coefficient at each vertex (harmonic mean over its regions,
        consistent with c = a / gamma averaged over regions)."""
        points = self._vertex_points()
        nv = self.fem_mesh.mesh.nvertices
        keep = s.regions[points.region]
        inv = np.bincount(points.node[keep], weights=1.0 / s.gamma[points.region[keep]],
                          minlength=nv)
        count = np.bincount(points.node[keep], minlength=nv)
        return np.divide(count, inv, out=np.ones(nv), where=inv > 0)

    def point_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {}
        for s in self.species:
            fields[s.name] = self.node_concentration(s, x)
        for s in self.species:
            fields[f"mu_{s.name}"] = self.chemical_potential(s, fields[s.name])
        return fields

    def cell_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {f"J_{s.name}": self.species_flux(s, x).T for s in self.species}
        fields["region"] = self.fem_mesh.region_ids
        return fields

    def free_energy(self, x: np.ndarray) -> float | None:
        return None
