"""Models: each is a composition of chemical-potential terms on the shared
species-transport machinery (see DESIGN.md)."""

from __future__ import annotations

from ..case import Case
from ..errors import CaseError
from ..mesh import FemMesh

AVAILABLE = ("diffusion", "nernst-planck-poisson")
PLANNED = ("stress-diffusion", "onsager")


def build_model(case: Case, fem_mesh: FemMesh):
    """The model object of ``case.model.kind`` on ``fem_mesh``."""
    kind = case.model.kind
    if kind == "diffusion":
        from .diffusion import DiffusionModel

        return DiffusionModel(case, fem_mesh)
    if kind == "nernst-planck-poisson":
        from .nernst_planck import NernstPlanckPoisson

        return NernstPlanckPoisson(case, fem_mesh)
    if kind in PLANNED:
        from .. import __version__

        raise CaseError(f"model kind '{kind}' is not available yet in femflux {__version__} "
                        f"(available: {', '.join(AVAILABLE)})")
    raise CaseError(f"unknown model kind '{kind}'")
