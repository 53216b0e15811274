"""The ``nernst-planck-poisson`` model (SPEC 4.2).

mu_i = mu0_i + RT ln(gamma_i c_i / c_ref) + z_i F phi, so inside a region

    J_i = -(D_i c_i / RT) grad mu_i = -(D_i/gamma_i) (grad a_i + a_i grad psi_i),
    psi_i = z_i F phi / RT,

with the potential from Poisson, -div(eps_0 eps_r grad phi) = F (sum_i z_i c_i + X),
or, with ``electroneutral = true``, from sum_i z_i c_i + X = 0.  The species
flux is the edge-averaged (Scharfetter-Gummel) term of :mod:`femflux.fluxes`,
so drift-dominated transport and thin double layers stay positive and
non-oscillating.

Donnan interfaces: with ``electroneutral = true`` phi and the ion
concentrations jump where the fixed charge jumps (SPEC 4.0).  Regions whose
electroneutrality conditions differ (:meth:`NernstPlanckPoisson.interface_groups`)
are separated by *broken* dofs: phi and every charged species present on both
sides have one copy per side at an interface node; each phi copy satisfies its
own region's condition, the conservation rows of a species' copies are summed
and its other rows say that mu_i is continuous
(:class:`femflux.models.transport.InterfaceTies`).  With
full Poisson, phi stays continuous and the Debye layer resolves the jump.

Electrode boundaries: ``potential`` (phi = phi_M, or with
``stern_capacitance`` eps grad(phi).n = C_S (phi_M - phi)), ``surface_charge``
(eps grad(phi).n = sigma), ``applied_current`` (phi_M becomes one unknown
fixed by the total current) and ``butler_volmer`` kinetics
i = i0 [exp((1-alpha) n f eta) - (a_O/c_ref) exp(-alpha n f eta)],
eta = phi_M - phi - E_eq, f = F/RT, with inward flux i/(nF) of O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.constants import epsilon_0, physical_constants

from ..case import evaluate
from .transport import SpeciesTransport

FARADAY = physical_constants["Faraday constant"][0]


@dataclass
class Electrode:
    """A boundary whose metal potential phi_M is prescribed or solved for."""

    name: str
    unknown: int | None  # dof of phi_M when it is solved for (applied_current)


class NernstPlanckPoisson(SpeciesTransport):
    """Multi-species drift-diffusion coupled to electrostatics."""

    kind = "nernst-planck-poisson"

    # -- set-up -----------------------------------------------------------------

    def _setup_fields(self, offset: int) -> int:
        case = self.case
        self.electroneutral = case.electrostatics.electroneutral
        self.thermal_voltage = self.RT / FARADAY
        # shared with the species; broken at Donnan interfaces like the charged species
        self.phi_space = self._space(tuple(self.region_names), broken=True)
        self.phi_offset = offset
        self.phi_P = self.points.prolongation(self.phi_space)
        eps_r = np.full(self.nregions, case.electrostatics.relative_permittivity)
        fixed = np.zeros(self.nregions)
        for region in case.regions:
            k = self.region_index[region.name]
            if region.relative_permittivity is not None:
                eps_r[k] = region.relative_permittivity
            if region.fixed_charge is not None:
                fixed[k] = region.fixed_charge
        self.permittivity = epsilon_0 * eps_r  # per region, F/m
        self.charge_source = None  # Python-API hook: extra charge density f(x, t), C/m^3
        self.fixed_charge = fixed  # per region, mol/m^3
        size = self.phi_space.n
        self.electrodes: dict[str, Electrode] = {}
        for b in case.boundaries:
            if b.applied_current is not None:
                self.electrodes[b.name] = Electrode(b.name, offset + size)
                size += 1
            elif b.potential is not None:
                self.electrodes[b.name] = Electrode(b.name, None)
        self.has_reference = bool(self.electrodes) or any(
            b.butler_volmer is not None for b in case.boundaries)
        if not self.electroneutral:
            region = self.fem_mesh.region_ids[self.phi_space.elements]
            self._poisson = self.phi_space.stiffness(self.permittivity[region])
        return size

    def interface_groups(self):
        """Electroneutral: regions grouped by their condition sum_i z_i a_i/gamma_i
        + X = 0 (charged species present there, X the fixed charge).  Where two
        regions' conditions differ (not only by a positive factor), phi and the
        ion activities jump across their interface (Donnan), so the fields are
        broken there.  None with full Poisson or when all conditions agree."""
        if not self.case.electrostatics.electroneutral:
            return None
        charged = [spec for spec in self.case.species if spec.charge != 0]
        rows = []
        for name in self.region_names:
            region = next((r for r in self.case.regions if r.name == name), None)
            fixed = (region.fixed_charge or 0.0) if region is not None else 0.0
            row = [fixed]
            for spec in charged:
                present = not spec.regions or name in spec.regions
                gamma = spec.activity_coefficient
                if region is not None:
                    gamma = region.activity_coefficient.get(spec.name, gamma)
                row.append(spec.charge / gamma if present else 0.0)
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

    def field_offsets(self):
        return [self.phi_offset]

    def field_spaces(self):
        return [self.phi_space]

    def drift(self, s):
        z = self.case.species[s.index].charge
        if z == 0:
            return None
        return (z / self.thermal_voltage, self.phi_offset, self.phi_space)

    @property
    def phi_slice(self) -> slice:
        return slice(self.phi_offset, self.phi_offset + self.phi_space.n)

    def _scales(self):
        x_scale, r_scale = super()._scales()
        phi = self.phi_slice
        values = [self.thermal_voltage]
        for b in self.case.boundaries:
            if b.potential is not None:
                pts = self.boundary_points(b.name)
                values.append(float(np.max(np.abs(evaluate(b.potential, pts.x, 0.0)))))
        x_scale[phi] = max(values)
        c_scale = max(float(np.max(x_scale[: self.n_species], initial=0.0)), 1e-300)
        w = np.median(self.points.weight)
        charge = FARADAY * c_scale * w
        if self.electroneutral:
            r_scale[phi] = c_scale * w
        else:
            poisson = np.median(np.abs(self._poisson.diagonal())) * self.thermal_voltage
            r_scale[phi] = max(poisson, charge)
        for e in self.electrodes.values():
            if e.unknown is not None:
                x_scale[e.unknown] = self.thermal_voltage
                r_scale[e.unknown] = self._current_scale(e.name)
        return x_scale, r_scale

    def _current_scale(self, name: str) -> float:
        b = next(b for b in self.case.boundaries if b.name == name)
        area = float(self.boundary_points(name).weight.sum())
        scale = abs(float(evaluate(b.applied_current, np.zeros((self.dim, 1)), 0.0).ravel()[0]))
        if b.butler_volmer is not None:
            scale = max(scale, b.butler_volmer.exchange_current * area)
        return scale or 1.0

    def initial_state(self) -> np.ndarray:
        x = super().initial_state()
        for e in self.electrodes.values():
            if e.unknown is not None:
                x[e.unknown] = self._open_circuit_guess(e.name, x)
        return x

    def _open_circuit_guess(self, name: str, x) -> float:
        b = next(b for b in self.case.boundaries if b.name == name)
        if b.butler_volmer is None:
            return 0.0
        bv = b.butler_volmer
        s = self.by_name[bv.species]
        a = np.mean(self.boundary_prolongation(name, s) @ x[s.slice])
        nernst = bv.equilibrium_potential + self.thermal_voltage / bv.electrons * np.log(
            max(a, 1e-30) / self.c_ref)
        return float(nernst)

    # -- Dirichlet values -----------------------------------------------------------

    def dirichlet(self, t: float):
        dofs, values = super().dirichlet(t)
        extra_dofs, extra_values = [], []
        for b in self.case.boundaries:
            if b.potential is None or b.stern_capacitance is not None \
                    or b.butler_volmer is not None:
                continue  # phi_M of an electrode, not the electrolyte potential
            local = self._phi_boundary_dofs(b.name)
            extra_dofs.append(self.phi_offset + local)
            extra_values.append(evaluate(b.potential, self.phi_space.x[:, local], t))
        if extra_dofs:
            dofs = np.concatenate([dofs] + extra_dofs)
            values = np.concatenate([values] + extra_values)
        return dofs, values

    def _phi_boundary_dofs(self, name: str) -> np.ndarray:
        key = ("phi-dirichlet", name)
        if key not in self._facet_P and self.phi_space.broken:  # copies of the sides
            local, _ = self.phi_space.facet_dofs(self.fem_mesh.boundaries[name])
            self._facet_P[key] = np.unique(local)
        if key not in self._facet_P:
            facets = self.fem_mesh.boundaries[name]
            if self.degree == 1:
                nodes = np.flatnonzero(np.bincount(self.fem_mesh.mesh.facets[:, facets].ravel(),
                                                   minlength=self.fem_mesh.mesh.nvertices))
                local = self.phi_space.local[nodes]
            else:
                local = self.phi_space.local[self.phi_space.basis.get_dofs(facets=facets).all()]
            self._facet_P[key] = local[local >= 0]
        return self._facet_P[key]

    def _phi_boundary_P(self, name: str):
        key = ("phi-P", name)
        if key not in self._facet_P:
            from ..fem import facet_prolongation

            self._facet_P[key] = facet_prolongation(self.boundary_points(name), self.phi_space)
        return self._facet_P[key]

    # -- equations of phi -----------------------------------------------------------

    def field_equations(self, x, t, F, rows, cols, vals, pieces):
        phi = self.phi_slice
        charge, dcharge = self._charge_density(x)  # at the cell points
        w = self.points.weight
        if self.electroneutral:
            # sum z c + X = 0 at every node, weighted like the storage term
            F[phi] += self.phi_P.T @ (w * charge)
            pieces += [(self.phi_offset, off, self.phi_P.T @ sp.diags(w * dz) @ P)
                       for dz, P, off in dcharge]
        else:
            F[phi] += self._poisson @ x[phi] - FARADAY * (self.phi_P.T @ (w * charge))
            if self.charge_source is not None:  # extra charge density (C/m^3): MMS hook
                F[phi] -= self.phi_P.T @ (w * self.charge_source(self.points.x, t))
            pieces.append((self.phi_offset, self.phi_offset, self._poisson))
            pieces += [(self.phi_offset, off, -FARADAY * (self.phi_P.T @ sp.diags(w * dz) @ P))
                       for dz, P, off in dcharge]
        for b in self.case.boundaries:
            self._electrode_terms(b, x, t, F, rows, cols, vals)

    def _charge_density(self, x):
        """sum_i z_i c_i + X at the cell points, and its derivatives
        [(d/da_i per point, P_i, offset_i)]."""
        charge = self.fixed_charge[self.points.region].astype(float)
        derivatives = []
        for s, spec in zip(self.species, self.case.species, strict=True):
            if spec.charge == 0:
                continue
            inv_gamma = 1.0 / s.gamma[self.points.region]
            charge = charge + spec.charge * (s.P @ x[s.slice]) * inv_gamma
            derivatives.append((spec.charge * inv_gamma, s.P, s.offset))
        return charge, derivatives

    def metal_potential(self, b, x, t) -> tuple[float, int | None]:
        """phi_M of an electrode boundary and its dof (None when prescribed)."""
        e = self.electrodes.get(b.name)
        if e is not None and e.unknown is not None:
            return float(x[e.unknown]), e.unknown
        value = evaluate(b.potential, np.zeros((self.dim, 1)), t)
        return float(np.asarray(value).ravel()[0]), None

    def _electrode_terms(self, b, x, t, F, rows, cols, vals):
        phi = self.phi_slice
        if b.surface_charge is not None and not self.electroneutral:
            pts = self.boundary_points(b.name)
            P = self._phi_boundary_P(b.name)
            F[phi] -= P.T @ (pts.weight * evaluate(b.surface_charge, pts.x, t))
        if b.stern_capacitance is not None and not self.electroneutral:
            pts = self.boundary_points(b.name)
            P = self._phi_boundary_P(b.name)
            phi_m, dof = self.metal_potential(b, x, t)
            C = b.stern_capacitance
            F[phi] -= P.T @ (pts.weight * C * (phi_m - P @ x[phi]))
            self._coo(P.T @ sp.diags(pts.weight * C) @ P, self.phi_offset, self.phi_offset,
                      rows, cols, vals)
            if dof is not None:
                column = -(P.T @ (pts.weight * C))
                self._coo(sp.csr_matrix(column[:, None]), self.phi_offset, dof, rows, cols, vals)
        if b.butler_volmer is not None:
            self._butler_volmer(b, x, t, F, rows, cols, vals)
        e = self.electrodes.get(b.name)
        if e is not None and e.unknown is not None and b.butler_volmer is not None:
            self._current_equation(b, x, t, F, rows, cols, vals)

    def _coo(self, block, row_offset, col_offset, rows, cols, vals):
        block = sp.coo_matrix(block)
        rows.append(block.row + row_offset)
        cols.append(block.col + col_offset)
        vals.append(block.data)

    def butler_volmer_current(self, b, x, t):
        """Current density into the electrolyte i (A/m^2) at the boundary points
        and its derivatives d/da_O, d/dphi (electrolyte), d/dphi_M."""
        bv = b.butler_volmer
        s = self.by_name[bv.species]
        P_s = self.boundary_prolongation(b.name, s)
        P_phi = self._phi_boundary_P(b.name)
        a = P_s @ x[s.slice]
        phi_m, dof = self.metal_potential(b, x, t)
        eta = phi_m - P_phi @ x[self.phi_slice] - bv.equilibrium_potential
        nf = bv.electrons / self.thermal_voltage
        anodic = np.exp((1 - bv.alpha) * nf * eta)
        cathodic = np.exp(-bv.alpha * nf * eta)
        i0 = bv.exchange_current
        i = i0 * (anodic - a / self.c_ref * cathodic)
        di_deta = i0 * ((1 - bv.alpha) * nf * anodic + bv.alpha * nf * a / self.c_ref * cathodic)
        di_da = -i0 * cathodic / self.c_ref
        return i, di_da, di_deta, dof

    def _butler_volmer(self, b, x, t, F, rows, cols, vals):
        bv = b.butler_volmer
        s = self.by_name[bv.species]
        pts = self.boundary_points(b.name)
        P_s = self.boundary_prolongation(b.name, s)
        P_phi = self._phi_boundary_P(b.name)
        i, di_da, di_deta, dof = self.butler_volmer_current(b, x, t)
        scale = pts.weight / (bv.electrons * FARADAY)  # inward flux of O = i/(nF)
        F[s.slice] -= P_s.T @ (scale * i)
        self._coo(-(P_s.T @ sp.diags(scale * di_da) @ P_s), s.offset, s.offset, rows, cols, vals)
        self._coo(P_s.T @ sp.diags(scale * di_deta) @ P_phi, s.offset, self.phi_offset,
                  rows, cols, vals)
        if dof is not None:
            column = -(P_s.T @ (scale * di_deta))
            self._coo(sp.csr_matrix(column[:, None]), s.offset, dof, rows, cols, vals)

    def _current_equation(self, b, x, t, F, rows, cols, vals):
        """Galvanostatic: the total current into the electrolyte equals applied_current."""
        e = self.electrodes[b.name]
        target = self._applied_current(b, t)
        s = self.by_name[b.butler_volmer.species]
        pts = self.boundary_points(b.name)
        P_s = self.boundary_prolongation(b.name, s)
        P_phi = self._phi_boundary_P(b.name)
        i, di_da, di_deta, _ = self.butler_volmer_current(b, x, t)
        F[e.unknown] += float(pts.weight @ i) - target
        self._coo(sp.csr_matrix((pts.weight * di_da) @ P_s), e.unknown, s.offset,
                  rows, cols, vals)
        self._coo(sp.csr_matrix(-(pts.weight * di_deta) @ P_phi), e.unknown, self.phi_offset,
                  rows, cols, vals)
        rows.append(np.array([e.unknown]))
        cols.append(np.array([e.unknown]))
        vals.append(np.array([float(pts.weight @ di_deta)]))

    def damp_update(self, x, dx):
        """Keep Newton iterates physical: concentrations positive and potential
        updates beyond L = 10 RT/F limited logarithmically,
        d -> sign(d) L (1 + ln(|d| / L)), so that one step cannot swing the
        Boltzmann factors by more than ~e^10."""
        out = dx.copy()
        # concentrations: a decrease is taken multiplicatively, a -> a exp(da/a),
        # so an iterate never turns negative (the converged answer is unchanged)
        a, da = x[: self.n_species], dx[: self.n_species]
        shrink = (da < 0) & (a > 0)
        ratio = np.where(shrink, da / np.where(shrink, a, 1.0), 0.0)
        out[: self.n_species] = np.where(shrink, a * np.expm1(ratio), da)
        limit = 10.0 * self.thermal_voltage
        idx = [np.arange(self.phi_slice.start, self.phi_slice.stop)]
        idx += [np.array([e.unknown]) for e in self.electrodes.values() if e.unknown is not None]
        idx = np.concatenate(idx)
        d = dx[idx]
        big = np.abs(d) > limit
        out[idx[big]] = np.sign(d[big]) * limit * (1.0 + np.log(np.abs(d[big]) / limit))
        return out

    def _applied_current(self, b, t) -> float:
        value = evaluate(b.applied_current, np.zeros((self.dim, 1)), t)
        return float(np.asarray(value).ravel()[0])

    def replace_rows(self, x, t, F, J):
        """Floating electrodes without kinetics (applied_current on a boundary
        whose species are held by concentration conditions): phi = phi_M on the
        boundary replaces Poisson there, and the ionic current into the domain,
        F sum_i z_i (weak-form residual of species i at its boundary dofs),
        equals applied_current."""
        floating = [b for b in self.case.boundaries if b.applied_current is not None
                    and b.butler_volmer is None]
        if not floating:
            return F, J
        keep = np.ones(self.n)
        new_rows = []
        for b in floating:
            e = self.electrodes[b.name]
            local = self._phi_boundary_dofs(b.name) + self.phi_offset
            keep[local] = 0.0
            F[local] = x[local] - x[e.unknown]
            m = len(local)
            new_rows.append(sp.csr_matrix(
                (np.concatenate([np.ones(m), -np.ones(m)]),
                 (np.concatenate([local, local]), np.concatenate([local, np.full(m, e.unknown)]))),
                shape=(self.n, self.n)))
            weights = np.zeros(self.n)  # F z_i x the share of each Dirichlet dof
            for name in b.concentration:
                s = self.by_name[name]
                z = self.case.species[s.index].charge
                if z == 0:
                    continue
                dofs, _ = self.dirichlet_dofs(b.name, s)
                weights[s.offset + dofs] = FARADAY * z * self._dirichlet_share(b.name, s, dofs)
            keep[e.unknown] = 0.0
            F[e.unknown] = weights @ F - self._applied_current(b, t)
            row = sp.csr_matrix(weights[None, :]) @ J
            row = sp.coo_matrix(row)
            new_rows.append(sp.csr_matrix((row.data, (np.full(row.nnz, e.unknown), row.col)),
                                          shape=(self.n, self.n)))
        J = sp.diags(keep) @ J
        for block in new_rows:
            J = J + block
        return F, J.tocsr()

    def _dirichlet_share(self, name, s, dofs) -> np.ndarray:
        """Share of each Dirichlet dof of ``s`` on boundary ``name`` among all the
        concentration boundaries of ``s`` holding it (facet integrals)."""
        weights = {}
        for b in self.case.boundaries:
            if s.name in b.concentration:
                P = self.boundary_prolongation(b.name, s)
                weights[b.name] = self.fold_to_representatives(
                    s, abs(P).T @ self.boundary_points(b.name).weight)
        total = sum(weights.values())
        mine = weights[name][dofs]
        return np.divide(mine, total[dofs], out=np.zeros(len(dofs)), where=total[dofs] > 0)

    # -- gauge ----------------------------------------------------------------------

    def notes(self) -> list[str]:
        """What a user should know about how the problem was closed."""
        if self.has_reference:
            return []
        return ["no potential reference (potential, applied_current or butler_volmer): "
                "the volume mean of phi is fixed to 0"]

    def constraints(self, x, steady):
        """Without any potential reference, the volume mean of phi is 0."""
        if self.has_reference:
            return None
        w = self.phi_P.T @ self.points.weight
        G = np.zeros((1, self.n))
        G[0, self.phi_slice] = w / w.sum()
        return G @ x, sp.csr_matrix(G), np.array([self.thermal_voltage])

    # -- outputs --------------------------------------------------------------------

    def point_fields(self, x):
        """Species, phi and mu at the vertices.  At a node on a Donnan interface
        (broken dofs) c and phi show the mean of the two sides and mu its value
        (the same on both sides); :meth:`region_point_fields` gives each side."""
        fields = {}
        mesh = self.fem_mesh.mesh
        if self.phi_space.broken:
            node, _, local = self.vertex_sides(self.phi_space, np.ones(self.nregions, bool))
            phi = self.vertex_mean(node, x[self.phi_offset + local])
        else:
            phi = self.phi_space.to_global(x[self.phi_slice])[: mesh.nvertices]
        for s in self.species:
            fields[s.name] = self.node_concentration(s, x)
        fields["phi"] = phi
        for s, spec in zip(self.species, self.case.species, strict=True):
            if self.phi_space.broken and spec.charge != 0:
                node, _, mu = self._side_potentials(s, x, s.regions)
                mu = self.vertex_mean(node, mu)
                fields[f"mu_{s.name}"] = np.where(self._vertex_present(s), mu, np.nan)
                continue
            mu = self.chemical_potential(s, fields[s.name]) + spec.charge * FARADAY * phi
            fields[f"mu_{s.name}"] = mu
        return fields

    def _side_potentials(self, s, x, regions):
        """mu = mu0 + RT ln(a/c_ref) + z F phi at the vertex points of ``regions``,
        with a and phi of the point's side: ``(node, region, mu)``."""
        spec = self.case.species[s.index]
        node, region, local = self.vertex_sides(s.space, regions)
        a = np.maximum(x[s.offset + local], 1e-30 * self.c_ref)
        phi = x[self.drift_index(s)[local]]
        mu = (spec.standard_potential + self.RT * np.log(a / self.c_ref)
              + spec.charge * FARADAY * phi)
        return node, region, mu

    def region_point_fields(self, x, region):
        """Species, phi and mu as seen from the elements of one region (NaN at
        vertices outside it): at a Donnan interface, this region's side."""
        out = super().region_point_fields(x, region)
        mask = np.zeros(self.nregions, dtype=bool)
        mask[self.region_index[region]] = True
        nv = self.fem_mesh.mesh.nvertices
        node, _, local = self.vertex_sides(self.phi_space, mask)
        out["phi"] = np.full(nv, np.nan)
        out["phi"][node] = x[self.phi_offset + local]
        for s, spec in zip(self.species, self.case.species, strict=True):
            out[f"mu_{s.name}"] = np.full(nv, np.nan)
            if spec.charge != 0:
                node, _, mu = self._side_potentials(s, x, s.regions & mask)
            else:
                node, _, local = self.vertex_sides(s.space, s.regions & mask)
                a = np.maximum(x[s.offset + local], 1e-30 * self.c_ref)
                mu = spec.standard_potential + self.RT * np.log(a / self.c_ref)
            out[f"mu_{s.name}"][node] = mu
        return out

    def boundary_fluxes(self, x, rate, t):
        """Outward fluxes, with the Butler-Volmer flux -int i/(nF) of O."""
        out = super().boundary_fluxes(x, rate, t)
        for b in self.case.boundaries:
            if b.butler_volmer is not None:
                bv = b.butler_volmer
                i, _, _, _ = self.butler_volmer_current(b, x, t)
                weight = self.boundary_points(b.name).weight
                P = self.boundary_prolongation(b.name, self.by_name[bv.species])
                present = np.asarray(abs(P).sum(axis=1)).ravel() > 0
                out[b.name][bv.species] = -float(weight[present] @ i[present]) / (
                    bv.electrons * FARADAY)
        return out

    def boundary_summary_extra(self, x, t, fluxes):
        """current (A, out of the domain) and potential of every named boundary."""
        out = {}
        charges = {s.name: self.case.species[s.index].charge for s in self.species}
        phi = x[self.phi_slice]
        for name in self.fem_mesh.boundaries:
            current = FARADAY * sum(charges[k] * v for k, v in fluxes[name].items())
            pts = self.boundary_points(name)
            P = self._phi_boundary_P(name)
            mean_phi = float(pts.weight @ (P @ phi) / max(pts.weight.sum(), 1e-300))
            e = self.electrodes.get(name)
            potential = float(x[e.unknown]) if e is not None and e.unknown is not None \
                else mean_phi
            out[name] = {"current": current, "potential": potential}
        return out
