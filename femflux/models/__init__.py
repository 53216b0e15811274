"""Models: presets that say which parts of the law (:mod:`femflux.physics`) a
model kind composes.

| kind | potential terms of mu_i | mobility | fields |
|---|---|---|---|
| diffusion | ideal + activity (+ gravity) | Einstein D c/RT | none |
| nernst-planck-poisson | ... + z F phi | Einstein | phi (+ elasticity with [elasticity]) |
| stress-diffusion | ... - Omega sigma_h | Einstein | elasticity (+ phi with [electrostatics]) |
| onsager | df/dc - kappa lap c | constant L, Einstein or Fickian D | mu (Cahn-Hilliard) |

A species carries every term its case gives it: with both [electrostatics]
and [elasticity], a species with ``charge`` and ``partial_molar_volume`` has
mu = mu0 + RT ln(gamma c/c_ref) + z F phi - Omega sigma_h.
"""

from __future__ import annotations

from ..case import Case
from ..errors import CaseError
from ..mesh import FemMesh
from ..physics.fields.elastic import Elasticity
from ..physics.fields.electric import ElectricPotential
from .onsager import OnsagerModel
from .transport import SpeciesTransport

KINDS = ("diffusion", "nernst-planck-poisson", "stress-diffusion", "onsager")


def fields_of(case: Case) -> tuple:
    """The auxiliary fields of a species-transport case: phi when it has
    electrostatics, then the elasticity (always last: u ends the unknowns)."""
    fields = []
    if case.electrostatics is not None:
        fields.append(ElectricPotential)
    if case.elasticity is not None:
        fields.append(Elasticity)
    return tuple(fields)


def build_model(case: Case, fem_mesh: FemMesh):
    """The model object of ``case.model.kind`` on ``fem_mesh``."""
    kind = case.model.kind
    if kind not in KINDS:
        raise CaseError(f"unknown model kind '{kind}'")
    if kind == "onsager":
        return OnsagerModel(case, fem_mesh)
    model = SpeciesTransport(case, fem_mesh, fields_of(case))
    model.kind = kind
    return model


__all__ = ["KINDS", "OnsagerModel", "SpeciesTransport", "build_model", "fields_of"]
