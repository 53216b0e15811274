"""What a species-transport model reports: point and cell fields, amounts,
conservative boundary fluxes (SPEC 3).

- point fields: every species c (mol/m^3), the fields' own (phi, u, sigma,
  sigma_h, von_mises) and mu_<species> = the sum of its potential terms (J/mol);
- cell fields: J_<species> at the element centroids (mol/m^2/s) and region ids;
- boundary fluxes: prescribed fluxes integrated directly, concentration
  boundaries from the weak-form residual (:mod:`femflux.physics.boundary`),
  with the fields' currents and potentials.
"""

from __future__ import annotations

import numpy as np

from ..fem import PointSet, Space, cell_points
from ..physics.boundary.species import report_concentration_fluxes
from ..physics.species import SpeciesField
from ..physics.terms import Electrostatic, ideal_potential


class TransportOutput:
    """Post-processing of :class:`~femflux.models.transport.SpeciesTransport`."""

    def point_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Species, the fields and mu at the vertices.  At a node on a Donnan
        interface (broken dofs) c and phi show the mean of the two sides and mu
        its value (the same on both sides); :meth:`region_point_fields` gives
        each side."""
        fields = {s.name: self.node_concentration(s, x) for s in self.species}
        for f in self.fields:
            f.point_fields(x, fields)
        vertices = self.fem_mesh.mesh.p
        for s in self.species:
            if s.name in self.trapped:
                continue  # trapped concentrations: no chemical potential of their own
            terms = self.terms[s.name]
            if s.space.broken and self.electric_term(s) is not None:
                node, _, mu = self._side_potentials(s, x, s.regions)
                mu = np.where(self._vertex_present(s), self.vertex_mean(node, mu), np.nan)
                terms = [t for t in terms if not isinstance(t, Electrostatic)]
            else:
                mu = self.chemical_potential(s, fields[s.name])
            for term in terms:
                mu = mu + term.vertex_potential(fields, vertices)
            fields[f"mu_{s.name}"] = mu
        return fields

    def _side_potentials(self, s, x, regions):
        """mu0 + RT ln(a/c_ref) (+ z F phi) at the vertex points of ``regions``,
        with a and phi of the point's side: ``(node, region, mu)``."""
        if self.electric_term(s) is not None:
            return self.electric.side_potentials(s, x, regions)
        node, region, local = self.vertex_sides(s.space, regions)
        return node, region, ideal_potential(s.spec.standard_potential, self.RT,
                                             x[s.offset + local], self.c_ref)

    def boundary_fluxes(self, x: np.ndarray, rate: np.ndarray, t: float,
                        residual: np.ndarray | None = None) -> dict[str, dict[str, float]]:
        """Outward flux integral of every species through every named boundary.

        Prescribed fluxes are integrated directly; on concentration boundaries
        the flux is the weak-form residual ("reaction") at the Dirichlet dofs,
        shared between boundaries by the facet integrals of each basis function.
        ``residual`` = rate + F(x, t) when the solver has it (a time step's
        converged Newton residual): no re-assembly.
        """
        if residual is None:
            residual = rate + self.flux(x, t)[0]
        else:
            residual = residual.copy()
        if self.ties is not None:
            residual[self.ties.other] = 0.0  # the node's total is at the representative
        out = {name: {s.name: 0.0 for s in self.species} for name in self.fem_mesh.boundaries}
        for c in self.conditions:
            c.report_flux(x, t, out)
        report_concentration_fluxes(self.conditions, residual, out)
        for f in self.fields:
            f.boundary_fluxes(x, t, out)
        return out

    def boundary_summary(self, x: np.ndarray, rate: np.ndarray, t: float,
                         residual: np.ndarray | None = None) -> dict:
        """summary.json ``boundaries``: flux, measure and the fields' entries
        (current, potential) of every named boundary."""
        fluxes = self.boundary_fluxes(x, rate, t, residual)
        extra: dict = {}
        for f in self.fields:
            f.boundary_summary(x, t, fluxes, extra)
        out = {}
        for name in self.fem_mesh.boundaries:
            entry = {"flux": fluxes[name],
                     "measure": float(self.boundary_points(name).weight.sum())}
            entry.update(extra.get(name, {}))
            out[name] = entry
        return out

    # -- post-processing ------------------------------------------------------

    def chemical_potential(self, s, c: np.ndarray) -> np.ndarray:
        """The ideal term mu0 + RT ln(gamma c / c_ref) in J/mol at the vertices
        (NaN outside the species)."""
        mu = ideal_potential(s.spec.standard_potential, self.RT, c * self._vertex_gamma(s),
                             self.c_ref)
        return np.where(self._vertex_present(s), mu, np.nan)

    def _vertex_present(self, s) -> np.ndarray:
        mesh = self.fem_mesh.mesh
        present = np.zeros(mesh.nvertices, dtype=bool)
        present[mesh.t[:, s.space.elements]] = True  # (no unique: a sort of 3-4 nel)
        return present

    def _vertex_gamma(self, s) -> np.ndarray:
        """The activity coefficient at each vertex (harmonic mean over its regions,
        consistent with c = a / gamma averaged over regions)."""
        points = self._vertex_points()
        nv = self.fem_mesh.mesh.nvertices
        keep = s.regions[points.region]
        inv = np.bincount(points.node[keep], minlength=nv,
                          weights=1.0 / s.gamma_at(points.x[:, keep], points.region[keep]))
        count = np.bincount(points.node[keep], minlength=nv)
        return np.divide(count, inv, out=np.ones(nv), where=inv > 0)

    def cell_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {f"J_{s.name}": self.species_flux(s, x).T for s in self.species}
        fields["region"] = self.fem_mesh.region_ids
        return fields

    def free_energy(self, x: np.ndarray) -> float | None:
        return None

    def concentrations_at_points(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        return (s.P @ x[s.slice]) / s.gamma_at(self.points.x, self.points.region)

    def node_concentration(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        """c at the mesh vertices: a / gamma, averaged over the regions at a vertex
        (over the sides of an interface where the species' dofs are broken)."""
        if s.space.broken:
            node, region, local = self.vertex_sides(s.space, s.regions)
            return self.vertex_mean(node, x[s.slice][local]
                                    / s.gamma_at(self.fem_mesh.mesh.p[:, node], region))
        mesh = self.fem_mesh.mesh
        a = s.space.to_global(x[s.slice])[: mesh.nvertices]
        present = np.zeros(mesh.nvertices, dtype=bool)
        present[mesh.t[:, s.space.elements]] = True  # (no unique: a sort of 3-4 nel)
        points = self._vertex_points()
        keep = s.regions[points.region]
        inv = np.bincount(points.node[keep], minlength=mesh.nvertices,
                          weights=1.0 / s.gamma_at(points.x[:, keep], points.region[keep]))
        count = np.bincount(points.node[keep], minlength=mesh.nvertices)
        return np.where(present, a * inv / np.maximum(count, 1), 0.0)

    def vertex_sides(self, space: Space, regions: np.ndarray):
        """The vertex points (node, region) of the ``regions`` (bool per region)
        where ``space`` has a dof, and that dof as seen from the region (the
        copy of its side at a broken dof): ``(node, region, local)``."""
        points = self._vertex_points()
        keep = regions[points.region] & space.region_mask[points.region]
        node, region = points.node[keep], points.region[keep]
        local = space.local_dofs(node, region)
        ok = local >= 0
        return node[ok], region[ok], local[ok]

    def vertex_mean(self, node: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Mean of point values per mesh vertex (0 at vertices without points)."""
        nv = self.fem_mesh.mesh.nvertices
        count = np.bincount(node, minlength=nv)
        total = np.bincount(node, weights=values, minlength=nv)
        return np.divide(total, count, out=np.zeros(nv), where=count > 0)

    def region_point_fields(self, x: np.ndarray, region: str) -> dict[str, np.ndarray]:
        """Point fields as seen from the elements of one region (NaN at vertices
        outside it): on an interface where a field jumps (broken dofs), the value
        on this region's side, where the results folder shows the mean of the
        sides."""
        mask = np.zeros(self.nregions, dtype=bool)
        mask[self.region_index[region]] = True
        nv = self.fem_mesh.mesh.nvertices
        out = {}
        for s in self.species:
            node, reg, local = self.vertex_sides(s.space, s.regions & mask)
            out[s.name] = np.full(nv, np.nan)
            out[s.name][node] = x[s.slice][local] / s.gamma_at(
                self.fem_mesh.mesh.p[:, node], reg)
        for f in self.fields:
            f.region_point_fields(x, region, out)
        vertices = self.fem_mesh.mesh.p
        for s in self.species:
            if s.name in self.trapped:
                continue
            node, _, mu = self._side_potentials(s, x, s.regions & mask)
            mu_s = np.full(nv, np.nan)
            mu_s[node] = mu
            for term in self.terms[s.name]:
                if not isinstance(term, Electrostatic):
                    mu_s = mu_s + term.vertex_potential(out, vertices)
            out[f"mu_{s.name}"] = mu_s
        return out

    def _vertex_points(self) -> PointSet:
        if self.points.kind == "nodal":
            return self.points
        if "vertex points" not in self.cache:
            self.cache["vertex points"] = cell_points(self.fem_mesh, 1)
        return self.cache["vertex points"]

    def species_flux(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        """(3, nelements) J = -(D/gamma)(grad a + a grad psi) at the element
        centroids (0 outside the species' elements)."""
        J = np.zeros((3, self.fem_mesh.mesh.nelements))
        k = self.element_k(s)
        a = x[s.slice]
        grad = s.space.gradient(a)
        if s.thermal is not None:  # gamma(x, t): J = -D grad c, c = a/gamma in each element
            space = s.space
            region = self.fem_mesh.region_ids[space.elements]
            c = a[space.element_dofs] / s.gamma_at(space.x[:, space.element_dofs],
                                                   region[None, :])
            grad = np.einsum("ie,ideq->de", c, space.grads) / space.grads.shape[-1]
            k = k * s.gamma_at(space.quadrature_x, region[:, None]).mean(axis=1)
        psi = self.drift_potential(s, x)
        if psi is not None:
            a_mean = a[s.space.element_dofs].mean(axis=0)
            drift = s.space.gradient(psi)
            if self.case.model.temperature_spatial:  # T0/T at the centroids, t of the last flux
                T = self.local_temperature(s.space.quadrature_x,
                                           self.cache.get("temperature field", 0.0))
                drift = drift * (self.case.model.temperature / T.mean(axis=1))
            grad = grad + a_mean * drift
        J[: self.dim, s.space.elements] = -k * grad
        return J

    def amounts(self, x: np.ndarray) -> dict[str, float]:
        return {s.name: float(self.points.weight @ self.concentrations_at_points(s, x))
                for s in self.species}

    def region_amounts(self, x: np.ndarray) -> dict[str, dict[str, float]]:
        out = {name: {} for name in self.region_names}
        for s in self.species:
            c = self.points.weight * self.concentrations_at_points(s, x)
            per_region = np.bincount(self.points.region, weights=c, minlength=self.nregions)
            for k, name in enumerate(self.region_names):
                if s.regions[k]:
                    out[name][s.name] = float(per_region[k])
        return out

