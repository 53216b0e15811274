"""Electric boundary conditions (SPEC 2.2, 4.2); phi in V, currents in A.

- :class:`Potential` — phi = phi_M (Dirichlet), ``potential`` without Stern
  layer or kinetics;
- :class:`Electrode` — the metal potential phi_M of a boundary: prescribed
  (``potential``) or one unknown (``applied_current``), reported as
  ``boundaries.<name>.potential`` when solved for;
- :class:`SurfaceCharge` — eps grad(phi).n = sigma (C/m^2);
- :class:`SternCapacitance` — eps grad(phi).n = C_S (phi_M - phi) (C_S in F/m^2);
- :class:`ButlerVolmer` — O^z + n e- <=> M(s) with overpotential
  eta = phi_M - phi - E_eq and current density into the electrolyte
  i = i0 [exp((1 - alpha) n F eta/RT) - (a_O/c_ref) exp(-alpha n F eta/RT)];
  inward flux of O = i/(nF).  With a soluble product (``reduced`` = R:
  O^z + n e- <=> R^(z-n)) the anodic term carries R's activity,
  i = i0 [(a_R/c_ref) exp((1 - alpha) n F eta/RT) - (a_O/c_ref) exp(-alpha n F eta/RT)],
  and R flows in at -i/(nF) (R is produced where O is consumed); at i = 0
  this is Nernst, phi_M - phi = E_eq + (RT/nF) ln(a_O/a_R);
  an Arrhenius ``exchange_current = { pre, energy }`` gives
  i0(T) = pre exp(-energy/(R T(t))) (A/m^2, energy in J/mol) and T = T(t)
  under a temperature program;
- :class:`Galvanostatic` — with ``applied_current`` and kinetics: the total
  current int i dA equals the applied current (the row of phi_M);
- :class:`FloatingReservoir` — ``applied_current`` on a boundary whose ions
  are held by concentration conditions: phi = phi_M there and the ionic
  current F sum_i z_i (weak-form residual of species i) equals the applied
  current.  With ``electroneutral = true`` a boundary that holds every ion
  next to it by ``concentration`` and has no electric condition is one with
  zero current (:func:`zero_current_reservoirs`: a bath, a liquid junction);
  without any potential reference the first of them carries the gauge
  instead (the volume mean of phi is 0) and the current the others leave.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from ...case import evaluate
from ..constants import FARADAY, arrhenius_factor
from . import BoundaryCondition, add_coo


def _scalar(value, dim: int, t: float) -> float:
    return float(np.asarray(evaluate(value, np.zeros((dim, 1)), t)).ravel()[0])


class Electrode(BoundaryCondition):
    """phi_M of boundary ``b``: ``unknown`` is its dof when solved for."""

    is_electrode = True

    def __init__(self, field, b, unknown: int | None):
        super().__init__(b)
        self.field = field
        self.unknown = unknown
        self.unknowns = 0 if unknown is None else 1
        #: phi_M differs from the electrolyte's phi (kinetics, Stern layer) or
        #: is solved for: reported as ``electrode_potential``
        self.has_metal = unknown is not None or b.butler_volmer is not None \
            or b.stern_capacitance is not None

    def metal_potential(self, x, t) -> tuple[float, int | None]:
        """phi_M (V) and its dof (None when prescribed)."""
        if self.unknown is not None:
            return float(x[self.unknown]), self.unknown
        return _scalar(self.boundary.potential, self.field.model.dim, t), None

    def current_scale(self) -> float:
        m, b = self.field.model, self.boundary
        area = float(m.boundary_points(b.name).weight.sum())
        scale = abs(_scalar(b.applied_current, m.dim, 0.0))
        if b.butler_volmer is not None:
            scale = max(scale, b.butler_volmer.exchange_current * area)
        return scale or 1.0

    def scales(self, x_scale, r_scale):
        if self.unknown is not None:
            x_scale[self.unknown] = self.field.thermal_voltage
            r_scale[self.unknown] = self.current_scale()

    def initial(self, x):
        """The open-circuit (Nernst) potential of the kinetics as first guess."""
        if self.unknown is None:
            return
        b, m = self.boundary, self.field.model
        x[self.unknown] = 0.0
        if b.butler_volmer is not None:
            bv = b.butler_volmer
            s = m.by_name[bv.species]
            a = np.mean(m.boundary_prolongation(b.name, s) @ x[s.slice])
            a_r = m.c_ref
            if bv.reduced is not None:
                r = m.by_name[bv.reduced]
                a_r = np.mean(m.boundary_prolongation(b.name, r) @ x[r.slice])
            x[self.unknown] = bv.equilibrium_potential + self.field.thermal_voltage \
                / bv.electrons * np.log(max(a, 1e-30) / max(a_r, 1e-30))


class Potential(BoundaryCondition):
    """phi = ``potential`` on the boundary (V, a number or an expression)."""

    def __init__(self, field, b):
        super().__init__(b)
        self.field = field

    def dirichlet(self, t):
        f = self.field
        local = f.boundary_dofs(self.boundary.name)
        return [(f.offset + local, evaluate(self.boundary.potential, f.space.x[:, local], t))]


class SurfaceCharge(BoundaryCondition):
    """eps grad(phi).n = sigma: -int sigma v dA in the phi rows (sigma in C/m^2)."""

    def __init__(self, field, b):
        super().__init__(b)
        self.field = field

    def residual(self, x, t, F, rows, cols, vals):
        f, name = self.field, self.boundary.name
        pts = f.model.boundary_points(name)
        F[f.slice] -= f.boundary_P(name).T @ (
            pts.weight * evaluate(self.boundary.surface_charge, pts.x, t))


class SternCapacitance(BoundaryCondition):
    """eps grad(phi).n = C_S (phi_M - phi): the Stern layer between the metal
    at phi_M and the electrolyte (C_S in F/m^2)."""

    def __init__(self, field, b, electrode: Electrode):
        super().__init__(b)
        self.field, self.electrode = field, electrode

    def residual(self, x, t, F, rows, cols, vals):
        f, name = self.field, self.boundary.name
        pts = f.model.boundary_points(name)
        P = f.boundary_P(name)
        phi_m, dof = self.electrode.metal_potential(x, t)
        C = self.boundary.stern_capacitance
        F[f.slice] -= P.T @ (pts.weight * C * (phi_m - P @ x[f.slice]))
        add_coo(P.T @ sp.diags(pts.weight * C) @ P, f.offset, f.offset, rows, cols, vals)
        if dof is not None:
            column = -(P.T @ (pts.weight * C))
            add_coo(sp.csr_matrix(column[:, None]), f.offset, dof, rows, cols, vals)


class ButlerVolmer(BoundaryCondition):
    """Electrode kinetics O^z + n e- <=> M(s), or O^z + n e- <=> R^(z-n) with
    ``reduced`` (see the module docstring)."""

    def __init__(self, field, b, electrode: Electrode):
        super().__init__(b)
        self.field, self.electrode = field, electrode
        self.kinetics = b.butler_volmer
        model = field.model
        self.species = model.by_name[self.kinetics.species]
        self.reduced = (None if self.kinetics.reduced is None
                        else model.by_name[self.kinetics.reduced])
        # a soluble couple reacts only where both species exist
        self.active = 1.0
        if self.reduced is not None:
            name = b.name
            self.active = np.ones(len(model.boundary_points(name).weight))
            for s in (self.species, self.reduced):
                P = model.boundary_prolongation(name, s)
                self.active *= np.asarray(abs(P).sum(axis=1)).ravel() > 0

    def current(self, x, t):
        """Current density into the electrolyte i (A/m^2) at the boundary points
        and its derivatives d/da_O, d/da_R (None for a metal), d/deta, and the
        dof of phi_M (or None)."""
        f, m, bv = self.field, self.field.model, self.kinetics
        s, name = self.species, self.boundary.name
        a = m.boundary_prolongation(name, s) @ x[s.slice]
        phi_m, dof = self.electrode.metal_potential(x, t)
        eta = phi_m - f.boundary_P(name) @ x[f.slice] - bv.equilibrium_potential
        points = m.boundary_points(name).x
        nf = bv.electrons / f.thermal_voltage_at(t, points)  # n F/RT at T(t) (or T(x, t))
        i0 = bv.exchange_current * self.active
        if bv.exchange_energy and m.program is not None:  # Arrhenius i0 at T(t)
            i0 = i0 * arrhenius_factor(bv.exchange_energy, m.case.model.temperature,
                                       m.local_temperature(points, t))
        anodic = np.exp((1 - bv.alpha) * nf * eta)
        cathodic = np.exp(-bv.alpha * nf * eta)
        di_da_r = None
        if self.reduced is not None:
            r = self.reduced
            a_r = m.boundary_prolongation(name, r) @ x[r.slice]
            di_da_r = i0 * anodic / m.c_ref
            anodic = anodic * a_r / m.c_ref
        i = i0 * (anodic - a / m.c_ref * cathodic)
        di_deta = i0 * ((1 - bv.alpha) * nf * anodic + bv.alpha * nf * a / m.c_ref * cathodic)
        di_da = -i0 * cathodic / m.c_ref
        return i, di_da, di_da_r, di_deta, dof

    def _flows(self):
        """(species, sign): inward flux of each species = sign i/(nF)."""
        flows = [(self.species, 1.0)]
        if self.reduced is not None:
            flows.append((self.reduced, -1.0))
        return flows

    def residual(self, x, t, F, rows, cols, vals):
        f, m, bv = self.field, self.field.model, self.kinetics
        name = self.boundary.name
        pts = m.boundary_points(name)
        P_phi = f.boundary_P(name)
        i, di_da, di_da_r, di_deta, dof = self.current(x, t)
        P_o = m.boundary_prolongation(name, self.species)
        # d i / d(activities): (species, derivative, its prolongation)
        columns = [(self.species, di_da, P_o)]
        if self.reduced is not None:
            columns.append((self.reduced, di_da_r,
                            m.boundary_prolongation(name, self.reduced)))
        for s, sign in self._flows():
            scale = sign * pts.weight / (bv.electrons * FARADAY)  # inward flux sign i/(nF)
            P_s = m.boundary_prolongation(name, s)
            F[s.slice] -= P_s.T @ (scale * i)
            for c, di, P_c in columns:
                add_coo(-(P_s.T @ sp.diags(scale * di) @ P_c), s.offset, c.offset,
                        rows, cols, vals)
            add_coo(P_s.T @ sp.diags(scale * di_deta) @ P_phi, s.offset, f.offset,
                    rows, cols, vals)
            if dof is not None:
                column = -(P_s.T @ (scale * di_deta))
                add_coo(sp.csr_matrix(column[:, None]), s.offset, dof, rows, cols, vals)

    def report_flux(self, x, t, out):
        """Outward flux of O, -int i/(nF) over the points where O exists, and
        of R, +int i/(nF) (the same points: where both exist)."""
        m, bv = self.field.model, self.kinetics
        i, _, _, _, _ = self.current(x, t)
        weight = m.boundary_points(self.boundary.name).weight
        for s, sign in self._flows():
            P = m.boundary_prolongation(self.boundary.name, s)
            present = np.asarray(abs(P).sum(axis=1)).ravel() > 0
            out[self.boundary.name][s.name] = -sign * float(weight[present] @ i[present]) / (
                bv.electrons * FARADAY)


class Galvanostatic(BoundaryCondition):
    """The row of phi_M: int i dA - applied_current = 0 (kinetics present)."""

    def __init__(self, field, b, electrode: Electrode, kinetics: ButlerVolmer):
        super().__init__(b)
        self.field, self.electrode, self.kinetics = field, electrode, kinetics

    def residual(self, x, t, F, rows, cols, vals):
        f, m = self.field, self.field.model
        name, unknown = self.boundary.name, self.electrode.unknown
        pts = m.boundary_points(name)
        P_phi = f.boundary_P(name)
        i, di_da, di_da_r, di_deta, _ = self.kinetics.current(x, t)
        F[unknown] += float(pts.weight @ i) - _scalar(self.boundary.applied_current, m.dim, t)
        columns = [(self.kinetics.species, di_da)]
        if self.kinetics.reduced is not None:
            columns.append((self.kinetics.reduced, di_da_r))
        for s, di in columns:
            P_s = m.boundary_prolongation(name, s)
            add_coo(sp.csr_matrix((pts.weight * di) @ P_s), unknown, s.offset, rows, cols, vals)
        add_coo(sp.csr_matrix(-(pts.weight * di_deta) @ P_phi), unknown, f.offset,
                rows, cols, vals)
        rows.append(np.array([unknown]))
        cols.append(np.array([unknown]))
        vals.append(np.array([float(pts.weight @ di_deta)]))


class FloatingReservoir(BoundaryCondition):
    """``applied_current`` without kinetics (see the module docstring): the
    rows of phi on the boundary and of phi_M are replaced."""

    def __init__(self, field, b, electrode: Electrode, gauge: bool = False):
        super().__init__(b)
        self.field, self.electrode = field, electrode
        #: the row of phi_M is the gauge (volume mean of phi = 0), not the current
        self.gauge = gauge

    def scales(self, x_scale, r_scale):
        if self.gauge:
            r_scale[self.electrode.unknown] = self.field.thermal_voltage

    def replace_rows(self, x, t, F, J):
        f, m, b = self.field, self.field.model, self.boundary
        unknown = self.electrode.unknown
        keep = np.ones(m.n)
        local = f.boundary_dofs(b.name) + f.offset
        keep[local] = 0.0
        F[local] = x[local] - x[unknown]
        k = len(local)
        new_rows = [sp.csr_matrix(
            (np.concatenate([np.ones(k), -np.ones(k)]),
             (np.concatenate([local, local]), np.concatenate([local, np.full(k, unknown)]))),
            shape=(m.n, m.n))]
        keep[unknown] = 0.0
        if self.gauge:  # sum_k w_k phi_k / sum_k w_k = 0
            w = f.P.T @ m.points.weight
            w = w / w.sum()
            F[unknown] = w @ x[f.slice]
            new_rows.append(sp.csr_matrix((w, (np.full(len(w), unknown),
                                               f.offset + np.arange(len(w)))), shape=(m.n, m.n)))
            return F, self._replaced(J, keep, new_rows)
        weights = np.zeros(m.n)  # F z_i x the share of each Dirichlet dof
        for name in b.concentration:
            s = m.by_name[name]
            if s.spec.charge == 0:
                continue
            dofs, _ = m.dirichlet_dofs(b.name, s)
            weights[s.offset + dofs] = FARADAY * s.spec.charge * m.dirichlet_share(b.name, s, dofs)
        F[unknown] = weights @ F - _scalar(b.applied_current, m.dim, t)
        row = sp.coo_matrix(sp.csr_matrix(weights[None, :]) @ J)
        new_rows.append(sp.csr_matrix((row.data, (np.full(row.nnz, unknown), row.col)),
                                      shape=(m.n, m.n)))
        return F, self._replaced(J, keep, new_rows)

    @staticmethod
    def _replaced(J, keep, new_rows):
        """J with the rows where ``keep`` is 0 replaced by the sum of ``new_rows``."""
        J = sp.diags(keep) @ J
        for block in new_rows:
            J = J + block
        return J.tocsr()


def zero_current_reservoirs(field) -> set[str]:
    """Electroneutral: the boundaries that hold every ion next to them by
    ``concentration`` and have no ``potential``, ``applied_current`` or
    ``butler_volmer``.  Their phi is otherwise undetermined (the Jacobian is
    singular); their natural condition is zero current, as with
    ``applied_current = 0``."""
    if not field.electroneutral:
        return set()
    m, out = field.model, set()
    for b in m.case.boundaries:
        if b.potential is not None or b.applied_current is not None \
                or b.butler_volmer is not None:
            continue
        ions = [s for s in m.species if s.spec.charge != 0
                and abs(m.boundary_prolongation(b.name, s)).sum() > 0]
        if ions and all(s.name in b.concentration for s in ions):
            out.add(b.name)
    return out


def electric_conditions(field, first_unknown: int) -> list[BoundaryCondition]:
    """The electric conditions of every boundary of the case, in order; the
    metal potentials of ``applied_current`` boundaries are numbered from
    ``first_unknown``."""
    out: list[BoundaryCondition] = []
    neutral = field.electroneutral
    next_unknown = first_unknown
    gauge = not field.has_reference
    for b in field.model.case.boundaries:
        if b.name in field.zero_current:
            b = dataclasses.replace(b, applied_current=0.0)
        electrode = None
        if b.applied_current is not None:
            electrode = Electrode(field, b, next_unknown)
            next_unknown += 1
        elif b.potential is not None:
            electrode = Electrode(field, b, None)
        if electrode is not None:
            out.append(electrode)
        if b.potential is not None and b.stern_capacitance is None and b.butler_volmer is None:
            out.append(Potential(field, b))
        if b.surface_charge is not None and not neutral:
            out.append(SurfaceCharge(field, b))
        if b.stern_capacitance is not None and not neutral:
            out.append(SternCapacitance(field, b, electrode))
        kinetics = None
        if b.butler_volmer is not None:
            kinetics = ButlerVolmer(field, b, electrode)
            out.append(kinetics)
        if b.applied_current is not None:
            if kinetics is not None:
                out.append(Galvanostatic(field, b, electrode, kinetics))
            else:
                out.append(FloatingReservoir(field, b, electrode,
                                             gauge=gauge and b.name in field.zero_current))
                gauge = gauge and b.name not in field.zero_current
    return out
