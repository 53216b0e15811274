"""Interfaces where a species' activity jumps: broken dofs and their ties.

Where a model breaks a species' space between region groups (the Donnan
interfaces of an electroneutral model), the species has one copy of each
interface dof per side.  The conservation rows of the copies are summed (one
control volume: J.n continuous) and the other rows say that mu_i is
continuous, a_i exp(psi_i) equal on both sides (SPEC 4.0); psi_i = z_i F phi/RT
follows a temperature program (:meth:`InterfaceTies.at_temperature_ratio`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class InterfaceTies:
    """The copies of broken species dofs and the rows that tie them.

    For every copy ``other`` of a dof with representative ``rep``: the
    conservation row of ``other`` is added to that of ``rep`` (the node's
    control volume conserves the total, so J.n is continuous) and replaced by
    the continuity of the electrochemical potential, ln a_o + psi_o = ln a_r +
    psi_r (psi = scale * phi), written linearly in the activities and
    symmetrically in the two sides,

        a_o exp(d/2) - a_r exp(-d/2) = 0,  d = psi_o - psi_r,

    which stays defined for the non-positive activities a time-step predictor
    may propose (a row in mol/m^3, scaled like the species); d gains
    ``energy`` (1/T - 1/T0) where the regions' solubility energies differ
    under a temperature program (:meth:`at_temperature`).  At an interface
    between a Sieverts and a Henry region (``mixed``) the row is instead the
    continuity of the partial pressure, a_H - q a_S |a_S| = 0
    (:mod:`femflux.physics.solubility`).

    ``T`` is the row operation (rep += other, other := 0) applied to the
    storage and flux terms; the tie rows are then added.  :meth:`balance`
    composes it with a second row operation that adds multiples of the
    species' conservation rows to the rows of the drift field (for
    electroneutrality: the node's current balance); see
    :meth:`SpeciesTransport._balance_drift_rows`.
    """

    def __init__(self, n, rep, other, scale, phi_rep, phi_other, local, mixed=None,
                 energy=None, mixed_energy=None):
        self.n = n
        # (tie rows, Henry copy, Sieverts copy, q): those rows are a_H - q a_S |a_S|
        self.mixed = mixed
        # solubility energies under a temperature program (K): d += energy (1/T - 1/T0),
        # q = q(T0) exp(-mixed_energy (1/T - 1/T0))
        self.energy = np.zeros(len(other)) if energy is None else energy
        self.shift = np.zeros(len(other))
        self.mixed_energy = mixed_energy
        self.reference_q = None if mixed is None else mixed[3].copy()
        self.follows_temperature = bool(np.any(self.energy)) or (
            mixed_energy is not None and bool(np.any(mixed_energy)))
        self.points = None  # (dim, len(other)) the tie rows' nodes, set by the model
        self.rep, self.other, self.scale = rep, other, scale
        self.reference_scale = np.asarray(scale, dtype=float).copy()  # at T(0)
        self.phi_rep, self.phi_other = phi_rep, phi_other
        self.local = local  # species name -> (rep, other) local dofs
        m = len(other)
        self.T = (sp.identity(n, format="csr")
                  + sp.csr_matrix((np.ones(m), (rep, other)), shape=(n, n))
                  - sp.csr_matrix((np.ones(m), (other, other)), shape=(n, n))).tocsr()
        self.T.eliminate_zeros()

    def at_temperature_ratio(self, ratio: float) -> None:
        """The drift scales z F/RT at T = T(0)/ratio (temperature programs)."""
        self.scale = self.reference_scale * ratio

    def at_temperature(self, T, T0: float) -> None:
        """The solubility energies' ties at T (K, per tie row or one value):
        a_o e_o(T) = a_r e_r(T) and q(T) (:mod:`femflux.physics.solubility`)."""
        inverse = 1.0 / np.asarray(T, dtype=float) - 1.0 / T0
        self.shift = self.energy * inverse
        if self.mixed is not None and self.mixed_energy is not None:
            rows, henry, sieverts, _ = self.mixed
            if np.ndim(inverse):
                inverse = inverse[rows]
            self.mixed = (rows, henry, sieverts,
                          self.reference_q * np.exp(-self.mixed_energy * inverse))

    def balance(self, rows, cols, coefficients) -> sp.csr_matrix:
        """Add ``coefficients`` times (the summed) row ``cols`` to row ``rows``
        (after T); return the extra row operation B (T becomes (I + B) T)."""
        B = sp.csr_matrix((coefficients, (rows, cols)), shape=(self.n, self.n))
        self.T = (self.T + B @ self.T).tocsr()
        return B

    def residual(self, x: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        """The tie rows g (len(other),) and dg/dx (len(other) x n)."""
        a_o, a_r = x[self.other], x[self.rep]
        with np.errstate(over="ignore"):  # inf: rejected by the line search
            half = np.exp(0.5 * (self.scale * (x[self.phi_other] - x[self.phi_rep])
                                 + self.shift))
        g = a_o * half - a_r / half
        dphi = 0.5 * self.scale * (a_o * half + a_r / half)
        m = len(self.other)
        rows = np.tile(np.arange(m), 4)
        cols = np.concatenate([self.other, self.rep, self.phi_other, self.phi_rep])
        vals = np.concatenate([half, -1.0 / half, dphi, -dphi])
        if self.mixed is None:
            return g, sp.csr_matrix((vals, (rows, cols)), shape=(m, self.n))
        k, h, s, q = self.mixed
        linear = np.ones(m, dtype=bool)
        linear[k] = False
        keep = np.tile(linear, 4)
        a_s = x[s]
        g[k] = x[h] - q * a_s * np.abs(a_s)
        rows = np.concatenate([rows[keep], k, k])
        cols = np.concatenate([cols[keep], h, s])
        vals = np.concatenate([vals[keep], np.ones(len(k)), -2.0 * q * np.abs(a_s)])
        return g, sp.csr_matrix((vals, (rows, cols)), shape=(m, self.n))

    def apply(self, x, F, J):
        """(T F with the tie rows, T J with their Jacobian)."""
        F = self.T @ F
        g, G = self.residual(x)
        F[self.other] = g
        lift = sp.csr_matrix((np.ones(len(self.other)), (self.other, np.arange(len(self.other)))),
                             shape=(self.n, len(self.other)))
        return F, (self.T @ J + lift @ G).tocsr()
