"""A progress bar of simulated time on an interactive terminal (tqdm)."""

from __future__ import annotations

import sys


def _progress_bar(total: float, enabled: bool):
    """A tqdm bar up to ``total`` seconds of simulated time, or None when not
    ``enabled`` or stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="s", unit_scale=True, leave=False, file=sys.stderr,
                bar_format="{l_bar}{bar}| t = {n:.3g}/{total:.3g} s [{elapsed}<{remaining}]")
