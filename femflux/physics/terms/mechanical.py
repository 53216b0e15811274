"""The mechanical term mu_i -= Omega_i sigma_h (J/mol).

Omega_i is the partial molar volume (m^3/mol) and sigma_h = tr(sigma)/3 the
hydrostatic stress (Pa, tension positive), so a species with Omega > 0 is
drawn to tension.  Drift psi_i = -Omega_i sigma_h / RT, linear in the sigma_h
field of the elasticity (:mod:`femflux.physics.fields.elastic`).
"""

from __future__ import annotations

from . import DriftTerm


class Mechanical(DriftTerm):
    """-Omega sigma_h: a species of partial molar volume ``omega`` under stress."""

    name = "mechanical"
    field = "sigma_h"

    def __init__(self, omega: float, RT: float, index, offset: int, space):
        super().__init__(-omega, RT, index, offset, space)
        self.omega = omega
