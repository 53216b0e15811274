"""Reading a case: :func:`load_case` and the :class:`_CaseReader` (TOML -> :class:`Case`).

Owns the reading of the source (a TOML file or a dict), the order in which the
sections are read (overrides first, cross-checks of :mod:`.checks` last) and
each section's keys, types, ranges and defaults.

``load_case(source, overrides=None) -> Case``: ``source`` is a path to a TOML
file or a dict of the same structure; ``overrides`` maps dotted keys to values
(``{"solver.t_end": 2.0, "boundary.right.potential": 0.1}``) or is a list of
``"KEY=VALUE"`` strings whose VALUE is read as TOML (the CLI's ``--set``, see
:mod:`.overrides`).

Numbers that may be expressions (SPEC: "Any number here may instead be an
expression of t (s) and x, y, z (m)") are stored as :class:`Expression`
objects (see :mod:`.expressions`); plain numbers, and expressions without
symbols such as ``"2*3"``, as ``float``.

What downstream code may rely on after ``load_case``
----------------------------------------------------
- every species has a valid, unique name; every name that a table refers to
  (boundary/region tables, reactions, Butler-Volmer, interactions, c_0) exists;
- ``Species.diffusivity`` is set (D = M R T from ``mobility``) wherever the
  model uses it;
- ``Case.electrostatics`` is set (defaults filled in) for kind
  nernst-planck-poisson and for stress-diffusion with an ``[electrostatics]``
  section, ``Case.elasticity`` for stress-diffusion and for
  nernst-planck-poisson with an ``[elasticity]`` section (``has_electrostatics``,
  ``has_elasticity``); ``thermo`` and ``transport`` for onsager; the others are
  None; ``Thermo.interactions`` keys are sorted species pairs;
- ``ModelSpec.gravity`` (one entry per dimension, None if not given) never
  comes with onsager, and is 0 in x on axisymmetric meshes and 0 with 1D
  radial symmetry;
- ``Boundary.displacement`` entries are None where "free"; ``Boundary.traction``
  has 0.0 where "free" (traction-free); at most one condition per boundary and
  species / potential / displacement component;
- ``Case.raw`` is the case as run (TOML types only; ``mesh.file`` absolute).
Overrides: a value None (Python API) removes the key; setting ``mesh.file``
drops ``mesh.generate`` (and vice versa), ``diffusivity`` drops ``mobility``.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tomllib
from pathlib import Path

from scipy.constants import R as GAS_CONSTANT

from ..errors import CaseError, clip
from .checks import _check_case, _without
from .hydrogen import check_enclosures, read_traps
from .overrides import _plain, apply_overrides
from .physics_sections import PhysicsSections
from .pieces import (
    _check_ambiguous_names,
    _check_boundary_exclusions,
    _check_output_names,
    _check_species_name,
    _read_activity,
    _read_enclosure,
    _read_generate,
    _read_mass_transfer,
    _read_rate,
    _read_reaction,
    _read_solubility,
    _read_solubility_wall,
    _read_surface_kinetics,
    _read_temperature,
)
from .schema import (
    BOUNDARY_KEYS,
    BUTLER_VOLMER_KEYS,
    CONCENTRATION_UNITS,
    ELECTRIC_CONDITIONS,
    ENCLOSURE_KEYS,
    GENERATE_KEYS,
    GRAVITY_KINDS,
    MAX_CHARGE,
    MECHANICAL_CONDITIONS,
    MESH_KEYS,
    MIN_DT_FRACTION,
    MODEL_KEYS,
    MODEL_KINDS,
    MODEL_SECTIONS,
    OUTPUT_KEYS,
    PRESET_SECTION,
    REACTION_KEYS,
    REGION_KEYS,
    SOLVER_KEYS,
    SPECIES_KEYS,
    SYMMETRIES,
    TOP_KEYS,
    Boundary,
    ButlerVolmer,
    Case,
    MeshSpec,
    ModelSpec,
    OutputSpec,
    Reaction,
    Region,
    SolverSpec,
    Species,
    SurfaceKinetics,
    Trap,
)
from .sweep import check_sweep, read_sweep, sweep_warning
from .table import _REQUIRED, _show, _Table, _unknown_species


def load_case(source: str | os.PathLike | dict, overrides=None) -> Case:
    """Read and validate a case (SPEC section 2).

    Parameters
    ----------
    source : path or dict
        A TOML case file, or a dict of the same structure (then ``mesh.file``
        is relative to the working directory).
    overrides : dict or list of str, optional
        ``{"solver.t_end": 2.0, "species.K.diffusivity": 2e-9}`` or the CLI's
        ``["solver.t_end=2.0", ...]`` (VALUE read as TOML, else a bare string).
        ``[[species]]``, ``[[region]]`` and ``[[boundary]]`` entries are
        addressed by name, ``[[reaction]]`` entries by 0-based index.

    Returns
    -------
    Case
        Validated; ``raw`` holds the case as run (after overrides, with
        ``mesh.file`` made absolute) and ``warnings`` the keys without effect.

    Raises
    ------
    CaseError
        One line naming the key, value or file at fault.
    """
    try:
        raw, path, folder = _read_source(source)
        apply_overrides(raw, overrides)
        _check_text(raw)
        return _CaseReader(raw, path, folder).read()
    except RecursionError:
        raise CaseError(
            "the case is nested too deeply (or a table or list contains itself)"
        ) from None


def _check_text(value, where: str = "") -> None:
    """Every key and string of ``value`` is Unicode text that can be written
    to case.toml (no lone surrogates, e.g. from undecodable bytes on a
    command line)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            inner = f"{where}.{clip(key, 60)}" if where else clip(key, 60)
            _check_text(item, inner if isinstance(key, str) else where)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = f"{where}: " if where else ""
            raise CaseError(
                f"{shown}{clip(repr(value))} is not valid Unicode text (a lone surrogate)"
            ) from None


def _read_source(source) -> tuple[dict, Path | None, Path]:
    """The case as a plain dict, the case file (or None) and the folder of relative paths."""
    if isinstance(source, dict):
        return _plain(copy.deepcopy(source)), None, Path.cwd()
    if not isinstance(source, str | os.PathLike):
        raise CaseError(f"a case is a TOML file or a dict (got {type(source).__name__})")
    try:
        path = Path(source)
    except TypeError:  # a PathLike of bytes
        raise CaseError(f"a case file path must be text (got {clip(repr(source))})") from None
    if "\0" in os.fspath(path):
        raise CaseError(f"case file {clip(repr(os.fspath(path)))}: a path cannot contain NUL")
    try:
        with open(path, "rb") as stream:
            raw = tomllib.load(stream)
    except RecursionError:
        raise CaseError(f"case file '{path}' is nested too deeply to read") from None
    except FileNotFoundError:
        raise CaseError(f"case file '{path}' not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"case file '{path}' is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CaseError(f"case file '{path}' cannot be read: {exc}") from None
    return raw, path.resolve(), path.resolve().parent


# =============================================================================
# The reader: TOML dict -> Case
# =============================================================================


_PROBE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _CaseReader(PhysicsSections):
    """Reads one case dict section by section; cross-checks follow in ``_check_case``."""

    def __init__(self, raw: dict, path: Path | None, folder: Path):
        self.root = _Table(raw, TOP_KEYS)
        self.folder = folder
        self.case = Case(path=path, raw=copy.deepcopy(raw))

    @property
    def kind(self) -> str:
        return self.case.model.kind

    @property
    def names(self) -> list[str]:
        return self.case.species_names

    def read(self) -> Case:
        case = self.case
        case.title = self.root.string("title", "")
        case.model = self.read_model()
        self.reject_foreign_sections()
        case.mesh = self.read_mesh()
        case.species = self.read_species()
        case.electrostatics = self.read_electrostatics()
        case.elasticity = self.read_elasticity()
        case.thermo = self.read_thermo()
        case.transport = self.read_transport()
        case.regions = self.read_entries("region", REGION_KEYS, self.read_region)
        case.reactions = self.read_reactions()
        case.traps = self.read_traps()
        _check_ambiguous_names(case)
        case.enclosures = self.read_entries("enclosure", ENCLOSURE_KEYS, _read_enclosure)
        case.boundaries = self.read_entries("boundary", BOUNDARY_KEYS, self.read_boundary)
        case.solver = self.read_solver()
        check_enclosures(case)
        case.output = self.read_output()
        _check_case(case)
        if case.solver.steady and "checkpoint_every" in self.root.data.get("output", {}):
            case.warnings.append("[output] checkpoint_every has no effect in a steady run")
        if case.mesh.file is not None:
            case.raw["mesh"]["file"] = case.mesh.file.as_posix()
        if "sweep" in self.root.data:
            case.sweep = read_sweep(self.root.data["sweep"])
            check_sweep(case, case.sweep)
            case.warnings.append(sweep_warning(case.sweep))
        return case

    # -- sections ------------------------------------------------------------------
    def section(self, name: str, known, required: bool = False) -> _Table:
        if name not in self.root.data:
            if required:
                raise CaseError(f"[{name}] is required")
            return _Table({}, known, f"[{name}]", name)
        value = self.root.data[name]
        if not isinstance(value, dict):
            raise CaseError(f"[{name}] must be a table (got {_show(value)})")
        return _Table(value, known, f"[{name}]", name)

    def entries(self, section: str) -> list[dict]:
        value = self.root.get(section, [])
        if isinstance(value, dict):
            raise CaseError(f"[{section}] must be an array of tables: write [[{section}]]")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise CaseError(f"[[{section}]] entries must be tables")
        return value

    def read_entries(self, section: str, known, read_one) -> list:
        """Every named ``[[section]]`` entry, read by ``read_one(table, name)``."""
        result, seen = [], set()
        for index, entry in enumerate(self.entries(section)):
            name = entry.get("name")
            if name is None:
                raise CaseError(f"[[{section}]] entry {index + 1} has no name")
            if not isinstance(name, str) or not name:
                raise CaseError(f"[[{section}]] entry {index + 1}: name must be a string")
            if name in seen:
                raise CaseError(f"{section} {name!r} is defined twice")
            seen.add(name)
            result.append(
                read_one(_Table(entry, known, f"{section} {name!r}", f"{section}.{name}"), name)
            )
        return result

    def reject_foreign_sections(self) -> None:
        for section, kinds in MODEL_SECTIONS.items():
            if section in self.root.data and self.kind not in kinds:
                raise CaseError(f"[{section}] is not used by model kind {self.kind!r}")

    def has_physics(self, section: str) -> bool:
        """[electrostatics] / [elasticity]: the preset's own physics, or the section is given.

        Called after :meth:`reject_foreign_sections`, so a given section fits the kind.
        """
        return PRESET_SECTION.get(self.kind) == section or section in self.root.data

    def read_model(self) -> ModelSpec:
        if "model" not in self.root.data:
            raise CaseError(f"[model] is required, with kind = {' | '.join(MODEL_KINDS)}")
        t = self.section("model", MODEL_KEYS)
        if not t.has("kind"):
            raise CaseError(f"[model] kind is required ({' | '.join(MODEL_KINDS)})")
        kind = t.choice("kind", _REQUIRED, MODEL_KINDS)
        temperature, program = _read_temperature(t, kind)
        gravity = self.gravity(t, kind)
        if program is not None and gravity is not None:
            raise t.error("temperature", "as an expression of t cannot combine with gravity")
        return ModelSpec(
            kind=kind,
            temperature=temperature,
            temperature_program=program,
            reference_concentration=t.number("reference_concentration", 1000.0, gt=0),
            gravity=gravity,
            concentration_unit=t.choice("concentration_unit", "mol/m^3", CONCENTRATION_UNITS),
        )

    def gravity(self, t: _Table, kind: str) -> list[float] | None:
        """``[model] gravity = [gx, gy, gz]`` (m/s^2): plain numbers, one per dimension."""
        if not t.has("gravity"):
            return None
        if kind not in GRAVITY_KINDS:
            raise t.error("gravity", f"is not used by model kind {kind!r}")
        values = t.get("gravity")
        if isinstance(values, list) and not 1 <= len(values) <= 3:
            raise t.error("gravity", f"needs one entry per dimension (got {len(values)})")
        return t.numbers("gravity")

    def read_mesh(self) -> MeshSpec:
        t = self.section("mesh", MESH_KEYS, required=True)
        if t.has("file") == t.has("generate"):
            given = "both" if t.has("file") else "neither"
            raise CaseError(f"[mesh] needs exactly one of file or generate (got {given})")
        spec = MeshSpec(
            scale=t.number("scale", 1.0, gt=0),
            axisymmetric=t.boolean("axisymmetric", False),
            symmetry=t.choice("symmetry", "planar", SYMMETRIES),
        )
        if spec.axisymmetric and spec.symmetry != "planar":
            raise CaseError(
                f"[mesh] axisymmetric (2D) and symmetry = {spec.symmetry!r} (1D) exclude each other"
            )
        if t.has("file"):
            spec.file = self.mesh_file(t)
        else:
            spec.generate = _read_generate(t.table("generate", GENERATE_KEYS), spec)
        return spec

    def mesh_file(self, t: _Table) -> Path:
        text = t.string("file")
        if not text.strip():
            raise t.error("file", "is empty")
        if "\0" in text:
            raise t.error("file", f"{clip(repr(text))} cannot contain NUL")
        try:
            path = (self.folder / Path(text).expanduser()).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise t.error("file", f"{clip(repr(text))} cannot be resolved ({exc})") from None
        if not path.is_file():
            raise CaseError(f"[mesh] file '{text}' not found (looked for {path})")
        return path

    def read_species(self) -> list[Species]:
        if not self.entries("species"):
            raise CaseError("at least one [[species]] is required")
        species = self.read_entries("species", SPECIES_KEYS, self.read_one_species)
        _check_output_names([s.name for s in species])
        return species

    def read_one_species(self, t: _Table, name: str) -> Species:
        _check_species_name(name)
        if t.has("diffusivity") and t.has("mobility"):
            raise CaseError(f"species {name!r}: give diffusivity or mobility, not both")
        T0 = self.case.model.temperature
        given = "mobility" if t.has("mobility") else "diffusivity"
        activation = 0.0
        if isinstance(t.get(given), dict):  # Arrhenius: pre exp(-E/RT), taken at T0
            rate = _read_rate(t, given)
            value, activation = rate.at(T0), rate.energy
            if not math.isfinite(value):
                raise t.error(given, f"pre exp(-E/RT) is not finite at T = {T0:g} K")
        else:
            value = t.number(given, 0.0, ge=0)
        mobility = value if given == "mobility" else None  # D = M R T
        diffusivity = value * GAS_CONSTANT * T0 if given == "mobility" else value
        gamma, profile = _read_activity(t)
        return Species(
            name=name,
            charge=t.integer("charge", 0, ge=-MAX_CHARGE, le=MAX_CHARGE),
            diffusivity=diffusivity,
            initial=t.value("initial", 0.0, ge=0, static=True),
            regions=t.names("regions"),
            activity_coefficient=gamma,
            activity_profile=profile,
            partial_molar_volume=t.number("partial_molar_volume", 0.0),
            standard_potential=t.number("standard_potential", 0.0),
            mobility=mobility,
            molar_mass=t.number("molar_mass", 0.0, ge=0),
            activation_energy=activation,
        )

    def read_region(self, t: _Table, name: str) -> Region:
        species = self.names
        rates = t.species_map("diffusivity", species, _read_rate)  # numbers or Arrhenius
        return Region(
            name=name,
            relative_permittivity=t.number("relative_permittivity", None, gt=0),
            fixed_charge=t.number("fixed_charge", None),
            diffusivity={k: r.at(self.case.model.temperature) for k, r in rates.items()},
            activation_energy={k: r.energy for k, r in rates.items()},
            activity_coefficient=t.species_map(
                "activity_coefficient", species, lambda s, n: s.number(n, gt=0)
            ),
            initial=t.species_map("initial", species, lambda s, n: s.value(n, ge=0, static=True)),
            partial_molar_volume=t.species_map(
                "partial_molar_volume", species, lambda s, n: s.number(n)
            ),
            youngs_modulus=t.number("youngs_modulus", None, gt=0),
            poisson_ratio=t.number("poisson_ratio", None, gt=-1, lt=0.5),
            solubility=_read_solubility(t, species),
        )

    def read_reactions(self) -> list[Reaction]:
        reactions = []
        for index, entry in enumerate(self.entries("reaction")):
            t = _Table(entry, REACTION_KEYS, f"reaction {index}", f"reaction.{index}")
            reactions.append(_read_reaction(t, self.case.species, self.case.model.temperature))
        return reactions

    def read_traps(self) -> list[Trap]:
        """``[[trap]]`` entries (by index): McNabb-Foster traps of a mobile species."""
        return read_traps(self.entries("trap"), self.case)

    def read_boundary(self, t: _Table, name: str) -> Boundary:
        present = {"electrostatics": self.case.has_electrostatics}
        present["elasticity"] = self.case.has_elasticity
        for keys, section in (
            (ELECTRIC_CONDITIONS, "electrostatics"),
            (MECHANICAL_CONDITIONS, "elasticity"),
        ):
            for key in keys:
                if t.has(key) and not present[section]:
                    raise t.error(key, f"is not used by {_without(self.kind, section)}")
        species = self.names
        boundary = Boundary(
            name=name,
            concentration=t.species_map("concentration", species, lambda s, n: s.value(n, ge=0)),
            inward_flux=t.species_map("inward_flux", species, lambda s, n: s.value(n)),
            mass_transfer=t.species_map("mass_transfer", species, _read_mass_transfer),
            potential=t.value("potential", None),
            stern_capacitance=t.number("stern_capacitance", None, gt=0),
            surface_charge=t.value("surface_charge", None),
            applied_current=t.value("applied_current", None, symbols=("t",)),
            butler_volmer=self.butler_volmer(t),
            displacement=t.vector("displacement"),
            traction=t.vector("traction"),
            pressure=t.value("pressure", None),
            surface_kinetics=self.surface_kinetics(t),
            solubility_wall=_read_solubility_wall(
                t, [s.name for s in self.case.species],
                tuple(e.name for e in self.case.enclosures)),
        )
        _check_boundary_exclusions(t, boundary)
        taken = {**boundary.concentration, **boundary.inward_flux, **boundary.mass_transfer}
        for key, wall in (("surface_kinetics", boundary.surface_kinetics),
                          (_wall_key(boundary), boundary.solubility_wall)):
            if wall is not None and wall.species in taken:
                raise t.error(key, f"species {wall.species!r} has another condition "
                              "here (at most one per species)")
            if wall is not None:
                taken[wall.species] = wall
        if boundary.traction is not None:  # a "free" traction component is traction-free
            boundary.traction = [0.0 if v is None else v for v in boundary.traction]
        return boundary

    def surface_kinetics(self, t: _Table) -> SurfaceKinetics | None:
        return _read_surface_kinetics(t, [s.name for s in self.case.species],
                                      tuple(e.name for e in self.case.enclosures))

    def butler_volmer(self, t: _Table) -> ButlerVolmer | None:
        if not t.has("butler_volmer"):
            return None
        bv = t.table("butler_volmer", BUTLER_VOLMER_KEYS)
        species = bv.string("species")
        if species not in self.names:
            raise bv.error("species", _unknown_species(species, self.names))
        reduced = bv.string("reduced", None)
        if reduced is not None and reduced not in self.names:
            raise bv.error("reduced", _unknown_species(reduced, self.names))
        if reduced == species:
            raise bv.error("reduced", f"is the oxidised species {species!r} itself "
                           "(O + n e- <=> R needs two species)")
        i0, energy = None, 0.0
        if not isinstance(bv.get("exchange_current"), dict):
            i0 = bv.number("exchange_current", gt=0)
        else:  # Arrhenius { pre, energy }: i0 at the temperature of t = 0
            rate = _read_rate(bv, "exchange_current")
            i0, energy = rate.at(self.case.model.temperature), rate.energy
            if not (math.isfinite(i0) and i0 > 0):
                raise bv.error("exchange_current", f"pre exp(-energy/RT) = {i0:g} A/m^2 at "
                               f"T = {self.case.model.temperature:g} K (must be finite, > 0)")
        return ButlerVolmer(
            species=species,
            electrons=bv.integer("electrons", gt=0),
            exchange_current=i0,
            exchange_energy=energy,
            alpha=bv.number("alpha", 0.5, gt=0, lt=1),
            equilibrium_potential=bv.number("equilibrium_potential", 0.0),
            reduced=reduced,
        )

    def read_solver(self) -> SolverSpec:
        t = self.section("solver", SOLVER_KEYS)
        spec = SolverSpec(
            steady=t.boolean("steady", True),
            t_end=t.number("t_end", 1.0, gt=0),
            dt=t.number("dt", 1e-3, gt=0),
            adaptive=t.boolean("adaptive", True),
            scheme=t.choice("scheme", "bdf2", ("bdf1", "bdf2")),
            degree=t.integer("degree", 1, choices=(1, 2)),
            displacement_degree=t.integer("displacement_degree", 1, choices=(1, 2)),
            newton_rtol=t.number("newton_rtol", 1e-10, gt=0, lt=1),
            newton_atol=t.number("newton_atol", 1e-12, ge=0),
            max_newton=t.integer("max_newton", 50, ge=1),
            linear=t.choice("linear", "auto", ("auto", "direct", "iterative")),
            time_rtol=t.number("time_rtol", 1e-3, gt=0, lt=1),
        )
        if not spec.steady and spec.dt < MIN_DT_FRACTION * spec.t_end:
            raise t.error(
                "dt", f"= {spec.dt:g} s is too small for t_end = {spec.t_end:g} s "
                f"(at least {MIN_DT_FRACTION:g} t_end)"
            )
        return spec

    def read_output(self) -> OutputSpec:
        t = self.section("output", OUTPUT_KEYS)
        times = t.numbers("times", [])
        if not self.case.solver.steady:
            t_end = self.case.solver.t_end
            for k, time in enumerate(times):
                if not 0 < time <= t_end:
                    raise t.error(
                        f"times[{k}]", f"must be in (0, t_end = {t_end:g}] (got {time!r})"
                    )
        probes = {}
        if t.has("probes"):
            table = t.table("probes")
            for name in table.data:
                if not isinstance(name, str) or not _PROBE_NAME.fullmatch(name):
                    raise t.error(f"probes.{name}", "must be a name of letters, digits and _")
                probes[name] = table.numbers(name)
                if not 1 <= len(probes[name]) <= 3:
                    raise t.error(f"probes.{name}", "needs one coordinate per dimension (m)")
        return OutputSpec(
            dir=t.string("dir", ""),
            every=t.integer("every", 1, ge=1),
            times=sorted(set(times)),
            probes=probes,
            checkpoint_every=t.number("checkpoint_every", 300.0, ge=0),
        )


def _wall_key(boundary: Boundary) -> str:
    """The key of a boundary's solubility wall: sieverts or henry."""
    wall = boundary.solubility_wall
    return wall.law if wall is not None else "sieverts"
