"""Homogeneous reactions by mass action (SPEC 4.0).

    v = k_f prod_reactants c^nu - k_r prod_products c^nu   (mol/m^3/s),
    R_i = (nu_i,products - nu_i,reactants) v,

k_f and k_r numbers or Arrhenius k0 exp(-E/RT) (following a temperature
program), evaluated at the model's cell points (lumped quadrature) in the
regions where the reaction runs; -int R_i v dx goes into the residual of species i with its
exact Jacobian.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .constants import arrhenius_factor


class MassAction:
    """One reaction of the case on a species-transport model."""

    def __init__(self, model, reaction):
        self.model = model
        self.reaction = reaction
        names = list(reaction.reactants) + list(reaction.products)
        allowed = np.ones(model.nregions, dtype=bool)
        for name in names:
            allowed &= model.by_name[name].regions
        if reaction.regions:  # the case layer checked that its species exist there
            allowed = np.zeros(model.nregions, dtype=bool)
            allowed[[model.region_index[r] for r in reaction.regions]] = True
        self.mask = allowed[model.points.region]
        self.nu = {name: reaction.products.get(name, 0) - reaction.reactants.get(name, 0)
                   for name in names}

    @property
    def linear(self) -> bool:
        r = self.reaction
        return sum(r.reactants.values()) == 1 and (not r.reversible
                                                   or sum(r.products.values()) == 1)

    def residual(self, x, t, F, rows, cols, vals) -> None:
        """F_i -= int R_i v dx and its Jacobian entries (COO, global numbering)."""
        m, reaction, mask = self.model, self.reaction, self.mask
        w = m.points.weight[mask]
        conc, dc_da = {}, {}
        for name in self.nu:
            s = m.by_name[name]
            inv_gamma = 1.0 / s.gamma_at(m.points.x[:, mask], m.points.region[mask])
            conc[name] = (s.P @ x[s.slice])[mask] * inv_gamma
            dc_da[name] = inv_gamma

        def rate(side, k):
            value = np.full(len(w), k)
            grads = {}
            for name, order in side.items():
                value = value * conc[name] ** order
            for name, order in side.items():
                others = np.full(len(w), k * order) * conc[name] ** (order - 1)
                for other, o2 in side.items():
                    if other != name:
                        others = others * conc[other] ** o2
                grads[name] = others
            return value, grads

        k_f, k_r = reaction.forward, reaction.backward
        if m.program is not None:  # Arrhenius constants follow the temperature program
            T0, T = m.case.model.temperature, m.temperature(t)
            if m.case.model.temperature_spatial:  # the local T at each point
                T = m.local_temperature(m.points.x[:, mask], t)
            k_f *= arrhenius_factor(reaction.forward_energy, T0, T)
            k_r *= arrhenius_factor(reaction.backward_energy, T0, T)
        v_f, g_f = rate(reaction.reactants, k_f)
        v_r, g_r = (rate(reaction.products, k_r) if reaction.reversible
                    else (np.zeros(len(w)), {}))
        v = v_f - v_r
        point_index = np.flatnonzero(mask)
        for name_i, nu_i in self.nu.items():
            if nu_i == 0:
                continue
            si = m.by_name[name_i]
            Pi = si.P[point_index]
            F[si.slice] -= Pi.T @ (w * nu_i * v)
            for name_j in self.nu:
                dv = g_f.get(name_j, 0.0) - g_r.get(name_j, 0.0)
                if np.isscalar(dv) and dv == 0.0:
                    continue
                sj = m.by_name[name_j]
                block = -(Pi.T @ sp.diags(w * nu_i * dv * dc_da[name_j]) @ sj.P[point_index])
                block = block.tocoo()
                rows.append(block.row + si.offset)
                cols.append(block.col + sj.offset)
                vals.append(block.data)
