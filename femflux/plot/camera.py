"""Cameras: the directions a picture is seen from, the parallel projection
that fits a box into (part of) a viewport, and offsets towards the camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyvista as pv

    from .view import _View


_CAMERAS = {
    # direction from the focal point to the camera, view-up
    "iso": ((1.0, 1.0, 1.0), (0.0, 0.0, 1.0)),
    "x": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "y": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "z": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "back": ((-1.0, -1.0, -1.0), (0.0, 0.0, 1.0)),
}
_BAR_BOTTOM = 0.17  # fraction of the window height kept for the colour bar
_TOP_MARGIN = 0.07  # fraction kept for the time label


def _size(bounds: Sequence[float]) -> float:
    """Largest extent of a bounding box (xmin, xmax, ymin, ymax, zmin, zmax)."""
    return max(float(np.max(np.asarray(bounds[1::2]) - np.asarray(bounds[::2]))), 1e-300)


def _middle_axis(bounds: Sequence[float]) -> int:
    """Axis of middle extent: the cut normal to it contains the longest axis."""
    extent = np.asarray(bounds[1::2]) - np.asarray(bounds[::2])
    return int(np.argsort(extent, kind="stable")[1])


def _lift(poly: pv.PolyData, view: _View, height: float = 2e-3) -> pv.PolyData:
    """Lines moved slightly towards the camera so that they stay visible on the surfaces
    they lie on (with a parallel projection this changes depth only)."""
    back = np.asarray(_CAMERAS[view.camera][0], dtype=float)
    back *= height * _size(view.bounds) / np.linalg.norm(back)
    return poly.translate(tuple(back), inplace=False)


def _camera_bounds(view: _View) -> list[float]:
    """The undeformed bounds grown by the largest warped displacement."""
    pad = np.repeat(view.warp_pad, 2) * np.tile([-1.0, 1.0], 3)
    return list(np.asarray(view.bounds) + pad)


def _fit(p: pv.Plotter, bounds, camera: str, *, bottom=0.0, top=0.0, right=0.0,
         size_px: tuple[int, int] | None = None) -> None:
    """Parallel-projection camera looking from ``camera`` (iso, x, y, z, back) that fits
    the box ``bounds`` into the viewport (``size_px``, default the window) less its
    ``bottom``, ``top`` and ``right`` fractions."""
    direction, up = _CAMERAS[camera]
    back = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    v_up = np.asarray(up, dtype=float) - np.dot(up, back) * back
    v_up /= np.linalg.norm(v_up)
    v_right = np.cross(v_up, back)
    corners = np.array([[bounds[i], bounds[2 + j], bounds[4 + k]]
                        for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    size = _size(bounds)
    u, v = corners @ v_right, corners @ v_up
    width, height = max(np.ptp(u), 1e-9 * size), max(np.ptp(v), 1e-9 * size)
    w_px, h_px = size_px or p.window_size
    margin = 0.05
    free_w = w_px * (1 - right) * (1 - 2 * margin)
    free_h = h_px * (1 - bottom - top) * (1 - 2 * margin)
    scale = max(width / free_w, height / free_h)  # metres per pixel
    # put the picture's centre at the centre of the free area
    du = (w_px * (1 - right) / 2 - w_px / 2) * scale
    dv = (h_px * (bottom + (1 - bottom - top) / 2) - h_px / 2) * scale
    centre = corners.mean(axis=0)
    shift = v_right * ((u.max() + u.min()) / 2 - centre @ v_right - du)
    shift += v_up * ((v.max() + v.min()) / 2 - centre @ v_up - dv)
    focal = centre + shift
    p.enable_parallel_projection()
    p.camera_position = [tuple(focal + back * 4 * size), tuple(focal), tuple(v_up)]
    p.camera.parallel_scale = scale * h_px / 2
    p.renderer.ResetCameraClippingRange()


def _set_camera(p: pv.Plotter, view: _View) -> None:
    """Camera of a result picture, fixed by the undeformed bounds."""
    bottom = _BAR_BOTTOM if view.field else 0.0
    _fit(p, _camera_bounds(view), view.camera, bottom=bottom, top=_TOP_MARGIN)
