"""Species boundary conditions (SPEC 2.2); concentrations in mol/m^3,
fluxes in mol/m^2/s (into the domain).

- :class:`Concentration` — c_i = value (Dirichlet on the activity a = gamma c,
  gamma of the region next to the boundary); its flux is the weak-form
  residual ("reaction") at the Dirichlet dofs, shared between boundaries by
  the facet integrals of each basis function (:func:`report_concentration_fluxes`);
- :class:`InwardFlux` — -int g v dA in the species' rows;
- :class:`MassTransfer` — inward flux k (c_bulk - c): -int k (c_bulk - a/gamma) v dA;
- :class:`SurfaceKinetics` — dissociation and recombination at a metal
  surface, inward flux K_d p - K_r c^2 (hydrogen: H2 <=> 2 H).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...case import evaluate
from . import BoundaryCondition, add_coo


class SpeciesCondition(BoundaryCondition):
    """A condition on species ``s`` of a species-transport model on boundary ``b``."""

    def __init__(self, model, b, s, value):
        super().__init__(b)
        self.model, self.species, self.value = model, s, value

    def _at_points(self):
        m, name = self.model, self.boundary.name
        return m.boundary_points(name), m.boundary_prolongation(name, self.species)


class Concentration(SpeciesCondition):
    """c = ``value`` (mol/m^3, a number or an expression of x, y, z, t)."""

    def dirichlet(self, t):
        s = self.species
        local, gamma = self.model.dirichlet_dofs(self.boundary.name, s)
        return [(s.offset + local, gamma * evaluate(self.value, s.space.x[:, local], t))]

    def weights(self) -> np.ndarray:
        """int_b |v_k| dA per dof of the species (its share of a shared node),
        moved to the representative copy at broken dofs."""
        pts, P = self._at_points()
        return self.model.fold_to_representatives(self.species, abs(P).T @ pts.weight)


class InwardFlux(SpeciesCondition):
    """Inward flux g (mol/m^2/s): -int g v dA."""

    def inflow(self, t) -> np.ndarray:
        """int g v dA per dof of the species (mol/s)."""
        pts, P = self._at_points()
        return P.T @ (pts.weight * evaluate(self.value, pts.x, t))

    def point_inflow(self, t) -> np.ndarray:
        """w g at the boundary points next to the species (mol/s)."""
        pts, P = self._at_points()
        inflow = pts.weight * evaluate(self.value, pts.x, t)
        return inflow[np.asarray(abs(P).sum(axis=1)).ravel() > 0]

    def residual(self, x, t, F, rows, cols, vals):
        F[self.species.slice] -= self.inflow(t)

    def report_flux(self, x, t, out):
        out[self.boundary.name][self.species.name] = -float(self.inflow(t).sum())


class MassTransfer(SpeciesCondition):
    """Inward flux k (c_bulk - c), k in m/s, c_bulk in mol/m^3."""

    def _inflow(self, x, t):
        s = self.species
        pts, P = self._at_points()
        k = evaluate(self.value.coefficient, pts.x, t)
        inv_gamma = 1.0 / s.gamma_at(pts.x, pts.region)
        c = (P @ x[s.slice]) * inv_gamma
        return P.T @ (pts.weight * k * (evaluate(self.value.bulk, pts.x, t) - c)), k, inv_gamma

    def residual(self, x, t, F, rows, cols, vals):
        s = self.species
        pts, P = self._at_points()
        inflow, k, inv_gamma = self._inflow(x, t)
        F[s.slice] -= inflow
        add_coo(P.T @ sp.diags(pts.weight * k * inv_gamma) @ P, s.offset, s.offset,
                rows, cols, vals)

    def report_flux(self, x, t, out):
        out[self.boundary.name][self.species.name] = -float(self._inflow(x, t)[0].sum())


class SurfaceKinetics(SpeciesCondition):
    """Inward flux K_d p - K_r c^2: dissociative adsorption from a gas at
    pressure p (Pa) minus recombinative desorption; K_d (mol/(m^2 s Pa)) and
    K_r (m^4/(mol s)) at the case's temperature (Arrhenius allowed).  At
    steady state with no flux, Sieverts: c = sqrt(K_d p / K_r).  With an
    enclosure p is that enclosure's unknown pressure
    (:mod:`femflux.physics.fields.enclosure`)."""

    def _rates(self, t: float):
        """K_d and K_r at the temperature of time t: numbers, or at each
        boundary point under a spatial T(x, y, z, t)."""
        m = self.model
        if m.case.model.temperature_spatial:
            T = m.local_temperature(self._at_points()[0].x, t)
        else:
            T = m.temperature(t)
        return self.value.dissociation.at(T), self.value.recombination.at(T)

    def dissociation_rate(self, t: float) -> float:
        """The largest K_d on the wall (mol/(m^2 s Pa))."""
        return float(np.max(self._rates(t)[0]))

    def area(self) -> float:
        """int dA over the wall (m^2, with the geometry's conventions)."""
        return float(self._at_points()[0].weight.sum())

    def _pressure_unknown(self) -> int | None:
        if self.value.enclosure is None:
            return None
        return self.model.field("enclosures").unknown(self.value.enclosure)

    def _inflow(self, x, t):
        s = self.species
        K_d, K_r = self._rates(t)
        pts, P = self._at_points()
        inv_gamma = 1.0 / s.gamma_at(pts.x, pts.region)
        c = (P @ x[s.slice]) * inv_gamma
        i = self._pressure_unknown()
        p = evaluate(self.value.pressure, pts.x, t) if i is None else \
            self.model.field("enclosures").pressure(x, self.value.enclosure)
        g = K_d * p - K_r * c * c
        return P.T @ (pts.weight * g), c, inv_gamma

    def gas_exchange(self, x, t):
        """(int (K_d p - K_r c^2) dA, its derivative in p, its derivatives in
        the species' dofs) for the enclosure's row."""
        inflow, c, inv_gamma = self._inflow(x, t)
        K_d, K_r = self._rates(t)
        pts, P = self._at_points()
        return (float(inflow.sum()), float(np.sum(K_d * pts.weight)),
                P.T @ (pts.weight * (-2.0 * K_r * c * inv_gamma)))

    def residual(self, x, t, F, rows, cols, vals):
        s = self.species
        pts, P = self._at_points()
        inflow, c, inv_gamma = self._inflow(x, t)
        F[s.slice] -= inflow
        K_d, K_r = self._rates(t)
        add_coo(P.T @ sp.diags(pts.weight * 2.0 * K_r * c * inv_gamma) @ P, s.offset,
                s.offset, rows, cols, vals)
        i = self._pressure_unknown()
        if i is not None:  # d(-inflow)/dp
            column = -(P.T @ (K_d * pts.weight))
            rows.append(s.offset + np.arange(s.space.n))
            cols.append(np.full(s.space.n, i))
            vals.append(column)

    def report_flux(self, x, t, out):
        out[self.boundary.name][self.species.name] = -float(self._inflow(x, t)[0].sum())


def species_conditions(model) -> list[SpeciesCondition]:
    """The species conditions of every boundary of the case, in order."""
    out = []
    for b in model.case.boundaries:
        for kind, table in ((Concentration, b.concentration), (InwardFlux, b.inward_flux),
                            (MassTransfer, b.mass_transfer)):
            for name, value in table.items():
                out.append(kind(model, b, model.by_name[name], value))
        if b.surface_kinetics is not None:
            sk = b.surface_kinetics
            out.append(SurfaceKinetics(model, b, model.by_name[sk.species], sk))
        if b.solubility_wall is not None:
            from .gas_walls import gas_wall_condition

            out.append(gas_wall_condition(model, b))
    return out


def report_concentration_fluxes(conditions, residual: np.ndarray, out: dict) -> None:
    """The outward flux through concentration boundaries: minus the weak-form
    residual (storage rate + flux terms) at their dofs, each dof's share split
    between the boundaries holding it by their facet integrals."""
    by_species: dict[str, list[Concentration]] = {}
    for c in conditions:
        if isinstance(c, Concentration):
            by_species.setdefault(c.species.name, []).append(c)
    for group in by_species.values():
        s = group[0].species
        weights = [c.weights() for c in group]
        total = sum(weights)
        r = residual[s.slice]
        for c, w in zip(group, weights, strict=True):
            share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
            out[c.boundary.name][s.name] = -float(share @ r)
