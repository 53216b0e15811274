"""The mesh of a case: the ``[mesh]`` table read from a file or generated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CaseError
from .femmesh import FemMesh
from .generate import generate_mesh
from .read import read_mesh

if TYPE_CHECKING:
    from ..case import MeshSpec


def load_mesh(spec: MeshSpec) -> FemMesh:
    """The mesh of a case: ``spec.file`` read, or ``spec.generate`` built."""
    options = dict(scale=spec.scale, axisymmetric=spec.axisymmetric, symmetry=spec.symmetry)
    if spec.file is not None and spec.generate is not None:
        raise CaseError("[mesh] has both file and generate: give one")
    if spec.file is not None:
        return read_mesh(spec.file, **options)
    if spec.generate is not None:
        return generate_mesh(spec.generate, **options)
    raise CaseError("[mesh] needs file or generate")
