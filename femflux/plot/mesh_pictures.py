"""``plot_mesh``: the named boundaries and regions of a mesh, one colour
each (see ``tag_colors``), with a legend of their sizes, so that users can
check their tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.results.vtk import points_3d, to_pyvista

from .annotations import _add_text, _font
from .camera import _CAMERAS, _fit, _middle_axis, _size
from .colors import _rgb, tag_colors
from .drawing import _surface
from .loading import _as_fem_mesh
from .render import _new_plotter, _off_screen, _save_screenshot
from .view import _window

if TYPE_CHECKING:
    import pyvista as pv


def _facet_polydata(mesh: Any, facets: np.ndarray) -> pv.PolyData:
    """The facets of a mesh as points (1D), lines (2D) or polygons (3D)."""
    import pyvista as pv

    points = points_3d(mesh)
    f = np.asarray(mesh.facets)[:, np.asarray(facets, dtype=int)]
    if f.shape[0] == 1:
        return pv.PolyData(points[f[0]])
    if f.shape[0] == 4:
        f = _cyclic_quads(points, f)
    cells = np.column_stack([np.full(f.shape[1], f.shape[0]), f.T]).ravel()
    if f.shape[0] == 2:
        return pv.PolyData(points, lines=cells)
    return pv.PolyData(points, faces=cells)


def _cyclic_quads(points: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Quadrilateral facets reordered around their perimeter (scikit-fem may sort them)."""
    orders = np.array([[0, 1, 2, 3], [0, 1, 3, 2], [0, 2, 1, 3]])
    perimeters = []
    for order in orders:
        q = points[f[order]]  # (4, n, 3)
        perimeters.append(np.linalg.norm(q - np.roll(q, -1, axis=0), axis=2).sum(axis=0))
    best = orders[np.argmin(perimeters, axis=0)]  # (n, 4)
    return np.take_along_axis(f, best.T, axis=0)


def plot_mesh(source: Any, out: str | Path | None = None, window=(1200, 900)) -> pv.Plotter:
    """Picture of the named boundaries and regions of a mesh, for checking tags.

    ``source`` is a mesh file (read with :func:`femflux.mesh.read_mesh`), a
    :class:`~femflux.mesh.FemMesh` or a scikit-fem mesh.  Every tag has its own
    colour (see :func:`tag_colors`) and a legend entry with its size.  1D and
    2D: regions are light fills showing the elements, boundaries thick lines
    (2D) or dots (1D).  3D: three views -- the regions cut open (light,
    opaque tints) and the boundary surfaces (opaque, strong colours) seen from
    +x+y+z and from -x-y-z; untagged outer faces are pale grey.  Writes a PNG
    of ``window`` pixels when ``out`` is given; returns the (open) plotter.
    """
    window = _window(window)
    fem = _as_fem_mesh(source)
    grid = to_pyvista(fem)
    colors = tag_colors(fem)
    off_screen = _off_screen(out)
    if fem.dim == 3:
        p = _mesh_views_3d(fem, grid, colors, window, off_screen)
    else:
        p = _new_plotter(window, off_screen)
        _draw_tags_flat(p, fem, grid, colors)
        _add_legend(p, _legend_entries(fem, colors), window, 0.71 * window[0], 0.95 * window[1])
        _fit(p, grid.bounds, "z", right=0.3, top=0.02, bottom=0.02)
    if out is not None:
        _save_screenshot(p, out)
    return p


def _draw_tags_flat(p: pv.Plotter, fem: Any, grid: pv.UnstructuredGrid, colors) -> None:
    """Regions as light fills with element edges, boundaries as thick lines or dots."""
    lw = max(1.0, p.window_size[1] / 900)
    lift = (0, 0, 2e-3 * _size(grid.bounds))
    for name, elements in fem.regions.items():
        part = grid.extract_cells(np.asarray(elements, dtype=int))
        p.add_mesh(part, color=colors[f"region {name}"], lighting=False,
                   show_edges=fem.dim == 2, edge_color="#a6a6a6", line_width=0.6 * lw)
        if fem.dim == 1:  # a thick band for each region
            p.add_mesh(part, color=colors[f"region {name}"], line_width=14 * lw, lighting=False)
    for name, facets in fem.boundaries.items():
        poly = _facet_polydata(fem.mesh, facets).translate(lift, inplace=False)
        if fem.dim == 2:
            p.add_mesh(poly, color=colors[f"boundary {name}"], line_width=6 * lw,
                       render_lines_as_tubes=True, lighting=False)
        else:
            p.add_mesh(poly, color=colors[f"boundary {name}"], point_size=22 * lw,
                       render_points_as_spheres=True, lighting=False)


def _mesh_views_3d(fem: Any, grid: pv.UnstructuredGrid, colors, window, off_screen: bool):
    """Three views of a 3D mesh: regions cut open, boundaries from the front and back."""
    p = _new_plotter(window, off_screen, shape=(2, 2))
    w, h = window[0] // 2, window[1] // 2
    size = _font(window, 19)
    bounds = grid.bounds
    p.subplot(0, 0)
    axis = _middle_axis(bounds)
    origin = [(bounds[2 * i] + bounds[2 * i + 1]) / 2 for i in range(3)]
    lw = max(1.0, window[1] / 900)
    for name, elements in fem.regions.items():
        part = grid.extract_cells(np.asarray(elements, dtype=int))
        cut = _surface(part.clip(normal=np.eye(3)[axis], origin=origin))
        if cut.n_cells:
            p.add_mesh(cut, color=colors[f"region {name}"], show_edges=True,
                       edge_color="#8c8c8c", line_width=0.5 * lw, ambient=0.75, diffuse=0.25,
                       specular=0.0)
    p.add_mesh(grid.outline(), color="#9a9a9a", line_width=lw, lighting=False)
    _fit(p, bounds, "iso", top=0.1, size_px=(w, h))
    _add_text(p, "regions, cut open", 0.04 * w, h - 1.6 * size, size, "#444444")
    exterior = _surface(grid)
    for row, col, camera, title in ((0, 1, "iso", "boundaries from +x +y +z"),
                                    (1, 1, "back", "boundaries from −x −y −z")):
        p.subplot(row, col)
        p.add_mesh(exterior, color="#ececec", ambient=0.5, diffuse=0.5, specular=0.0)
        lift = np.asarray(_CAMERAS[camera][0], dtype=float) * 2e-3 * _size(bounds)
        for name, facets in fem.boundaries.items():
            poly = _facet_polydata(fem.mesh, facets).translate(tuple(lift), inplace=False)
            p.add_mesh(poly, color=colors[f"boundary {name}"], show_edges=True,
                       edge_color="#4d4d4d", line_width=0.5 * lw, ambient=0.75, diffuse=0.25,
                       specular=0.0)
        _fit(p, bounds, camera, top=0.1, size_px=(w, h))
        _add_text(p, title, 0.04 * w, h - 1.6 * size, size, "#444444")
    p.subplot(1, 0)
    _add_legend(p, _legend_entries(fem, colors), window, 0.06 * w, 0.92 * h)
    return p


def _legend_entries(fem: Any, colors: dict[str, str]) -> list[tuple[str, str]]:
    """(text, colour) of every tag, regions first, with their sizes."""
    entries = []
    for name, elements in fem.regions.items():
        n = len(elements)
        entries.append((f"{name}  (region, {n} cell{'s' * (n != 1)})", colors[f"region {name}"]))
    for name, facets in fem.boundaries.items():
        n = len(facets)
        text = f"{name}  (boundary, {n} facet{'s' * (n != 1)})"
        entries.append((text, colors[f"boundary {name}"]))
    return entries


def _add_legend(p: pv.Plotter, entries, window, x: float, top: float) -> None:
    """Colour swatches and names in a column starting at pixel (x, top)."""
    from vtkmodules.vtkCommonCore import vtkPoints, vtkUnsignedCharArray
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor2D, vtkPolyDataMapper2D

    size = _font(window, 18)
    step = 1.7 * size
    size = max(8, round(size * min(1.0, top / (step * max(len(entries), 1)))))  # many tags
    step = 1.7 * size
    points, quads, rgb = vtkPoints(), vtkCellArray(), vtkUnsignedCharArray()
    rgb.SetNumberOfComponents(3)
    for k, (text, color) in enumerate(entries):
        y = top - (k + 1) * step
        for dx, dy in ((0, 0), (size, 0), (size, size), (0, size)):
            points.InsertNextPoint(x + dx, y + dy - 0.1 * size, 0)
        quads.InsertNextCell(4, tuple(range(4 * k, 4 * k + 4)))
        rgb.InsertNextTypedTuple([round(255 * c) for c in _rgb(color)])
        _add_text(p, text, x + 1.5 * size, y, size)
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(quads)
    poly.GetCellData().SetScalars(rgb)
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.SetColorModeToDirectScalars()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    p.add_actor(actor, reset_camera=False, pickable=False)
