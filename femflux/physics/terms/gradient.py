"""The gradient-energy term mu_i += -kappa lap c_i (J/mol), Cahn-Hilliard.

With f + (kappa/2) |grad c_i|^2 the chemical potential is
mu_i = df/dc_i - kappa lap c_i (kappa in J m^5/mol^2).  In the mixed form
mu_i is an unknown: int mu_i v = int df/dc_i v + kappa int grad c_i . grad v,
and every boundary has grad(c_i).n = 0.  Its energy is
(kappa/2) int |grad c_i|^2 = (kappa/2) c_i^T K c_i with the stiffness K.
"""

from __future__ import annotations

import numpy as np


class GradientEnergy:
    """-kappa lap c on the dofs of a P1/P2 space with stiffness ``K``."""

    def __init__(self, kappa: float, K):
        self.kappa = float(kappa)
        self.K = K

    def mu_block(self):
        """d(mu row)/dc of the mixed form: -kappa K."""
        return -self.kappa * self.K

    def potential(self, c: np.ndarray) -> np.ndarray:
        """kappa K c (N, n): the weak -kappa lap c of each row of c."""
        return self.kappa * (self.K @ c.T).T

    def energy(self, c: np.ndarray) -> float:
        """(kappa/2) sum_i c_i^T K c_i (J, per the geometry's convention)."""
        return 0.5 * self.kappa * float(sum(ci @ (self.K @ ci) for ci in c))
