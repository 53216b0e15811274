"""Boundary conditions, one class per condition, each holding its residual,
its Jacobian and the flux or current it reports in summary.json together.

- species (:mod:`.species`): ``concentration`` (Dirichlet), ``inward_flux``,
  ``mass_transfer``;
- electric (:mod:`.electric`): ``potential``, ``stern_capacitance``,
  ``surface_charge``, ``applied_current``, ``butler_volmer``;
- mechanical (:mod:`.mechanical`): ``displacement``, ``traction``, ``pressure``.

Sign conventions (SPEC 3): inputs count INTO the domain, reported fluxes
OUT of it.  A condition adds to the model's residual F (rows of the weak
form ``int J.grad v - ...``) and its Jacobian entries as COO triples
(``rows``, ``cols``, ``vals`` lists of arrays in global numbering).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class BoundaryCondition:
    """One condition on one named boundary ``boundary`` (a case Boundary)."""

    #: scalar unknowns the condition adds (an electrode potential)
    unknowns = 0
    #: the condition owns a metal potential (an electrode)
    is_electrode = False

    def __init__(self, boundary):
        self.boundary = boundary

    def scales(self, x_scale: np.ndarray, r_scale: np.ndarray) -> None:
        pass

    def initial(self, x: np.ndarray) -> None:
        pass

    def dirichlet(self, t: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(dofs, values)] prescribed at time t."""
        return []

    def residual(self, x, t, F, rows, cols, vals) -> None:
        pass

    def replace_rows(self, x, t, F, J):
        return F, J

    def report_flux(self, x, t, out: dict) -> None:
        """Set ``out[boundary][species]``: the outward flux integral (mol/s)."""


def prescribed(conditions, t: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(dofs, values)] of every condition's Dirichlet values at time t."""
    return [part for c in conditions for part in c.dirichlet(t)]


def add_coo(block, row_offset: int, col_offset: int, rows, cols, vals) -> None:
    """Append a sparse block's entries, shifted to global numbering."""
    block = sp.coo_matrix(block)
    rows.append(block.row + row_offset)
    cols.append(block.col + col_offset)
    vals.append(block.data)
