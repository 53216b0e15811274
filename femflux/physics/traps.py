"""Traps (McNabb-Foster): hydrogen bound at trap sites of density N (SPEC 6).

A trap of a mobile species m holds the trapped concentration c_t (mol/m^3),
an immobile species of its own (output field named after the trap) with

    dc_t/dt = v,   v = k c_m (N - c_t) - p c_t,
    dc_m/dt = -div J_m - sum over its traps of v,

k the trapping rate constant (m^3/(mol s)), p the detrapping rate (1/s), both
constants or Arrhenius k0 exp(-E_k/RT), p0 exp(-E_p/RT) (with the local T
at each point under a spatial temperature T(x, y, z, t)), and N the trap
density (mol/m^3, a number or an expression of x, y, z) in the trap's regions.
Where the model solves elasticity N may also be an expression of the
hydrostatic stress sigma_h (Pa), N(x, sigma_h): it is evaluated with the
current sigma_h at every assembly and dv/dsigma_h = k c_m dN/dsigma_h goes
into the Jacobian (:class:`TrapDensity`), so it holds for one-way and two-way
(chemical expansion) coupling alike.  In local equilibrium (fast exchange, c_m
<< p/k) the mobile species diffuses with D_eff = D / (1 + N k/p).  With
``equilibrium = true`` (Oriani) the trap is in that equilibrium at every
instant: its row is the algebraic c_t (k c_m + p) - k N c_m = 0 and the mobile
species' storage holds c_m + c_t (:meth:`TrapKinetics.storage_coupling`).  The
rate is evaluated at the model's cell points like the homogeneous reactions
(:mod:`femflux.physics.reactions`), with its exact Jacobian.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..case import Expression, Species, Trap, evaluate
from ..errors import CaseError


def trapped_species(case) -> list[Species]:
    """The immobile species that hold the trapped concentrations, one per trap."""
    return [Species(name=trap.name, diffusivity=0.0, initial=trap.initial,
                    regions=list(trap.regions)) for trap in case.traps]


def all_species(case) -> list[Species]:
    """The case's species, then the trapped concentrations of its traps."""
    return list(case.species) + trapped_species(case)


class TrapDensity:
    """The trap density N (mol/m^3) at the trap's points ``index`` of the
    model's cell points: fixed, N(x, y, z), or N(x, y, z, sigma_h) with
    sigma_h (Pa) the model's hydrostatic-stress unknown prolongated to the
    points, and dN/dsigma_h."""

    def __init__(self, model, value, index: np.ndarray):
        self.x = model.points.x[:, index]
        self.stress = isinstance(value, Expression) and "sigma_h" in value.free_symbols
        if not self.stress:
            self.fixed = np.broadcast_to(evaluate(value, self.x, 0.0), index.shape).copy()
            return
        import sympy

        elastic = model.elastic
        self.expression = value
        self.P = model.points.prolongation(elastic.sh_space)[index]
        self.offset = elastic.sh_offset
        self.slice = elastic.sh_slice
        names = ("x", "y", "z", "sigma_h")
        self._derivative = sympy.lambdify([value.symbol(n) for n in names],
                                          value.derivative("sigma_h"), modules="numpy")

    def _coordinates(self) -> dict:
        zeros = np.zeros(self.x.shape[1])
        return {name: (self.x[k] if k < len(self.x) else zeros)
                for k, name in enumerate("xyz")}

    def at(self, sigma_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, dN/dsigma_h) at the points for the given sigma_h there (Pa)."""
        xyz = self._coordinates()
        N = np.broadcast_to(self.expression(**xyz, sigma_h=sigma_h), sigma_h.shape)
        with np.errstate(all="ignore"):
            dN = self._derivative(xyz["x"], xyz["y"], xyz["z"], sigma_h)
        return N, np.broadcast_to(np.asarray(dN, dtype=float), sigma_h.shape)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, dN/dsigma_h or None) at the points for the state x."""
        if not self.stress:
            return self.fixed, None
        return self.at(self.P @ x[self.slice])

    def largest(self, stress_scale: float) -> float:
        """max N over the points, for sigma_h in [-scale, scale] (scales)."""
        if not self.stress:
            return float(np.max(self.fixed, initial=0.0))
        n = self.x.shape[1]
        return max(float(np.max(self.at(np.full(n, s))[0], initial=0.0))
                   for s in (-stress_scale, 0.0, stress_scale))


class TrapKinetics:
    """The exchange v = k c_m (N - c_t) - p c_t of one trap on a model."""

    linear = False

    def __init__(self, model, trap: Trap):
        self.model, self.trap = model, trap
        self.mobile = model.by_name[trap.species]
        self.trapped = model.by_name[trap.name]
        points = model.points
        self.mask = self.trapped.regions[points.region] & self.mobile.regions[points.region]
        self.index = np.flatnonzero(self.mask)
        self.at(0.0)
        self.density = TrapDensity(model, trap.density, self.index)
        self.nu = {trap.species: -1, trap.name: 1}

    def at(self, t: float) -> None:
        """k and p at the temperature of time t (Arrhenius): numbers, or per
        point of the trap under a spatial T(x, y, z, t)."""
        if self.model.case.model.temperature_spatial:
            T = self.model.local_temperature(self.model.points.x[:, self.index], t)
        else:
            T = self.model.temperature(t)
        self.k = self.trap.trapping.at(T)
        self.p = self.trap.detrapping.at(T)

    def rates(self, x):
        """(v, dv/dc_m, dv/dc_t, dv/dsigma_h or None) at the trap's points (mol/m^3/s)."""
        m, t = self.mobile, self.trapped
        gamma = m.gamma_at(self.model.points.x[:, self.index], self.model.points.region[self.index])
        c_m = (m.P[self.index] @ x[m.slice]) / gamma
        c_t = t.P[self.index] @ x[t.slice]
        N, dN = self.density(x)
        v = self.k * c_m * (N - c_t) - self.p * c_t
        dv_sh = None if dN is None else self.k * c_m * dN
        return v, self.k * (N - c_t) / gamma, -(self.k * c_m + self.p), dv_sh

    def residual(self, x, time, F, rows, cols, vals) -> None:
        """F_t -= int v w, F_m += int v w and their Jacobian entries; in
        equilibrium the trap row is int (-v) w = 0 alone."""
        if self.model.program is not None:
            self.at(time)
        m, t = self.mobile, self.trapped
        w = self.model.points.weight[self.index]
        v, dv_m, dv_t, dv_sh = self.rates(x)
        P_m, P_t = m.P[self.index], t.P[self.index]
        F[t.slice] -= P_t.T @ (w * v)
        rows_of = ((-1.0, P_t, t.offset),)
        if not self.trap.equilibrium:
            F[m.slice] += P_m.T @ (w * v)
            rows_of += ((1.0, P_m, m.offset),)
        columns = [(dv_m, P_m, m.offset), (dv_t, P_t, t.offset)]
        if dv_sh is not None:  # N(sigma_h): d/d(sigma_h) too
            columns.append((dv_sh, self.density.P, self.density.offset))
        for sign, P_row, row in rows_of:
            for dv, P_col, col in columns:
                block = (P_row.T @ sp.diags(sign * w * dv) @ P_col).tocoo()
                rows.append(block.row + row)
                cols.append(block.col + col)
                vals.append(block.data)

    def consistent_start(self, x: np.ndarray) -> None:
        """Equilibrium traps: c_t = N k c_m / (k c_m + p) with the initial
        c_m, in place (the algebraic row holds at t = 0; an inconsistent
        start would make the first steps collapse).  Each dof takes the
        weighted mean over its points (exact at nodal points)."""
        if not self.trap.equilibrium:
            return
        m, t = self.mobile, self.trapped
        gamma = m.gamma_at(self.model.points.x[:, self.index], self.model.points.region[self.index])
        c_m = (m.P[self.index] @ x[m.slice]) / gamma
        c_t = self.density(x)[0] * self.k * c_m / (self.k * c_m + self.p)
        P_t, w = t.P[self.index], self.model.points.weight[self.index]
        total, weight = P_t.T @ (w * c_t), P_t.T @ w
        x[t.slice] = np.divide(total, weight, out=x[t.slice].copy(), where=weight > 0)

    def after_equilibrium(self, x: np.ndarray, index: int) -> None:
        """Once the initial mechanical equilibrium has set sigma_h in x: a
        stress-dependent density must be >= 0 there (else a CaseError naming
        trap ``index``), and an equilibrium trap starts in equilibrium with it."""
        if not self.density.stress:
            return
        N, _ = self.density(x)
        if N.size and N.min() < 0:
            k = int(np.argmin(N))
            sigma_h = float((self.density.P @ x[self.density.slice])[k])
            raise CaseError(f"trap {index}: density is negative at t = 0 (N = {N[k]:.4g} "
                            f"mol/m^3 at sigma_h = {sigma_h:.4g} Pa, x = "
                            f"{np.round(self.density.x[:, k], 12).tolist()} m)")
        self.consistent_start(x)

    def storage_coupling(self, shape) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Equilibrium traps: (the trap's own storage block to remove, the
        block int c_t v_m that the mobile rows hold instead), global numbering."""
        m, t = self.mobile, self.trapped
        w = self.model.points.weight[self.index]
        P_m, P_t = m.P[self.index], t.P[self.index]

        def placed(block, row, col):
            block = sp.coo_matrix(block)
            return sp.csr_matrix((block.data, (block.row + row.offset, block.col + col.offset)),
                                 shape=shape)

        return (placed(P_t.T @ sp.diags(w) @ P_t, t, t),
                placed(P_m.T @ sp.diags(w) @ P_t, m, t))

    def largest_density(self) -> float:
        """max N (mol/m^3); for N(sigma_h), over |sigma_h| up to the stress scale."""
        stress = self.model.elastic._stress_scale() if self.density.stress else 0.0
        return self.density.largest(stress)

    def characteristic_rates(self, c_scale: dict[str, float]) -> dict[str, float]:
        """The fastest first-order rates (1/s) of the mobile and trapped species."""
        N = self.largest_density()
        k, p = float(np.max(self.k, initial=0.0)), float(np.max(self.p, initial=0.0))
        return {self.trap.species: k * N,
                self.trap.name: p + k * c_scale[self.trap.species]}
