"""Models: each is a composition of chemical-potential terms on the shared
species-transport machinery (see DESIGN.md)."""

from __future__ import annotations

import importlib

from ..case import Case
from ..errors import CaseError
from ..mesh import FemMesh

#: model kind -> (module, class)
MODELS = {
    "diffusion": ("diffusion", "DiffusionModel"),
    "nernst-planck-poisson": ("nernst_planck", "NernstPlanckPoisson"),
    "stress-diffusion": ("stress_diffusion", "StressDiffusion"),
    "onsager": ("onsager", "OnsagerModel"),
}


def _model_class(kind: str):
    module, name = MODELS[kind]
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{module}":
            raise
        return None


def available() -> list[str]:
    return [kind for kind in MODELS if _model_class(kind) is not None]


AVAILABLE = tuple(available())
PLANNED = tuple(kind for kind in MODELS if kind not in AVAILABLE)


def build_model(case: Case, fem_mesh: FemMesh):
    """The model object of ``case.model.kind`` on ``fem_mesh``."""
    kind = case.model.kind
    if kind not in MODELS:
        raise CaseError(f"unknown model kind '{kind}'")
    cls = _model_class(kind)
    if cls is None:
        from .. import __version__

        raise CaseError(f"model kind '{kind}' is not available yet in femflux {__version__} "
                        f"(available: {', '.join(available())})")
    return cls(case, fem_mesh)
