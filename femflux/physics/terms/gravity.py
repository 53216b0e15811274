"""The gravitational term mu_i -= M_i g . x (J/mol).

M_i is the molar mass (kg/mol), g the gravitational acceleration (m/s^2,
``[model] gravity``) and x the position (m): with g pointing down (-z) the
term is + M g z, so heavy species sediment.  In a closed column the
equilibrium is barometric, c(z) = c_avg exp(-M g z/RT) / <exp(-M g z/RT)>,
and at uniform c the sedimentation flux is J = D M g c / RT.

Drift psi_i = -M_i g . x / RT: a fixed field (no unknown, no Jacobian column).
This file is the example of README > Development > "Adding a term".
"""

from __future__ import annotations

import numpy as np

from . import DriftTerm


class Gravity(DriftTerm):
    """-M g.x: a species of molar mass ``molar_mass`` in the gravity field ``g``."""

    name = "gravity"

    def __init__(self, molar_mass: float, g, RT: float, dof_x: np.ndarray):
        super().__init__(molar_mass, RT)
        self.g = np.asarray(g, dtype=float)
        # -M g.x / RT at the species' dofs (dof_x: (dim, ndofs), m)
        self._psi = -self.scale * (self.g @ dof_x[: len(self.g)])

    def psi(self, x: np.ndarray) -> np.ndarray:
        return self._psi

    def vertex_potential(self, point_fields: dict, vertices: np.ndarray) -> np.ndarray:
        return -self.coefficient * (self.g @ vertices[: len(self.g)])
