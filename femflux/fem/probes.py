"""Named probe points: point fields interpolated at given coordinates.

(That each point lies in the mesh is checked by the case layer,
:func:`femflux.case.check_against_mesh`.)

``[output] probes = { tip = [x, y, z] }`` (m): the values of every point
field at each probe, by the linear (P1/Q1) interpolation of the vertex values
in the element holding the point (scikit-fem's ``CellBasis.probes``).
Vectors and tensors are reported by component (``u_x``, ``sigma_xy``).
"""

from __future__ import annotations

import numpy as np
import skfem

from .space import lagrange_element

#: component names of the 3- and 9-component point fields
_VECTOR = ("x", "y", "z")
_TENSOR = tuple(a + b for a in _VECTOR for b in _VECTOR)


class Probes:
    """The interpolation of vertex fields at named points of a FemMesh."""

    def __init__(self, fem_mesh, points: dict[str, list[float]]):
        self.names = list(points)
        self.matrix = None
        if not points:
            return
        mesh = fem_mesh.mesh
        x = np.array([points[name] for name in self.names], dtype=float).T  # (dim, n)
        basis = skfem.CellBasis(mesh, lagrange_element(mesh, 1))
        self.matrix = basis.probes(x).tocsr()[:, : mesh.nvertices]  # inside: case checked

    def __bool__(self) -> bool:
        return self.matrix is not None

    def values(self, point_fields: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
        """{probe: {field or component: value}} from the vertex fields."""
        if self.matrix is None:
            return {}
        out = {name: {} for name in self.names}
        for field, values in point_fields.items():
            values = np.asarray(values, dtype=float)
            at = self.matrix @ values.reshape(len(values), -1)  # (nprobes, ncomponents)
            parts = ([field] if values.ndim == 1 else
                     [f"{field}_{c}" for c in (_VECTOR if values.shape[1] == 3 else _TENSOR)])
            for k, name in enumerate(self.names):
                for j, part in enumerate(parts):
                    out[name][part] = float(at[k, j])
        return out
