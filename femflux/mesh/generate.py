"""Generated meshes: structured interval, rectangle and box meshes.

``[mesh.generate]`` (a :class:`femflux.case.GenerateSpec`) is checked here
(shape, cell type, lengths, cell counts, origin) and built with scikit-fem's
tensor meshes; the exterior faces are the boundaries ``xmin`` ... ``zmax``
and the single region is ``"domain"``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import skfem

from ..errors import CaseError
from .femmesh import FemMesh, _geometry, _radial_check

if TYPE_CHECKING:
    from ..case import GenerateSpec

_SHAPE_DIM = {"interval": 1, "rectangle": 2, "box": 3}
_GENERATED = {
    (1, "simplex"): skfem.MeshLine1,
    (2, "simplex"): skfem.MeshTri1,
    (3, "simplex"): skfem.MeshTet1,
    (2, "quad"): skfem.MeshQuad1,
    (3, "hex"): skfem.MeshHex1,
}


def generate_mesh(
    gen: GenerateSpec, scale: float = 1.0, axisymmetric: bool = False, symmetry: str = "planar"
) -> FemMesh:
    """A structured interval/rectangle/box mesh with boundaries xmin ... zmax.

    ``cell = "simplex"`` splits every rectangle into 2 triangles and every
    brick into 6 tetrahedra; ``"quad"``/``"hex"`` keep them.  Lengths and the
    origin are multiplied by ``scale``.  The single region is ``"domain"``.
    """
    geometry = _geometry(axisymmetric, symmetry, scale, "mesh.generate")
    dim, lengths, cells, origin = _check_generate(gen)
    axes = [scale * (origin[i] + np.linspace(0.0, lengths[i], cells[i] + 1)) for i in range(dim)]
    corners = _radial_check(
        np.array([[a[0] for a in axes], [a[-1] for a in axes]]), geometry, "mesh.generate"
    )
    lower, upper = corners
    axes[0][0] = lower[0]  # a round-off negative radius clipped to 0
    mesh = _GENERATED[(dim, gen.cell)].init_tensor(*axes)
    boundaries = _box_boundaries(mesh, lower, upper)
    regions = {"domain": np.arange(mesh.nelements)}
    return FemMesh(mesh, boundaries, regions, geometry, "generated", [])


def _check_generate(gen: GenerateSpec):
    """Validate a GenerateSpec; returns (dim, lengths, cells, origin)."""
    if gen.shape not in _SHAPE_DIM:
        raise CaseError(
            f"mesh.generate.shape must be interval, rectangle or box, got {gen.shape!r}"
        )
    dim = _SHAPE_DIM[gen.shape]
    if (dim, gen.cell) not in _GENERATED:
        allowed = {1: "simplex", 2: "simplex or quad", 3: "simplex or hex"}[dim]
        raise CaseError(
            f"mesh.generate.cell = {gen.cell!r} does not fit shape {gen.shape!r} (use {allowed})"
        )
    origin = list(gen.origin) if gen.origin else [0.0] * dim
    for key, values in (("length", gen.length), ("cells", gen.cells), ("origin", origin)):
        if len(values) != dim:
            raise CaseError(
                f"mesh.generate.{key} needs {dim} entries for a {gen.shape}, got {len(values)}"
            )
    lengths = [float(v) for v in gen.length]
    if not all(math.isfinite(v) and v > 0 for v in lengths):
        raise CaseError(f"mesh.generate.length must be positive, got {gen.length}")
    if not all(float(n).is_integer() and n >= 1 for n in gen.cells):
        raise CaseError(f"mesh.generate.cells must be integers >= 1, got {gen.cells}")
    return dim, lengths, [int(n) for n in gen.cells], [float(v) for v in origin]


def _box_boundaries(mesh: skfem.Mesh, lower, upper) -> dict[str, np.ndarray]:
    """Exterior facets on the faces x = xmin, x = xmax, y = ymin, ... of a box."""
    exterior = mesh.boundary_facets()
    centres = mesh.p[:, mesh.facets[:, exterior]].mean(axis=1)
    boundaries = {}
    for i, axis in enumerate("xyz"[: mesh.dim()]):
        tol = 1e-9 * (upper[i] - lower[i])
        boundaries[f"{axis}min"] = np.sort(exterior[np.abs(centres[i] - lower[i]) <= tol])
        boundaries[f"{axis}max"] = np.sort(exterior[np.abs(centres[i] - upper[i]) <= tol])
    return boundaries
