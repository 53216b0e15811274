"""Arrows of vector fields (fluxes ``J_*``): a lattice of a few hundred sample
points on the 2D map, the clip face or the slices, and the glyphs drawn there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .camera import _size

if TYPE_CHECKING:
    import pyvista as pv

    from .view import _View


_ARROWS_PER_PICTURE = 300


def _plane_axes(dim: int, cut_axis: int | None) -> tuple[int, ...]:
    """Axes spanned by an arrow lattice: the plane of a 2D map or cut, or all three."""
    if dim == 2:
        return (0, 1)
    if cut_axis is None:
        return (0, 1, 2)
    return tuple(a for a in range(3) if a != cut_axis)


def _arrow_spacing(dim, bounds, cut, slices) -> float:
    """Lattice spacing giving about a few hundred arrows."""
    if dim == 1:
        return 0.0
    cut_axis = cut[0] if cut else slices[0][0] if slices else None
    axes = _plane_axes(dim, cut_axis)
    extent = [max(bounds[2 * a + 1] - bounds[2 * a], 1e-12 * _size(bounds)) for a in axes]
    n = _ARROWS_PER_PICTURE / (len(slices) if slices else 1)
    return float(np.prod(extent) / n) ** (1.0 / len(axes))


def _lattice(bounds, axes: tuple[int, ...], h: float, fixed: dict[int, float]) -> np.ndarray:
    """Points of a square lattice of spacing ``h`` centred in ``bounds`` along ``axes``."""
    coords = []
    for a in range(3):
        if a in axes:
            lo, hi = bounds[2 * a], bounds[2 * a + 1]
            n = max(1, int((hi - lo) / h))
            start = lo + (hi - lo - (n - 1) * h) / 2
            coords.append(start + h * np.arange(n))
        else:
            coords.append(np.array([fixed.get(a, bounds[2 * a])]))
    grid = np.meshgrid(*coords, indexing="ij")
    return np.column_stack([g.ravel() for g in grid])


def _arrow_points(view: _View) -> list[tuple[np.ndarray, int, float]]:
    """Sample points of the arrows, the normal axis of their plane and the side of the
    plane the arrows are drawn on (+1, -1, or 0 for centred on the plane)."""
    b, h = view.bounds, view.arrow_spacing
    if view.dim == 2:
        return [(_lattice(b, (0, 1), h, {}), 2, 0.0)]
    if view.slices:
        return [(_lattice(b, _plane_axes(3, a), h, {a: pos}), a, 0.0) for a, pos in view.slices]
    if view.cut:
        a, pos, side = view.cut
        inside = pos - side * 1e-6 * _size(b)
        return [(_lattice(b, _plane_axes(3, a), h, {a: inside}), a, side)]
    return [(_lattice(b, (0, 1, 2), h, {}), 0, 0.0)]


def _arrow_glyphs(ds: pv.DataSet, view: _View) -> pv.PolyData | None:
    """Arrows of the vector field sampled on a lattice, scaled by magnitude."""
    import pyvista as pv

    f = view.field
    parts = []
    for points, normal, side in _arrow_points(view):
        probe = pv.PolyData(points).sample(ds)
        valid = np.asarray(probe["vtkValidPointMask"]).astype(bool)
        vec = np.asarray(probe[f.array], dtype=float).reshape(len(points), -1)[valid]
        vec = np.pad(vec, ((0, 0), (0, 3 - vec.shape[1])))
        pos = points[valid]
        if view.warp and "u" in probe.point_data.keys():
            pos = pos + view.warp * np.asarray(probe["u"], dtype=float)[valid]
        # on a cut face, the whole arrow sits on the side the camera sees
        pos[:, normal] += side * (np.abs(vec[:, normal]) * view.arrow_factor / 2
                                  + 0.06 * view.arrow_spacing)
        mag = np.linalg.norm(vec, axis=1)
        keep = mag > 0.02 * view.clim[1]
        if keep.any():
            cloud = pv.PolyData(pos[keep])
            cloud["vec"], cloud["mag"] = vec[keep], mag[keep]
            parts.append(cloud)
    if not parts:
        return None
    arrow = pv.Arrow(start=(-0.5, 0, 0), tip_length=0.3, tip_radius=0.12, shaft_radius=0.045)
    cloud = parts[0].merge(parts[1:]) if len(parts) > 1 else parts[0]
    return cloud.glyph(orient="vec", scale="mag", factor=view.arrow_factor, geom=arrow)
