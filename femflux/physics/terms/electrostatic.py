"""The electrostatic term mu_i += z_i F phi (J/mol).

Drift psi_i = z_i F phi / RT (dimensionless; phi in V), linear in the
electric potential field (:mod:`femflux.physics.fields.electric`).
"""

from __future__ import annotations

from ..constants import FARADAY
from . import DriftTerm


class Electrostatic(DriftTerm):
    """z F phi: an ion of charge number ``z`` in the electric potential phi."""

    name = "electrostatic"
    field = "phi"

    def __init__(self, charge: int, RT: float, index, offset: int, space):
        super().__init__(charge * FARADAY, RT, index, offset, space)
        self.charge = charge
