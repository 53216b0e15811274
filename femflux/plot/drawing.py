"""Drawing one frame of a 2D or 3D result into a plotter: the coloured
surfaces (whole, clipped or sliced, warped), region outlines, contour lines,
arrows, context lines, labels and camera.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .annotations import _add_labels, _scalar_bar_args, _style_scalar_bar
from .arrows import _arrow_glyphs
from .camera import _lift, _set_camera
from .fields import _SCALAR, _values

if TYPE_CHECKING:
    import pyvista as pv

    from .view import _View


def _attach_scalar(ds: pv.UnstructuredGrid, view: _View) -> pv.UnstructuredGrid:
    """A shallow copy of ``ds`` holding the coloured values as ``_SCALAR``."""
    ds = ds.copy(deep=False)
    if view.field is None:
        return ds
    values = _values(ds, view.field) / view.scale
    if view.log:
        values = np.maximum(values, view.clim[0])
    if view.field.association == "point":
        ds.point_data[_SCALAR] = values
    elif view.field.reduction == "region":
        ds.cell_data[_SCALAR] = values
    else:  # cell values averaged to the points: a smooth picture
        ds.point_data[_SCALAR] = _cell_to_point(ds, values)
    return ds


def _cell_to_point(ds: pv.UnstructuredGrid, values: np.ndarray) -> np.ndarray:
    """Point values: the average of the values of the cells around each point."""
    import pyvista as pv

    carrier = pv.UnstructuredGrid(ds.cells, ds.celltypes, ds.points)
    carrier.cell_data["v"] = values
    return np.asarray(carrier.cell_data_to_point_data().point_data["v"])


def _pieces(ds: pv.UnstructuredGrid, view: _View) -> list[pv.PolyData]:
    """Surfaces to draw: the domain, its clipped half or its slices (warped if asked)."""
    if view.slices:
        normals = np.eye(3)
        centre = [(view.bounds[2 * i] + view.bounds[2 * i + 1]) / 2 for i in range(3)]
        pieces = []
        for axis, pos in view.slices:
            origin = list(centre)
            origin[axis] = pos
            pieces.append(ds.slice(normal=normals[axis], origin=origin))
    elif view.cut:
        axis, pos, side = view.cut
        origin = [(view.bounds[2 * i] + view.bounds[2 * i + 1]) / 2 for i in range(3)]
        origin[axis] = pos
        pieces = [_surface(ds.clip(normal=side * np.eye(3)[axis], origin=origin))]
    else:
        pieces = [_surface(ds)]
    pieces = [p for p in pieces if p.n_cells]
    if view.warp and "u" in ds.point_data.keys():
        pieces = [p.warp_by_vector("u", factor=view.warp) for p in pieces]
    return pieces


def _surface(ds: pv.DataSet) -> pv.PolyData:
    """Outer surface of a dataset (the dataset itself for surfaces)."""
    try:
        return ds.extract_surface(algorithm="dataset_surface")
    except TypeError:  # PyVista < 0.47
        return ds.extract_surface()


def _region_edges(surface: pv.PolyData) -> pv.PolyData | None:
    """Lines where regions meet on a surface (and the border of a flat surface)."""
    if surface.n_cells == 0:
        return None
    if "region" in surface.cell_data.keys():
        region = np.asarray(surface.cell_data["region"])
        patches = [_surface(surface.extract_cells(region == r)) for r in np.unique(region)]
    else:
        patches = [surface]
    edges = [
        patch.extract_feature_edges(
            boundary_edges=True, feature_edges=False, manifold_edges=False,
            non_manifold_edges=False, clear_data=True,
        )
        for patch in patches
    ]
    edges = [e for e in edges if e.n_cells]
    if not edges:
        return None
    return edges[0].merge(edges[1:]) if len(edges) > 1 else edges[0]


def _add_field(p: pv.Plotter, piece: pv.PolyData, view: _View, bar: bool) -> None:
    """Colour one surface by the field (or light grey when there is none)."""
    flat = view.dim == 2
    shading = {"lighting": not flat, "ambient": 0.35, "diffuse": 0.65, "specular": 0.0}
    f = view.field
    if f is None:
        p.add_mesh(piece, color="#d9d9d9", show_edges=True, edge_color="#7f7f7f", **shading)
        return
    kwargs = {
        "scalars": _SCALAR,
        "preference": "cell" if f.reduction == "region" else "point",
        "cmap": view.cmap,
        "clim": tuple(v / view.scale for v in view.clim),
        "log_scale": view.log,
        "show_scalar_bar": bar,
        "scalar_bar_args": _scalar_bar_args(view),
        "interpolate_before_map": True,
    }
    if f.reduction == "region":
        kwargs |= {"n_colors": len(view.cmap), "interpolate_before_map": False}
    if view.arrows and view.dim == 3 and not (view.cut or view.slices):
        kwargs["opacity"] = 0.35  # the arrows inside the body show through
    p.add_mesh(piece, **kwargs, **shading)
    if bar:
        _style_scalar_bar(p, view)


def _add_lines(p: pv.Plotter, lines: pv.PolyData | None, view: _View, *, halo: bool = False,
               **kwargs) -> None:
    """Draw a set of lines (region outlines, contours) if there are any; with ``halo``
    over a wider white line so that they show on dark and light colours alike."""
    if lines is None or not lines.n_cells:
        return
    if halo:
        width = 3 * kwargs.get("line_width", 1.0)
        p.add_mesh(_lift(lines, view), lighting=False, color="white", opacity=0.5,
                   line_width=width)
    p.add_mesh(_lift(lines, view, 4e-3 if halo else 2e-3), lighting=False, **kwargs)


def _contour_lines(piece: pv.PolyData, view: _View) -> pv.PolyData | None:
    """Iso-lines of the coloured field on a surface."""
    if not view.contours or view.field is None:
        return None
    levels = [v / view.scale for v in view.contours]
    return piece.contour(isosurfaces=levels, scalars=_SCALAR)


def _add_reference(p: pv.Plotter, ds: pv.UnstructuredGrid, view: _View) -> None:
    """Thin context lines: the bounding box in 3D, the undeformed shape when warped."""
    lw = max(1.0, view.window[1] / 900)
    if view.dim == 3:
        p.add_mesh(ds.outline(), color="#9a9a9a", line_width=lw, lighting=False)
    elif view.warp:
        _add_lines(p, _region_edges(_surface(ds)), view, color="#9a9a9a", line_width=lw)


def _draw(p: pv.Plotter, ds: pv.UnstructuredGrid, view: _View, time: float | None) -> None:
    """Draw one frame of a 2D or 3D result into ``p``."""
    ds = _attach_scalar(ds, view)
    lw = max(1.0, view.window[1] / 900)
    for i, piece in enumerate(_pieces(ds, view)):
        _add_field(p, piece, view, bar=i == 0)
        _add_lines(p, _region_edges(piece), view, color="#222222", line_width=lw)
        _add_lines(p, _contour_lines(piece, view), view, color="#1a1a1a", line_width=1.3 * lw,
                   halo=True)
    if view.arrows:
        glyphs = _arrow_glyphs(ds, view)
        if glyphs is not None:
            p.add_mesh(_lift(glyphs, view), color="black", lighting=view.dim == 3)
    _add_reference(p, ds, view)
    _add_labels(p, view, time)
    _set_camera(p, view)
