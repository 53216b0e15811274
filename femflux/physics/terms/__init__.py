"""The terms of a species' chemical potential, mu_i = sum of terms (J/mol).

    mu_i = mu0_i + RT ln(gamma_i c_i / c_ref)     ideal mixing + activity   (ideal.py)
               + z_i F phi                        electrostatic             (electrostatic.py)
               - Omega_i sigma_h                  mechanical                (mechanical.py)
               - M_i g . x                        gravity                   (gravity.py)
               + df/dc_i - kappa lap c_i          free energy, gradient     (free_energy.py)

With the Einstein mobility L_ii = D_i c_i / RT the flux of a species is

    J_i = -(D_i c_i / RT) grad mu_i = -(D_i / gamma_i) (grad a_i + a_i grad psi_i),

a_i = gamma_i c_i, where the dimensionless *drift potential* psi_i is the sum of
the drifts of every term but the ideal one, psi_i = sum_k (term_k) / RT.  The
flux is assembled edge by edge with that sum (:mod:`femflux.fem` EAFE), so a
species under charge and stress and gravity at once is one flux term.

A term is a :class:`DriftTerm`: it gives its contribution to mu at the mesh
vertices (the ``mu_<species>`` output) and to psi on the species' dofs, and
says on which unknown field (if any) psi depends linearly, for the Jacobian.
"""

from __future__ import annotations

import numpy as np


class DriftTerm:
    """A term ``coefficient * (field value)`` of mu_i (J/mol), drift psi = term / RT.

    ``field`` names the auxiliary field (``"phi"``, ``"sigma_h"``) the term is
    linear in, ``index`` is the position in the unknown vector of that field
    at each dof of the species (the copy of the same side where the field is
    broken), ``offset`` and ``space`` place the field's block.  Terms of fixed
    fields (gravity) have ``field = None`` and override :meth:`psi`.
    """

    #: the term's name in messages and docs
    name = ""
    #: the point field (results) the term is a multiple of, or None
    field: str | None = None

    def __init__(self, coefficient: float, RT: float, index=None, offset: int = 0,
                 space=None):
        self.coefficient = float(coefficient)  # J/mol per unit of the field
        self.scale = self.coefficient / RT  # d psi / d(field), 1/unit
        self.index = index
        self.offset = offset
        self.space = space  # the field's femflux.fem.Space
        # (column of the field at each species dof within the field's block,
        # the block's width): where d(flux)/d(psi) goes in the Jacobian; one
        # array for the whole run (the flux assembly caches its pattern by it)
        self.columns = None if index is None else (index - offset, space.n)

    def psi(self, x: np.ndarray) -> np.ndarray:
        """The term's drift on the species' dofs (dimensionless)."""
        return self.scale * x[self.index]

    def vertex_potential(self, point_fields: dict, vertices: np.ndarray) -> np.ndarray:
        """The term's contribution to mu at the mesh vertices (J/mol);
        ``vertices`` (dim, nvertices) are their coordinates (m)."""
        return self.coefficient * point_fields[self.field]


def drift_potential(terms: list[DriftTerm], x: np.ndarray) -> np.ndarray | None:
    """psi = the sum of the terms' drifts (None without terms)."""
    psi = None
    for term in terms:
        psi = term.psi(x) if psi is None else psi + term.psi(x)
    return psi


from .electrostatic import Electrostatic  # noqa: E402
from .gravity import Gravity  # noqa: E402
from .ideal import ideal_potential  # noqa: E402
from .mechanical import Mechanical  # noqa: E402

__all__ = ["DriftTerm", "Electrostatic", "Gravity", "Mechanical", "drift_potential",
           "ideal_potential"]
