"""Mass-plus-stiffness Schur-complement preconditioning of mixed
(Cahn-Hilliard-type) Jacobians.

:class:`MassStiffnessSchur` approximately inverts the mixed Jacobian of an
unknown c and its potential mu with a lumped mass D and a stiffness K

    J = [[A_cc,             L K],        A_cc ~ a0 D  (storage, a0 = BDF
         [-(H_D + kappa K),   D]]                      coefficient)

by exact elimination of mu and an approximate Schur complement
S = A_cc + L K D^-1 (H_D + kappa K) ~ Q1 D^-1 Q2, Q_k = alpha_k D + beta K.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .amg import VCycle


class MassStiffnessSchur:
    """Block preconditioner of the mixed Cahn-Hilliard Jacobian (unknowns c, mu;
    lumped mass D, stiffness K, mobility L, gradient-energy coefficient kappa)

        J = [[A_cc, L K], [-(H_D + kappa K), D]],   A_cc ~ a0 D (storage),

    by exact elimination of mu and an approximate Schur complement
    S = A_cc + L K D^-1 (H_D + kappa K) ~ Q1 D^-1 Q2 with Q_k = alpha_k D + beta K,
    beta = sqrt(L kappa), alpha_1 alpha_2 = a0 and (alpha_1 + alpha_2) beta =
    max(L f'', 2 sqrt(a0 L kappa)) (f'' a typical positive curvature of f): the
    factorisation matches S term by term for uniform f''.  Each Q_k is an M-matrix
    (mass plus stiffness) whose inverse is one algebraic-multigrid V-cycle; the
    hierarchies are kept while alpha_k stays within 25 %.

    ``K`` (n, n) sparse, ``D`` (n,) the lumped mass, ``L`` and ``kappa``
    scalars; :meth:`__call__` ``(J, curvature)`` returns the approximate
    inverse r -> z of J (2n unknowns, c first), with ``curvature`` the
    typical f''.
    """

    def __init__(self, K: sp.csr_matrix, D: np.ndarray, L: float, kappa: float):
        self.K, self.D, self.L = K.tocsr(), D, L
        self.beta = float(np.sqrt(L * kappa))
        self._cycles: list[tuple[float, object]] = []

    def _inverse(self, alpha: float):
        for known, cycle in self._cycles:
            if abs(np.log(alpha / known)) < np.log(1.25):
                return cycle
        import pyamg

        Q = (self.K * self.beta + sp.diags(alpha * self.D)).tocsr()
        ml = pyamg.smoothed_aggregation_solver(
            Q, symmetry="symmetric", max_coarse=500, coarse_solver="splu",
            smooth=("jacobi", {"weighting": "local"}),
            presmoother=("gauss_seidel", {"sweep": "forward"}),
            postsmoother=("gauss_seidel", {"sweep": "backward"}))
        cycle = VCycle(ml)
        self._cycles = (self._cycles + [(alpha, cycle)])[-4:]
        return cycle

    def __call__(self, J: sp.csr_matrix, curvature: float):
        D = self.D
        n = len(D)
        a0 = max(float(np.median(J.diagonal()[:n] / D)), 1e-300)
        s = max(self.L * curvature / self.beta, 2.0 * np.sqrt(a0))
        alpha1 = 0.5 * (s + np.sqrt(max(s * s - 4.0 * a0, 0.0)))
        Q1, Q2 = self._inverse(alpha1), self._inverse(a0 / alpha1)
        zeros = np.zeros(n)

        def apply(r: np.ndarray) -> np.ndarray:
            rc, rm = r[:n], r[n:]
            t = rc - (J @ np.concatenate([zeros, rm / D]))[:n]
            c = Q2(D * Q1(t))
            mu = (rm - (J @ np.concatenate([c, zeros]))[n:]) / D
            return np.concatenate([c, mu])

        return apply
