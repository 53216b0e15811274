"""Mechanical boundary conditions (SPEC 2.2, 4.3); u in m, loads in Pa.

- :class:`Displacement` — u_a = value on the boundary for each given
  component (``"free"`` leaves a component unconstrained); also u_r = 0 on the
  symmetry axis of axisymmetric and 1D radial geometries;
- :class:`Traction` — ``traction`` t (Pa): int t . v dA in the displacement rows;
- :class:`Pressure` — ``pressure`` p (Pa, compressive positive): t = -p n.

Unnamed boundaries are traction-free.
"""

from __future__ import annotations

import numpy as np

from ...case import evaluate
from . import BoundaryCondition


class Displacement(BoundaryCondition):
    """Prescribed displacement components of boundary ``b`` (``b`` None: the
    symmetry axis, u_r = 0)."""

    def __init__(self, field, b, components: list[tuple[np.ndarray, object, np.ndarray]]):
        super().__init__(b)
        self.field = field
        # (global dofs, value, coordinates of the dofs) per prescribed component
        self.components = components

    @classmethod
    def on_boundary(cls, field, b) -> Displacement:
        m, us = field.model, field.u_space
        local = m.space_boundary_dofs(us, m.fem_mesh.boundaries[b.name])
        return cls(field, b, [(field.u_offset + a * us.n + local, value, us.x[:, local])
                              for a, value in enumerate(b.displacement) if value is not None])

    @classmethod
    def on_axis(cls, field) -> Displacement | None:
        """u_r = 0 where r = 0 (axisymmetric, cylindrical, spherical)."""
        if field.geometry not in ("axisymmetric", "cylindrical", "spherical"):
            return None
        m, us = field.model, field.u_space
        size = float(np.ptp(m.fem_mesh.mesh.p[0])) or 1.0
        axis = np.flatnonzero(np.abs(us.x[0]) <= 1e-10 * size)
        if not len(axis):
            return None
        return cls(field, None, [(field.u_offset + axis, 0.0, us.x[:, axis])])

    def dirichlet(self, t):
        return [(dofs, evaluate(value, x, t)) for dofs, value, x in self.components]


class Load(BoundaryCondition):
    """A load on boundary ``b`` (base of :class:`Traction` and
    :class:`Pressure`): the facet quadrature of the displacement space, cached."""

    def __init__(self, field, b):
        super().__init__(b)
        import skfem

        from ...fem import metric, metric_degree

        self.field = field
        mesh = field.model.fem_mesh.mesh
        facets = field.model.fem_mesh.boundaries[b.name]
        order = 2 * field.u_space.degree + metric_degree(field.geometry)
        fb = skfem.FacetBasis(mesh, field.u_space.element, facets=facets, intorder=order)
        self.x = np.asarray(fb.global_coordinates())  # (dim, nf, nq)
        self.ds = fb.dx * metric(field.geometry, self.x)
        self.basis_values = np.stack([np.asarray(f[0]) for f in fb.basis])  # (nloc, nf, nq)
        self.normals = np.asarray(fb.normals)
        self.dofs = field.u_space.local[fb.element_dofs]  # (nloc, nf)

    def traction(self, t: float) -> np.ndarray:
        """(dim, nf, nq) the traction vector at the facet points (Pa)."""
        raise NotImplementedError

    def values(self) -> list:
        """The given numbers or expressions (for Newton's stress scale)."""
        raise NotImplementedError

    def add_load(self, t: float, f: np.ndarray) -> None:
        """f += int t . v dA (component-major displacement rows)."""
        n_u = self.field.n_u
        traction = self.traction(t)
        ok = self.dofs >= 0
        for a in range(self.field.model.dim):
            contrib = np.einsum("ifq,fq->if", self.basis_values, traction[a] * self.ds)
            f[a * n_u:(a + 1) * n_u] += np.bincount(self.dofs[ok], weights=contrib[ok],
                                                    minlength=n_u)

    def magnitude(self) -> float:
        """The largest |traction or pressure| at t = 0 (Pa): Newton's stress scale."""
        flat = self.x.reshape(self.field.model.dim, -1)
        return max(float(np.abs(evaluate(v, flat, 0.0)).max(initial=0.0))
                   for v in self.values())


class Traction(Load):
    """``traction = [tx, ty, tz]`` (Pa): the surface force per area."""

    def values(self) -> list:
        return list(self.boundary.traction)

    def traction(self, t: float) -> np.ndarray:
        flat = self.x.reshape(self.field.model.dim, -1)
        return np.stack([evaluate(v, flat, t).reshape(self.ds.shape)
                         for v in self.boundary.traction])


class Pressure(Load):
    """``pressure = p`` (Pa, compressive positive): t = -p n."""

    def values(self) -> list:
        return [self.boundary.pressure]

    def traction(self, t: float) -> np.ndarray:
        flat = self.x.reshape(self.field.model.dim, -1)
        p = evaluate(self.boundary.pressure, flat, t).reshape(self.ds.shape)
        return -p[None] * self.normals


def loads(field) -> list[Load]:
    """The traction and pressure conditions of the case, in order."""
    return [Pressure(field, b) if b.pressure is not None else Traction(field, b)
            for b in field.model.case.boundaries
            if b.traction is not None or b.pressure is not None]
