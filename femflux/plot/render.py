"""Plotters and files: off-screen rendering, a white anti-aliased plotter,
the pixels of a matplotlib figure, and writing pictures (PNG) with
one-line errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

if TYPE_CHECKING:
    import pyvista as pv
    from matplotlib.figure import Figure


def _off_screen(out: Any) -> bool:
    """Render off-screen when writing a file or when there is no display."""
    import pyvista as pv

    if out is not None or pv.OFF_SCREEN:
        return True
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.platform.startswith("linux") and no_display


def _new_plotter(window: tuple[int, int], off_screen: bool, shape=(1, 1)) -> pv.Plotter:
    """A white, anti-aliased plotter of the given pixel size."""
    import pyvista as pv

    if off_screen and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        from vtkmodules.vtkCommonCore import vtkLogger

        # VTK warns about the missing X server before falling back to EGL/OSMesa
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)
    p = pv.Plotter(off_screen=off_screen, window_size=list(window), shape=shape, border=False)
    p.set_background("white", all_renderers=True)
    p.enable_anti_aliasing("msaa", multi_samples=8)
    from vtkmodules.vtkRenderingCore import vtkMapper

    vtkMapper.SetResolveCoincidentTopologyToPolygonOffset()  # lines drawn on surfaces show
    return p


def _figure_pixels(fig: Figure) -> np.ndarray:
    """RGB pixels of a matplotlib figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _prepare_out(out: str | Path) -> Path:
    """The output path, with its folder created."""
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CaseError(f"{path}: cannot create the folder ({exc})") from exc
    return path


def _save_screenshot(p: pv.Plotter, out: str | Path) -> None:
    """Write the plotter's picture as a PNG (or any image format PyVista knows)."""
    path = _prepare_out(out)
    try:
        p.screenshot(str(path))
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot write the picture ({exc})") from exc


def _save_figure(fig: Figure, out: str | Path) -> None:
    """Write a matplotlib figure at its exact pixel size."""
    import imageio.v3 as iio

    path = _prepare_out(out)
    try:
        iio.imwrite(path, _figure_pixels(fig))
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot write the picture ({exc})") from exc
