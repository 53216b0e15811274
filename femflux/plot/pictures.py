"""``plot_result``: the picture of a results folder, VTK file, series or
dataset (PyVista for 2D and 3D, matplotlib for 1D); mesh sources go to
``plot_mesh``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results.units import labelled_by_source
from .drawing import _draw
from .lines import _line_figure
from .loading import _is_mesh_source, _load_result
from .mesh_pictures import plot_mesh
from .render import _new_plotter, _off_screen, _save_figure, _save_screenshot
from .view import _make_view, _Options

if TYPE_CHECKING:
    import pyvista as pv
    from matplotlib.figure import Figure


@labelled_by_source
def plot_result(
    source: Any,
    field: str | None = None,
    out: str | Path | None = None,
    *,
    slice_axis: str | None = None,
    clip: bool | None = None,
    warp: float | bool | str | None = None,
    contours: int | None = None,
    log: bool = False,
    camera: str = "iso",
    window: tuple[int, int] = (1200, 900),
    arrows: bool = True,
    summary: dict | None = None,
) -> pv.Plotter | Figure:
    """Picture of a femflux result.

    Parameters
    ----------
    source
        A results folder (its ``solution.vtu``; ``summary.json`` gives region
        names and time), a ``.vtu``/``.vtk`` file (a ``step_NNNNN.vtu`` gets its
        time from ``series.pvd``), a ``.pvd`` series (its last frame), a PyVista
        dataset, or a mesh file / :class:`~femflux.mesh.FemMesh` / scikit-fem
        mesh (then :func:`plot_mesh` draws its tags).
    field
        Array to show; default the first species (else ``phi``, ``von_mises``,
        ...).  Vectors (``u``, ``J_*``) are coloured by magnitude, the stress
        tensor ``sigma`` by von Mises; components are ``u_x``, ``J_K_y``,
        ``sigma_xy``.  ``region`` colours the regions by name.
    out
        PNG written at exactly ``window`` pixels (rendering is off-screen).
    slice_axis
        3D only: ``"x"``, ``"y"``, ``"z"`` (one slice through the centre) or
        ``"xyz"`` (three orthogonal slices).
    clip
        3D only: cut half of the body away (along a plane containing the
        longest axis, facing the camera) so the inside shows.  ``None`` (the
        default) clips unless slices are asked for; ``False`` shows the
        whole outer surface.
    warp
        Deformation scale when ``u`` exists: ``None``/``True``/``"auto"`` make
        the largest displacement 10 % of the size (a 1-2-5 factor, written in
        the picture), a number is the factor, ``0``/``False`` switch it off.
    contours
        Number of iso-lines drawn on the coloured surfaces (``phi`` gets 10 by
        default, other fields none).
    log
        Logarithmic colour scale (non-positive values are clipped).
    camera
        ``"iso"``, ``"x"``, ``"y"`` or ``"z"`` (the direction the camera looks
        from).  2D results are always flat maps seen from +z.
    window
        Picture size in pixels (width, height).
    arrows
        Draw the arrows of flux fields ``J_*`` (in-plane part on cuts and slices).
    summary
        summary.json contents, for region names and time when ``source`` is a
        dataset.

    Returns
    -------
    pyvista.Plotter | matplotlib.figure.Figure
        The plotter (still open: call ``show()`` or ``close()``) for 2D and
        3D results; a matplotlib Figure for 1D results (line graphs against
        x in m, all species together with ``phi`` on a second axis by default).

    Raises
    ------
    CaseError
        Missing path, unreadable file, absent field or bad option.
    """
    if _is_mesh_source(source):
        return plot_mesh(source, out=out, window=window)
    opts = _Options(slice_axis, clip, warp, contours, log, camera, window, arrows)
    ds, meta = _load_result(source, summary)
    view = _make_view([ds], meta, field, opts)
    if view.dim == 1:
        fig = _line_figure(ds, view, meta.time)
        if out is not None:
            _save_figure(fig, out)
        return fig
    p = _new_plotter(opts.window, _off_screen(out))
    _draw(p, ds, view, meta.time)
    if out is not None:
        _save_screenshot(p, out)
    return p
