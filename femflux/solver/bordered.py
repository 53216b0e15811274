"""Newton's unknowns ``z = [x; lam]``: the model's state bordered by the
Lagrange multipliers of its constraints (gauges and, in steady runs, the
amounts of conserved species), the free (non-Dirichlet) dofs among them, and
the model's update damping on them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..linalg import BorderedMatrix
from .system import System


def _free_dofs(n: int, fixed: np.ndarray) -> np.ndarray:
    """The unknowns among n that are not in ``fixed`` (the Dirichlet dofs)."""
    mask = np.ones(n, dtype=bool)
    mask[fixed] = False
    return np.flatnonzero(mask)


class Bordered:
    """``R(x) = 0`` with extra scalar constraints ``g(x) = 0`` and multipliers:
    the unknowns are ``z = [x; lam]`` and the equations ``[R + G^T lam; g]``.

    The constraints are the model's gauges (e.g. mean potential 0) and, in
    steady runs, the amounts of the conserved species combinations.
    """

    def __init__(self, system: System, x0: np.ndarray, steady: bool):
        self.system, self.steady, self.n = system, steady, system.n
        self.C = system.conserved() if steady else np.zeros((0, system.n))
        self.targets = self.C @ system.storage(x0)[0] if len(self.C) else np.zeros(0)
        g, _, scale = self._constraints(x0)
        self.k = len(g)
        amount_scale = np.abs(self.C) @ np.abs(system.storage(system.x_scale)[0])
        self.g_scale = np.maximum(np.concatenate([amount_scale, scale]), 1e-300)

    def _constraints(self, x):
        parts_g, parts_G, parts_s = [], [], []
        if len(self.C):
            S, dS = self.system.storage(x)
            parts_g.append(self.C @ S - self.targets)
            parts_G.append(sp.csr_matrix(self.C) @ dS)
        extra = self.system.constraints(x, self.steady)
        if extra is not None:
            g, G, scale = extra
            parts_g.append(g)
            parts_G.append(sp.csr_matrix(G))
            parts_s.append(scale)
        if not parts_g:
            return np.zeros(0), None, np.zeros(0)
        return (np.concatenate(parts_g), sp.vstack(parts_G).tocsr(),
                np.concatenate(parts_s) if parts_s else np.zeros(0))

    def extend(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.zeros(self.k)])

    def scales(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate([self.system.x_scale, np.ones(self.k)]),
                np.concatenate([self.system.r_scale, self.g_scale]))

    def wrap(self, assemble):
        """assemble(x) -> (R, J) becomes assemble(z) for the bordered system."""
        if self.k == 0:
            return assemble
        n = self.n

        def bordered(z):
            x, lam = z[:n], z[n:]
            R, J = assemble(x)
            g, G, _ = self._constraints(x)
            return np.concatenate([R + G.T @ lam, g]), BorderedMatrix(J, G.T, G)

        return bordered


def _damping(system: System, border: Bordered):
    """The model's Newton-update damping (:meth:`System.damp_update`) on the
    bordered unknowns (the multipliers undamped)."""
    damp, n = system.damp_update, system.n
    if border.k == 0:
        return damp

    def damped(z, dz):
        out = dz.copy()
        out[:n] = damp(z[:n], dz[:n])
        return out

    return damped
