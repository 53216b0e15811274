"""Models: each is a composition of chemical-potential terms on the shared
species-transport machinery (see DESIGN.md)."""

from __future__ import annotations

from ..case import Case
from ..errors import CaseError
from ..mesh import FemMesh
from .diffusion import DiffusionModel
from .nernst_planck import NernstPlanckPoisson
from .onsager import OnsagerModel
from .stress_diffusion import StressDiffusion

#: model kind -> class
MODELS = {
    "diffusion": DiffusionModel,
    "nernst-planck-poisson": NernstPlanckPoisson,
    "stress-diffusion": StressDiffusion,
    "onsager": OnsagerModel,
}


def build_model(case: Case, fem_mesh: FemMesh):
    """The model object of ``case.model.kind`` on ``fem_mesh``."""
    kind = case.model.kind
    if kind not in MODELS:
        raise CaseError(f"unknown model kind '{kind}'")
    return MODELS[kind](case, fem_mesh)
