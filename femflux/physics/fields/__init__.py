"""Auxiliary fields: unknowns besides the species that the species drift on.

- :class:`~.electric.ElectricPotential` — phi from Poisson,
  -div(eps grad phi) = F (sum_i z_i c_i + X), or from electroneutrality
  sum_i z_i c_i + X = 0; electrode potentials as extra unknowns;
- :class:`~.elastic.Elasticity` — the displacement u of quasi-static linear
  elasticity, div sigma = 0, and the hydrostatic stress sigma_h as a
  continuous field;
- :class:`~.enclosure.Enclosures` — the pressures of closed gas volumes
  exchanging hydrogen with their walls.

A field is a part of a :class:`~femflux.models.transport.SpeciesTransport`
model with a fixed lifecycle; the model calls, in this order:

1. ``interface_groups()`` and ``breaks(spec)`` — before the species are made:
   where the field and the species it drives may jump between regions;
2. ``setup(offset) -> size`` — its unknowns, placed at ``offset``;
3. ``drift_term(s)`` — the potential term it adds to species ``s`` (or None);
4. ``scales(x_scale, r_scale)``, ``initial(x)``, ``storage(diagonal)`` —
   Newton's scales of its rows and unknowns, its initial values, the storage
   coefficients of its unknowns (d/dt terms; 0 by default);
5. per Newton iteration: ``dirichlet(t)``, ``residual(x, t, F, rows, cols,
   vals, pieces)`` (its rows and Jacobian blocks), ``replace_rows``,
   ``constraints``, ``damp``;
6. linear algebra: ``nodal()`` (its nodal sub-fields, for node blocking),
   ``split()`` (its blocks of a field-split preconditioner), ``equilibrium``;
7. output: ``point_fields``, ``region_point_fields``, ``boundary_fluxes``,
   ``boundary_summary``, ``notes``.

Every hook has a do-nothing default here.
"""

from __future__ import annotations

import numpy as np


class AuxiliaryField:
    """Base of the auxiliary fields (see the module docstring for the lifecycle)."""

    #: the name of the field in messages
    name = ""
    #: False when the field's rows make the Jacobian unsymmetric
    symmetric = True

    def __init__(self, model):
        self.model = model
        self.offset = 0
        self.size = 0

    # -- set-up ---------------------------------------------------------------
    def interface_groups(self) -> np.ndarray | None:
        return None

    def breaks(self, spec) -> bool:
        return False

    def setup(self, offset: int) -> int:
        self.offset = offset
        return 0

    def drift_term(self, s):
        return None

    def scales(self, x_scale: np.ndarray, r_scale: np.ndarray) -> None:
        pass

    def initial(self, x: np.ndarray) -> None:
        pass

    def storage(self, diagonal: np.ndarray) -> None:
        """Its unknowns' storage coefficients (a diagonal, in place; default 0)."""

    # -- equations ------------------------------------------------------------
    def dirichlet(self, t: float) -> list[tuple[np.ndarray, np.ndarray]]:
        return []

    def residual(self, x, t, F, rows, cols, vals, pieces) -> None:
        pass

    def replace_rows(self, x, t, F, J):
        return F, J

    def constraints(self, x: np.ndarray, steady: bool):
        return None

    def damp(self, x: np.ndarray, dx: np.ndarray, out: np.ndarray) -> None:
        pass

    # -- linear algebra -------------------------------------------------------
    def nodal(self) -> list[tuple[int, object]]:
        """(offset, space) of each nodal sub-field (node-wise blocking)."""
        return []

    def split(self) -> list | None:
        return None

    def equilibrium(self, x: np.ndarray, t: float):
        return None

    # -- output ---------------------------------------------------------------
    def point_fields(self, x: np.ndarray, fields: dict) -> None:
        pass

    def region_point_fields(self, x: np.ndarray, region: str, out: dict) -> None:
        pass

    def boundary_fluxes(self, x, t, out: dict) -> None:
        pass

    def boundary_summary(self, x, t, fluxes: dict, out: dict) -> None:
        pass

    def notes(self) -> list[str]:
        return []
