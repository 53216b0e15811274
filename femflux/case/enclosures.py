"""Checks of ``[[enclosure]]`` entries against the boundaries (SPEC 6)."""

from __future__ import annotations

from ..errors import CaseError
from .schema import Case


def check_enclosures(case: Case) -> None:
    """Every enclosure's walls: named ``[[boundary]]`` entries with
    ``surface_kinetics`` whose pressure is the enclosure (or left out: then
    it becomes the enclosure); a wall of one enclosure only; a boundary whose
    pressure names an enclosure joins its walls.  Enclosures need a transient
    run (their gas and the walls exchange a fixed amount)."""
    if not case.enclosures:
        return
    if case.solver.steady:
        raise CaseError(f"enclosure {case.enclosures[0].name!r} needs a transient run "
                        "([solver] steady = false)")
    boundaries = {b.name: b for b in case.boundaries}
    owner: dict[str, str] = {}
    for e in case.enclosures:
        for wall in e.boundaries:
            b = boundaries.get(wall)
            if b is None or b.surface_kinetics is None:
                raise CaseError(f"enclosure {e.name!r}: boundaries: {wall!r} needs a "
                                "[[boundary]] entry with surface_kinetics (the wall's exchange "
                                "with the gas)")
            sk = b.surface_kinetics
            if sk.enclosure not in (None, e.name) or (sk.enclosure is None and sk.pressure):
                raise CaseError(f"boundary {wall!r}: surface_kinetics.pressure must be "
                                f"{e.name!r} or left out (the wall of enclosure {e.name!r})")
            if wall in owner:
                raise CaseError(f"enclosure {e.name!r}: boundary {wall!r} is already a wall "
                                f"of enclosure {owner[wall]!r}")
            sk.enclosure = e.name
            owner[wall] = e.name
    for b in case.boundaries:
        sk = b.surface_kinetics
        if sk is not None and sk.enclosure is not None and b.name not in owner:
            owner[b.name] = sk.enclosure
            next(e for e in case.enclosures if e.name == sk.enclosure).boundaries.append(b.name)
