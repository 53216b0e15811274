"""The unit of amounts in what a run writes: mol, or atoms when the case
says ``[model] concentration_unit = "atoms/m^3"`` (SPEC 6).  Every
concentration (mol/m^3 or atoms/m^3), flux and amount of a results folder is
in that unit; the labels of pictures and history columns say so while
:func:`amounts_in` is active (set by the plot entry points from the
folder's ``case.toml``)."""

from __future__ import annotations

import functools
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_AMOUNT: ContextVar[str] = ContextVar("femflux_amount", default="mol")


def amount_unit() -> str:
    """"mol" or "atoms": the unit of amounts in the labels being drawn."""
    return _AMOUNT.get()


@contextmanager
def amounts_in(unit: str):
    """Labels drawn inside the block say ``unit`` ("mol" or "atoms")."""
    token = _AMOUNT.set(unit)
    try:
        yield
    finally:
        _AMOUNT.reset(token)


def folder_amount(source) -> str:
    """"atoms" when ``source`` (a results folder, or a file in one) holds a
    case.toml with concentration_unit = "atoms/m^3", else "mol"."""
    if not isinstance(source, (str, Path)):
        return "mol"
    path = Path(source)
    folder = path if path.is_dir() else path.parent
    try:
        model = tomllib.loads((folder / "case.toml").read_text()).get("model", {})
    except (OSError, ValueError):
        return "mol"
    return "atoms" if model.get("concentration_unit") == "atoms/m^3" else "mol"


def labelled_by_source(draw):
    """Decorator of a drawing function whose first argument is a results
    folder (or a file in one): its labels take the folder's amount unit."""

    @functools.wraps(draw)
    def wrapper(source, *args, **kwargs):
        with amounts_in(folder_amount(source)):
            return draw(source, *args, **kwargs)

    return wrapper
