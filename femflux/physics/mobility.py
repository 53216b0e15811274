"""Mobility laws: the L of J_i = -sum_j L_ij grad mu_j (mol^2/(J m s)).

- :class:`Einstein` — L_ii = D_i c_i / RT, L_ij = 0 (i != j): with the ideal
  term it gives Fick's law J_i = -D_i grad c_i; D_i per region (m^2/s);
- :class:`ConstantOnsager` — a constant symmetric positive semi-definite L_ij
  (``[transport] onsager``): cross-coupled fluxes, uphill diffusion;
- :class:`FickianDiffusivity` — J_i = -sum_j D_ij grad c_j with a constant
  (not necessarily symmetric) D matrix (``[transport] diffusivity_matrix``):
  an alternative to the Onsager form, without a free energy.

A mobility law evaluates L (N, N, ...) and dL/dc_m (N, N, N, ...) at arrays of
concentrations C (N, ...) (mol/m^3); constant laws return ``dL = None``.
"""

from __future__ import annotations

import numpy as np


class Einstein:
    """L_ii = D_i c_i / RT; ``D`` (N, ...) broadcasts against C[i] (per element)."""

    constant = False

    def __init__(self, D: np.ndarray, RT: float):
        self.D, self.RT = D, RT

    def __call__(self, C: np.ndarray):
        N = len(C)
        L = np.zeros((N, N) + C.shape[1:])
        dL = np.zeros((N, N, N) + C.shape[1:])
        for i in range(N):
            L[i, i] = self.D[i] * C[i] / self.RT
            dL[i, i, i] = self.D[i] / self.RT
        return L, dL

    def largest(self, C: np.ndarray, i: int) -> float:
        """max L_ii over C (the fastest mobility of species i)."""
        return float(np.max(self.D[i]) * np.max(C) / self.RT)


class ConstantOnsager:
    """A constant Onsager matrix ``L`` (N, N)."""

    constant = True

    def __init__(self, L):
        self.L = np.asarray(L, dtype=float)

    def __call__(self, C: np.ndarray):
        N = len(self.L)
        return np.broadcast_to(self.L[:, :, None, None], (N, N) + C.shape[1:]), None

    def largest(self, C: np.ndarray, i: int) -> float:
        return float(self.L[i, i])


class FickianDiffusivity:
    """J_i = -sum_j D_ij grad c_j: the constant block matrix [D_ij K] of a
    stiffness matrix K (int grad v_a . grad v_b)."""

    constant = True

    def __init__(self, D):
        self.D = np.asarray(D, dtype=float)

    def block_matrix(self, K):
        import scipy.sparse as sp

        N = len(self.D)
        return sp.bmat([[self.D[i, j] * K for j in range(N)] for i in range(N)], format="csr")


def mobility_law(case, element_D: np.ndarray, RT: float):
    """The law of an onsager case: Fickian D, a constant L, or "einstein"."""
    transport = case.transport
    if transport.diffusivity_matrix is not None:
        return FickianDiffusivity(transport.diffusivity_matrix)
    if isinstance(transport.onsager, str):
        return Einstein(element_D, RT)
    return ConstantOnsager(transport.onsager)
