"""The electric potential phi (V): Poisson or electroneutrality (SPEC 4.2).

    -div(eps_0 eps_r grad phi) = F (sum_i z_i c_i + X)      (Poisson), or
    sum_i z_i c_i + X = 0                                   (electroneutral = true),

X the fixed charge (mol/m^3 of elementary charges) of a region.  phi lives on
the species' space; every charged species gets the electrostatic term
z F phi (drift z F phi / RT).

Donnan interfaces: with ``electroneutral = true`` phi and the ion
concentrations jump where the regions' electroneutrality conditions differ
(:meth:`ElectricPotential.interface_groups`): phi and every charged species
present on both sides have one copy per side at an interface node, each phi
copy satisfying its own region's condition, and the species' copies tied by
the continuity of mu_i (:class:`femflux.physics.interfaces.InterfaceTies`).
With full Poisson, phi stays continuous and the Debye layer resolves the jump.

Electrode boundaries (:mod:`femflux.physics.boundary.electric`): ``potential``
(phi = phi_M, or with ``stern_capacitance`` eps grad(phi).n = C_S (phi_M - phi)),
``surface_charge``, ``applied_current`` (phi_M becomes one unknown fixed by the
total current) and ``butler_volmer`` kinetics.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...case import evaluate
from ..boundary import prescribed
from ..boundary.electric import electric_conditions, zero_current_reservoirs
from ..constants import FARADAY, GAS_CONSTANT, epsilon_0
from ..terms import Electrostatic
from . import AuxiliaryField


class ElectricPotential(AuxiliaryField):
    """phi on the species' space (broken at Donnan interfaces), plus the
    metal potentials of ``applied_current`` electrodes as scalar unknowns."""

    name = "phi"

    def __init__(self, model):
        super().__init__(model)
        case = model.case
        self.electroneutral = case.electrostatics.electroneutral
        self.thermal_voltage = model.RT / FARADAY  # RT/F at T(0), V
        self.charge_source = None  # Python-API hook: extra charge density f(x, t), C/m^3

    def thermal_voltage_at(self, t: float, x: np.ndarray | None = None):
        """RT/F (V) at the temperature of time t (a temperature program), at
        the points ``x`` (dim, n) under a temperature field."""
        if self.model.program is None:
            return self.thermal_voltage
        if x is not None and self.model.case.model.temperature_spatial:
            return GAS_CONSTANT * self.model.local_temperature(x, t) / FARADAY
        return GAS_CONSTANT * self.model.temperature(t) / FARADAY

    # -- set-up -----------------------------------------------------------------

    def interface_groups(self):
        """Electroneutral: regions grouped by their condition sum_i z_i a_i/gamma_i
        + X = 0 (charged species present there, X the fixed charge).  Where two
        regions' conditions differ (not only by a positive factor), phi and the
        ion activities jump across their interface (Donnan), so the fields are
        broken there.  None with full Poisson or when all conditions agree."""
        case, m = self.model.case, self.model
        if not self.electroneutral:
            return None
        charged = [spec for spec in case.species if spec.charge != 0]
        rows = []
        for name in m.region_names:
            region = case.region_by_name(name)
            fixed = (region.fixed_charge or 0.0) if region is not None else 0.0
            row = [fixed]
            for spec in charged:
                gamma = spec.activity_coefficient
                if region is not None:
                    gamma = region.activity_coefficient.get(spec.name, gamma)
                row.append(spec.charge / gamma if spec.exists_in(name) else 0.0)
            rows.append(row)
        rows = np.array(rows, dtype=float)
        norm = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = rows / np.where(norm > 0, norm, 1.0)
        groups = np.full(len(rows), -1)
        for k in range(len(rows)):
            for j in range(k):
                if np.allclose(rows[k], rows[j], rtol=1e-12, atol=1e-12):
                    groups[k] = groups[j]
                    break
            else:
                groups[k] = groups.max() + 1
        return groups if groups.max() > 0 else None

    def breaks(self, spec):
        return spec.charge != 0

    def setup(self, offset: int) -> int:
        m, case = self.model, self.model.case
        self.offset = offset
        # shared with the species; broken at Donnan interfaces like the charged species
        self.space = m.make_space(tuple(m.region_names), broken=True)
        self.P = m.points.prolongation(self.space)
        eps_r = np.full(m.nregions, case.electrostatics.relative_permittivity)
        fixed = np.zeros(m.nregions)
        for region in case.regions:
            k = m.region_index[region.name]
            if region.relative_permittivity is not None:
                eps_r[k] = region.relative_permittivity
            if region.fixed_charge is not None:
                fixed[k] = region.fixed_charge
        self.permittivity = epsilon_0 * eps_r  # per region, F/m
        self.fixed_charge = fixed  # per region, mol/m^3
        self.has_reference = any(b.potential is not None or b.applied_current is not None
                                 or b.butler_volmer is not None for b in case.boundaries)
        self.zero_current = zero_current_reservoirs(self)
        self.conditions = electric_conditions(self, offset + self.space.n)
        self.electrodes = {c.boundary.name: c for c in self.conditions if c.is_electrode}
        if not self.electroneutral:
            region = m.fem_mesh.region_ids[self.space.elements]
            self.poisson = self.space.stiffness(self.permittivity[region])
        self.size = self.space.n + sum(c.unknowns for c in self.conditions)
        return self.size

    def drift_term(self, s):
        z = s.spec.charge
        if z == 0:
            return None
        return Electrostatic(z, self.model.RT, self.model.field_index(s, self.offset, self.space),
                             self.offset, self.space)

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.space.n)

    def scales(self, x_scale, r_scale):
        m = self.model
        phi = self.slice
        values = [self.thermal_voltage]
        for b in m.case.boundaries:
            if b.potential is not None:
                pts = m.boundary_points(b.name)
                values.append(float(np.max(np.abs(evaluate(b.potential, pts.x, 0.0)),
                                            initial=0.0)))
        x_scale[phi] = max(values)
        c_scale = max(float(np.max(x_scale[: m.n_species], initial=0.0)), 1e-300)
        w = np.median(m.points.weight)
        charge = FARADAY * c_scale * w
        if self.electroneutral:
            r_scale[phi] = c_scale * w
        else:
            poisson = np.median(np.abs(self.poisson.diagonal())) * self.thermal_voltage
            r_scale[phi] = max(poisson, charge)
        for c in self.conditions:
            c.scales(x_scale, r_scale)

    def initial(self, x):
        for c in self.conditions:
            c.initial(x)

    # -- equations --------------------------------------------------------------

    def dirichlet(self, t: float):
        return prescribed(self.conditions, t)

    def boundary_dofs(self, name: str) -> np.ndarray:
        """Local dofs of phi on boundary ``name`` (every copy at broken dofs)."""
        m = self.model
        key = ("phi-dirichlet", name)
        if key not in m.cache and self.space.broken:  # copies of the sides
            local, _ = self.space.facet_dofs(m.fem_mesh.boundaries[name])
            m.cache[key] = np.unique(local)
        if key not in m.cache:
            m.cache[key] = m.space_boundary_dofs(self.space, m.fem_mesh.boundaries[name])
        return m.cache[key]

    def boundary_P(self, name: str):
        """Prolongation of phi to the points of boundary ``name``."""
        m = self.model
        key = ("phi-P", name)
        if key not in m.cache:
            from ...fem import facet_prolongation

            m.cache[key] = facet_prolongation(m.boundary_points(name), self.space)
        return m.cache[key]

    def residual(self, x, t, F, rows, cols, vals, pieces):
        m = self.model
        phi = self.slice
        charge, dcharge = self.charge_density(x)  # at the cell points
        w = m.points.weight
        if self.electroneutral:
            # sum z c + X = 0 at every node, weighted like the storage term
            F[phi] += self.P.T @ (w * charge)
            pieces += [(self.offset, off, self.P.T @ sp.diags(w * dz) @ P)
                       for dz, P, off in dcharge]
        else:
            F[phi] += self.poisson @ x[phi] - FARADAY * (self.P.T @ (w * charge))
            if self.charge_source is not None:  # extra charge density (C/m^3): MMS hook
                F[phi] -= self.P.T @ (w * self.charge_source(m.points.x, t))
            pieces.append((self.offset, self.offset, self.poisson))
            pieces += [(self.offset, off, -FARADAY * (self.P.T @ sp.diags(w * dz) @ P))
                       for dz, P, off in dcharge]
        for c in self.conditions:
            c.residual(x, t, F, rows, cols, vals)

    def charge_density(self, x):
        """sum_i z_i c_i + X at the cell points, and its derivatives
        [(d/da_i per point, P_i, offset_i)]."""
        m = self.model
        charge = self.fixed_charge[m.points.region].astype(float)
        derivatives = []
        for s in m.species:
            if s.spec.charge == 0:
                continue
            inv_gamma = 1.0 / s.gamma[m.points.region]
            charge = charge + s.spec.charge * (s.P @ x[s.slice]) * inv_gamma
            derivatives.append((s.spec.charge * inv_gamma, s.P, s.offset))
        return charge, derivatives

    def replace_rows(self, x, t, F, J):
        for c in self.conditions:
            F, J = c.replace_rows(x, t, F, J)
        return F, J

    def damp(self, x, dx, out):
        """Keep Newton iterates physical: a concentration falls by at most 90 %
        per iteration, a -> a + max(da, -0.9 a) (a full Newton step otherwise:
        fewer iterations than a multiplicative a exp(da/a), which shortens
        every decrease; PNP-BENCH 7 -> 5, 40 RT/F thin layers 28 -> 15), and
        potential updates beyond L = 10 RT/F are limited logarithmically,
        d -> sign(d) L (1 + ln(|d| / L)), so that one step cannot swing the
        Boltzmann factors by more than ~e^10."""
        m = self.model
        ns = m.n_species
        a, da = x[:ns], dx[:ns]
        out[:ns] = np.where(a > 0, np.maximum(da, -0.9 * a), da)
        limit = 10.0 * self.thermal_voltage
        idx = np.arange(self.offset, self.offset + self.size)
        d = dx[idx]
        big = np.abs(d) > limit
        out[idx[big]] = np.sign(d[big]) * limit * (1.0 + np.log(np.abs(d[big]) / limit))

    def notes(self) -> list[str]:
        """What a user should know about how the problem was closed."""
        notes = [f"boundary {name!r} holds every ion by concentration and has no potential "
                 "condition: zero current (as applied_current = 0)"
                 for name in sorted(self.zero_current)]
        if self.has_reference:
            return notes
        return notes + ["no potential reference (potential, applied_current or "
                        "butler_volmer): the volume mean of phi is fixed to 0"]

    def constraints(self, x, steady):
        """Without any potential reference, the volume mean of phi is 0 (the
        row of a zero-current reservoir's phi_M when there is one)."""
        if self.has_reference or self.zero_current:
            return None
        m = self.model
        w = self.P.T @ m.points.weight
        G = np.zeros((1, m.n))
        G[0, self.slice] = w / w.sum()
        return G @ x, sp.csr_matrix(G), np.array([self.thermal_voltage])

    def nodal(self):
        return [(self.offset, self.space)]

    # -- outputs ----------------------------------------------------------------

    def vertex_phi(self, x) -> np.ndarray:
        """phi at the vertices (the mean of the sides at a Donnan interface)."""
        m = self.model
        if self.space.broken:
            node, _, local = m.vertex_sides(self.space, np.ones(m.nregions, bool))
            return m.vertex_mean(node, x[self.offset + local])
        return self.space.to_global(x[self.slice])[: m.fem_mesh.mesh.nvertices]

    def point_fields(self, x, fields):
        fields["phi"] = self.vertex_phi(x)

    def side_potentials(self, s, x, regions):
        """mu0 + RT ln(a/c_ref) + z F phi at the vertex points of ``regions``,
        with a and phi of the point's side: ``(node, region, mu)``."""
        m = self.model
        spec = s.spec
        node, region, local = m.vertex_sides(s.space, regions)
        a = np.maximum(x[s.offset + local], 1e-30 * m.c_ref)
        phi = x[m.field_index(s, self.offset, self.space)[local]]
        mu = (spec.standard_potential + m.RT * np.log(a / m.c_ref)
              + spec.charge * FARADAY * phi)
        return node, region, mu

    def region_point_fields(self, x, region, out):
        """phi as seen from the elements of one region (NaN outside): at a
        Donnan interface, this region's side."""
        m = self.model
        mask = np.zeros(m.nregions, dtype=bool)
        mask[m.region_index[region]] = True
        nv = m.fem_mesh.mesh.nvertices
        node, _, local = m.vertex_sides(self.space, mask)
        out["phi"] = np.full(nv, np.nan)
        out["phi"][node] = x[self.offset + local]

    def boundary_fluxes(self, x, t, out):
        for c in self.conditions:
            c.report_flux(x, t, out)

    def boundary_summary(self, x, t, fluxes, out):
        """current (A, out of the domain) and potential of every named boundary
        (the mean phi, or the solved electrode potential), and the metal
        potential phi_M of electrodes (kinetics, Stern layer or applied
        current) as ``electrode_potential``."""
        m = self.model
        phi = x[self.slice]
        for name in m.fem_mesh.boundaries:
            current = FARADAY * sum(m.by_name[k].spec.charge * v for k, v in fluxes[name].items())
            pts = m.boundary_points(name)
            P = self.boundary_P(name)
            mean_phi = float(pts.weight @ (P @ phi) / max(pts.weight.sum(), 1e-300))
            e = self.electrodes.get(name)
            potential = float(x[e.unknown]) if e is not None and e.unknown is not None \
                else mean_phi
            entry = {"current": current, "potential": potential}
            if e is not None and e.has_metal:  # phi_M (V): applied, or solved for
                entry["electrode_potential"] = e.metal_potential(x, t)[0]
            out.setdefault(name, {}).update(entry)
