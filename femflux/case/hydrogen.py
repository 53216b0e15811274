"""Reading the hydrogen-in-metals pieces of a case (SPEC 6): ``[[trap]]``
entries (by index) and the checks of ``[[enclosure]]`` entries against the
boundaries."""

from __future__ import annotations

from ..errors import CaseError
from .expressions import Expression
from .pieces import _check_output_names, _check_species_name, _read_rate
from .schema import ONSAGER, TRAP_KEYS, Case, Trap
from .table import _Table, _unknown_species


def read_traps(entries: list[dict], case: Case) -> list[Trap]:
    """``[[trap]]`` entries (by index): McNabb-Foster traps of a mobile species."""
    traps, count = [], {}
    names = [s.name for s in case.species]
    taken = set(names)
    for index, entry in enumerate(entries):
        t = _Table(entry, TRAP_KEYS, f"trap {index}", f"trap.{index}")
        species = t.string("species")
        if species not in names:
            raise t.error("species", _unknown_species(species, names))
        if case.model.kind == ONSAGER:
            raise t.error("species", "traps are not available with model kind 'onsager'")
        count[species] = count.get(species, 0) + 1
        name = t.string("name", f"{species}_trap{count[species]}")
        _check_species_name(name)
        if name in taken:
            raise t.error("name", f"{name!r} is already a species or trap name")
        taken.add(name)
        mobile = case.species_by_name(species)
        traps.append(Trap(
            name=name, species=species,
            density=_read_density(t, case),
            trapping=_read_rate(t, "trapping"),
            detrapping=_read_rate(t, "detrapping"),
            initial=t.value("initial", 0.0, ge=0, static=True),
            regions=t.names("regions") or list(mobile.regions),
            equilibrium=t.boolean("equilibrium", False)))
        if traps[-1].equilibrium and t.has("initial"):
            case.warnings.append(
                f"trap {index}: initial has no effect with equilibrium = true (the trap "
                "starts in equilibrium with the initial mobile concentration)")
    _check_output_names([s.name for s in case.species] + [tr.name for tr in traps])
    return traps


def _read_density(t: _Table, case: Case):
    """A trap's density N (mol/m^3): a number >= 0 or an expression of x, y,
    z and, where the case solves elasticity, of the hydrostatic stress
    ``sigma_h`` (Pa)."""
    density = t.value("density", symbols=("x", "y", "z", "t", "sigma_h"), ge=0, static=True)
    if isinstance(density, Expression) and "sigma_h" in density.free_symbols \
            and not case.has_elasticity:
        raise t.error("density", "uses sigma_h, which needs [elasticity] (model kind "
                      "'stress-diffusion')")
    return density


def _gas_wall(b) -> tuple[str, object] | tuple[None, None]:
    """(key, table) of a boundary's exchange with a gas: ``surface_kinetics``,
    ``sieverts`` or ``henry``; (None, None) without one."""
    if b.surface_kinetics is not None:
        return "surface_kinetics", b.surface_kinetics
    if b.solubility_wall is not None:
        return b.solubility_wall.law, b.solubility_wall
    return None, None


def check_enclosures(case: Case) -> None:
    """Every enclosure's walls: named ``[[boundary]]`` entries with
    ``surface_kinetics``, ``sieverts`` or ``henry`` whose pressure is the
    enclosure (or, for surface kinetics, left out: then it becomes the
    enclosure); a wall of one enclosure only; a boundary whose pressure names
    an enclosure joins its walls.  Enclosures need a transient run (their gas
    and the walls exchange a fixed amount)."""
    if not case.enclosures:
        _check_pressures(case)
        return
    if case.solver.steady:
        raise CaseError(f"enclosure {case.enclosures[0].name!r} needs a transient run "
                        "([solver] steady = false)")
    boundaries = {b.name: b for b in case.boundaries}
    owner: dict[str, str] = {}
    for e in case.enclosures:
        for wall in e.boundaries:
            b = boundaries.get(wall)
            key, gas = _gas_wall(b) if b is not None else (None, None)
            if gas is None:
                raise CaseError(f"enclosure {e.name!r}: boundaries: {wall!r} needs a "
                                "[[boundary]] entry with surface_kinetics, sieverts or henry "
                                "(the wall's exchange with the gas)")
            left_out = gas.enclosure is None and not gas.pressure
            if gas.enclosure != e.name and not left_out:
                raise CaseError(f"boundary {wall!r}: {key}.pressure must be {e.name!r} or "
                                f"left out (the wall of enclosure {e.name!r})")
            if wall in owner:
                raise CaseError(f"enclosure {e.name!r}: boundary {wall!r} is already a wall "
                                f"of enclosure {owner[wall]!r}")
            gas.enclosure = e.name
            owner[wall] = e.name
    for b in case.boundaries:
        _, gas = _gas_wall(b)
        if gas is not None and gas.enclosure is not None and b.name not in owner:
            owner[b.name] = gas.enclosure
            next(e for e in case.enclosures if e.name == gas.enclosure).boundaries.append(b.name)
    _check_pressures(case)


def _check_pressures(case: Case) -> None:
    """A ``sieverts`` or ``henry`` wall needs its pressure (or an enclosure)."""
    for b in case.boundaries:
        wall = b.solubility_wall
        if wall is not None and wall.enclosure is None and wall.pressure is None:
            raise CaseError(f"boundary {b.name!r}: {wall.law}.pressure is required (Pa: a "
                            "number, an expression of x, y, z, t or an [[enclosure]] name)")
