"""``animate``: a GIF or MP4 of a transient series, every frame drawn like
``plot_result`` with one colour range, warp factor and camera.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from femflux.errors import CaseError

from ..results.units import labelled_by_source
from .drawing import _draw
from .lines import _line_figure
from .loading import _frame_time, _meta, _read_grid, _read_summary, _series
from .render import _figure_pixels, _new_plotter, _prepare_out
from .view import _make_view, _Options

if TYPE_CHECKING:
    import pyvista as pv

    from .view import _View


@labelled_by_source
def animate(
    directory: str | Path,
    field: str | None,
    out: str | Path,
    *,
    fps: float = 10,
    window: tuple[int, int] = (1000, 750),
    **options: Any,
) -> Path:
    """Animation of a transient results folder (its series.pvd or step_*.vtu).

    Every frame is drawn like :func:`plot_result` (``options`` are its keyword
    options: slice_axis, clip, warp, contours, log, camera, arrows) with one
    colour range, warp factor and camera for the whole series, and the time
    ``t = 1.23e-03 s`` in a corner.  1D series animate the line graph.

    ``out`` ending in ``.gif`` is written with imageio; ``.mp4`` needs the
    ``imageio-ffmpeg`` package.  Returns the path written.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise CaseError(f"{path}: animations are written as .gif or .mp4")
    if suffix == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as exc:
            raise CaseError(
                f"{path}: writing .mp4 needs imageio-ffmpeg (pip install imageio-ffmpeg), "
                "or write a .gif"
            ) from exc
    if not fps > 0:
        raise CaseError(f"fps must be > 0, not {fps!r}")
    unknown = set(options) - {"slice_axis", "clip", "warp", "contours", "log", "camera", "arrows"}
    if unknown:
        raise CaseError(f"unknown animation option(s): {', '.join(sorted(unknown))}")
    opts = _Options(window=window, **options)
    frames = _series(directory)
    folder = frames[0][1].parent
    meta = _meta(_read_summary(folder), frames[0][1].name)
    view = _make_view([f for _, f in frames], meta, field, opts)
    images = [_frame_image(_read_grid(f), view, _frame_time(f, t)) for t, f in frames]
    _write_movie(_prepare_out(path), images, fps)
    return path


def _frame_image(ds: pv.UnstructuredGrid, view: _View, time: float | None) -> np.ndarray:
    """RGB pixels of one animation frame."""
    if view.dim == 1:
        return _figure_pixels(_line_figure(ds, view, time))
    p = _new_plotter(view.window, True)
    try:
        _draw(p, ds, view, time)
        return np.asarray(p.screenshot(return_img=True))[..., :3]
    finally:
        p.close()


def _write_movie(path: Path, images: list[np.ndarray], fps: float) -> None:
    """Write frames as a looping GIF or an H.264 MP4."""
    import imageio.v2 as imageio
    import imageio.v3 as iio

    try:
        if path.suffix.lower() == ".gif":  # encoded in memory: a failing file leaves no writer
            data = iio.imwrite("<bytes>", np.stack(images), extension=".gif",
                               duration=1000 / fps, loop=0)
            path.write_bytes(data)
        else:
            open(path, "ab").close()  # a path that cannot be written fails here, not in ffmpeg
            imageio.mimwrite(path, images, fps=fps, macro_block_size=2)
    except (OSError, ValueError, RuntimeError) as exc:
        raise CaseError(f"{path}: cannot write the animation ({exc})") from exc
