"""Colours: the colour map of each kind of field and the categorical
colours of regions and mesh tags (``tag_colors``).
"""

from __future__ import annotations

from typing import Any

_COLORMAPS = {
    "species": "viridis",
    "mu": "cividis",
    "flux": "viridis",
    "displacement": "viridis",
    "phi": "coolwarm",
    "signed": "RdBu_r",
    "stress": "plasma",
}
_CENTRED = {"phi", "signed"}  # diverging maps, centred on 0 when the range spans 0


def _region_colors(n: int) -> list[str]:
    """``n`` distinct categorical colours (hex)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    base = [to_hex(c) for name in ("tab10", "Dark2", "tab20b") for c in colormaps[name].colors]
    colors = list(dict.fromkeys(base))
    while len(colors) < n:  # golden-angle hues for very many tags
        k = len(colors)
        colors.append(_hsv_hex((k * 0.618034) % 1.0, 0.65, 0.85))
    return colors[:n]


def _hsv_hex(h: float, s: float, v: float) -> str:
    from matplotlib.colors import hsv_to_rgb, to_hex

    return to_hex(hsv_to_rgb((h, s, v)))


def _lighten(color: str, alpha: float) -> str:
    """``color`` seen with opacity ``alpha`` over white."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([alpha * c + (1 - alpha) for c in to_rgb(color)])


def _rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


def tag_colors(fem_mesh: Any) -> dict[str, str]:
    """Colours of :func:`plot_mesh`: ``"region <name>"`` / ``"boundary <name>"`` -> hex.

    Boundaries get strong categorical colours; regions get light tints of
    other hues (what a semi-transparent region looks like over white).  All
    colours are distinct.
    """
    boundaries = list(getattr(fem_mesh, "boundaries", {}) or {})
    regions = list(getattr(fem_mesh, "regions", {}) or {})
    palette = _region_colors(len(boundaries) + len(regions))
    colors = {f"boundary {b}": palette[i] for i, b in enumerate(boundaries)}
    start = len(boundaries)
    for i, r in enumerate(regions):
        colors[f"region {r}"] = _lighten(palette[start + i], 0.45)
    return colors
