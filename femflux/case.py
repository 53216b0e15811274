"""The case file (SPEC section 2): TOML -> a validated, typed :class:`Case`.

Every check of bad input lives here (and in :mod:`femflux.mesh` for the mesh);
the numerics downstream trust what they receive.  Errors raise
:class:`femflux.errors.CaseError` with one line naming the key at fault.

Public entry points
-------------------
- ``load_case(source, overrides=None) -> Case``: ``source`` is a path to a TOML
  file or a dict of the same structure; ``overrides`` maps dotted keys to values
  (``{"solver.t_end": 2.0, "boundary.right.potential": 0.1}``) or is a list of
  ``"KEY=VALUE"`` strings whose VALUE is read as TOML (the CLI's ``--set``).
- ``check_against_mesh(case, mesh)``: the checks that need the mesh (boundary and
  region names exist, one vector entry per dimension, ...).

Numbers that may be expressions (SPEC: "Any number here may instead be an
expression of t (s) and x, y, z (m)") are stored as :class:`Expression`
objects (see :mod:`femflux.expressions`); plain numbers, and expressions
without symbols such as ``"2*3"``, as ``float``.

What downstream code may rely on after ``load_case``
----------------------------------------------------
- every species has a valid, unique name; every name that a table refers to
  (boundary/region tables, reactions, Butler-Volmer, interactions, c_0) exists;
- ``Species.diffusivity`` is set (D = M R T from ``mobility``) wherever the
  model uses it;
- the section of the model kind is present (defaults filled in), the others
  are None; ``Thermo.interactions`` keys are sorted species pairs;
- ``Boundary.displacement`` entries are None where "free"; ``Boundary.traction``
  has 0.0 where "free" (traction-free); at most one condition per boundary and
  species / potential / displacement component;
- ``Case.raw`` is the case as run (TOML types only; ``mesh.file`` absolute).
Overrides: a value None (Python API) removes the key; setting ``mesh.file``
drops ``mesh.generate`` (and vice versa), ``diffusivity`` drops ``mobility``.
"""

from __future__ import annotations

import copy
import difflib
import keyword
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.constants import R as GAS_CONSTANT

from .errors import CaseError
from .expressions import Expression, evaluate

Value = float | Expression  # a number, or an expression of x, y, z, t

GENERATED_DIMENSIONS = {"interval": 1, "rectangle": 2, "box": 3}
GENERATED_BOUNDARIES = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
GENERATED_REGION = "domain"


@dataclass
class GenerateSpec:
    """``[mesh] generate``: a structured interval/rectangle/box mesh."""

    shape: str  # interval | rectangle | box
    length: list[float]  # one per dimension (before scale)
    cells: list[int]  # one per dimension
    origin: list[float]  # one per dimension, default zeros
    cell: str = "simplex"  # simplex | quad | hex

    @property
    def dim(self) -> int:
        return GENERATED_DIMENSIONS[self.shape]

    @property
    def boundary_names(self) -> tuple[str, ...]:
        """The named boundaries of the generated mesh: xmin xmax (ymin ymax (zmin zmax))."""
        return GENERATED_BOUNDARIES[: 2 * self.dim]


@dataclass
class MeshSpec:
    file: Path | None = None  # absolute path (resolved against the case file)
    generate: GenerateSpec | None = None
    scale: float = 1.0
    axisymmetric: bool = False
    symmetry: str = "planar"  # planar | cylindrical | spherical (1D only)

    @property
    def dim(self) -> int | None:
        """The mesh dimension when it is known before reading the mesh (generated meshes)."""
        return self.generate.dim if self.generate is not None else None


@dataclass
class ModelSpec:
    kind: str = "diffusion"  # diffusion | nernst-planck-poisson | stress-diffusion | onsager
    temperature: float = 298.15  # K
    reference_concentration: float = 1000.0  # mol/m^3


@dataclass
class Species:
    name: str
    charge: int = 0
    diffusivity: float = 0.0  # m^2/s (from `mobility` M when given: D = M R T)
    initial: Value = 0.0  # mol/m^3
    regions: list[str] = field(default_factory=list)  # empty: everywhere
    activity_coefficient: float = 1.0
    partial_molar_volume: float = 0.0  # m^3/mol
    standard_potential: float = 0.0  # J/mol
    mobility: float | None = None  # as given, mol m^2/(J s)

    def exists_in(self, region: str) -> bool:
        """True where the species has unknowns (``regions`` empty means everywhere)."""
        return not self.regions or region in self.regions


@dataclass
class Electrostatics:
    relative_permittivity: float = 78.5
    electroneutral: bool = False


@dataclass
class Elasticity:
    youngs_modulus: float = 200e9
    poisson_ratio: float = 0.3
    chemical_expansion: bool = True
    stress_free_concentration: dict[str, float] = field(default_factory=dict)  # per species
    plane: str = "strain"  # strain | stress


@dataclass
class Thermo:
    model: str = "ideal"  # ideal | regular | expression
    interactions: dict[tuple[str, str], float] = field(default_factory=dict)  # sorted pair
    free_energy: Expression | None = None  # symbols: species names, R, T
    gradient_energy: float = 0.0
    reference_concentration: float | None = None  # overrides [model] when set


@dataclass
class Transport:
    onsager: np.ndarray | str | None = None  # (N, N) array or "einstein"
    diffusivity_matrix: np.ndarray | None = None  # (N, N)


@dataclass
class Reaction:
    equation: str
    reactants: dict[str, int]  # species -> stoichiometric coefficient
    products: dict[str, int]
    reversible: bool
    forward: float
    backward: float = 0.0
    regions: list[str] = field(default_factory=list)

    @property
    def species(self) -> list[str]:
        """Every species of the reaction, reactants first."""
        return list(dict.fromkeys([*self.reactants, *self.products]))

    @property
    def stoichiometry(self) -> dict[str, int]:
        """Net coefficient nu_i (products - reactants) of every species of the reaction."""
        return {
            name: self.products.get(name, 0) - self.reactants.get(name, 0) for name in self.species
        }


@dataclass
class Region:
    name: str
    relative_permittivity: float | None = None
    fixed_charge: float | None = None
    diffusivity: dict[str, float] = field(default_factory=dict)
    activity_coefficient: dict[str, float] = field(default_factory=dict)
    initial: dict[str, Value] = field(default_factory=dict)
    partial_molar_volume: dict[str, float] = field(default_factory=dict)
    youngs_modulus: float | None = None
    poisson_ratio: float | None = None


@dataclass
class MassTransfer:
    coefficient: Value  # m/s
    bulk: Value  # mol/m^3


@dataclass
class ButlerVolmer:
    species: str
    electrons: int
    exchange_current: float  # A/m^2
    alpha: float = 0.5
    equilibrium_potential: float = 0.0  # V


@dataclass
class Boundary:
    name: str
    concentration: dict[str, Value] = field(default_factory=dict)
    inward_flux: dict[str, Value] = field(default_factory=dict)
    mass_transfer: dict[str, MassTransfer] = field(default_factory=dict)
    potential: Value | None = None
    stern_capacitance: float | None = None
    surface_charge: Value | None = None
    applied_current: Value | None = None
    butler_volmer: ButlerVolmer | None = None
    displacement: list[Value | None] | None = None  # None entry = "free"
    traction: list[Value] | None = None
    pressure: Value | None = None


@dataclass
class SolverSpec:
    steady: bool = True
    t_end: float = 1.0
    dt: float = 1e-3
    adaptive: bool = True
    scheme: str = "bdf2"
    degree: int = 1
    displacement_degree: int = 1
    newton_rtol: float = 1e-10
    newton_atol: float = 1e-12
    max_newton: int = 50
    linear: str = "auto"  # auto | direct | iterative
    time_rtol: float = 1e-3  # extension: local time-error tolerance of adaptive steps


@dataclass
class OutputSpec:
    dir: str = ""
    every: int = 1
    times: list[float] = field(default_factory=list)


@dataclass
class Case:
    title: str = ""
    mesh: MeshSpec = field(default_factory=MeshSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    species: list[Species] = field(default_factory=list)
    electrostatics: Electrostatics | None = None
    elasticity: Elasticity | None = None
    thermo: Thermo | None = None
    transport: Transport | None = None
    reactions: list[Reaction] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    boundaries: list[Boundary] = field(default_factory=list)
    solver: SolverSpec = field(default_factory=SolverSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    path: Path | None = None  # the case file, when read from one
    raw: dict[str, Any] = field(default_factory=dict)  # the case as run (after overrides)
    warnings: list[str] = field(default_factory=list)

    def species_by_name(self, name: str) -> Species:
        return next(s for s in self.species if s.name == name)

    @property
    def species_names(self) -> list[str]:
        return [s.name for s in self.species]

    @property
    def charged_species(self) -> list[Species]:
        return [s for s in self.species if s.charge != 0]

    @property
    def transient(self) -> bool:
        return not self.solver.steady

    @property
    def reference_concentration(self) -> float:
        """c_ref of the RT ln(c/c_ref) terms: [thermo] overrides [model] when set."""
        if self.thermo is not None and self.thermo.reference_concentration is not None:
            return self.thermo.reference_concentration
        return self.model.reference_concentration

    def boundary_by_name(self, name: str) -> Boundary | None:
        return next((b for b in self.boundaries if b.name == name), None)

    def region_by_name(self, name: str) -> Region | None:
        return next((r for r in self.regions if r.name == name), None)


# =============================================================================
# Vocabulary of the case file
# =============================================================================

DIFFUSION, NPP, STRESS, ONSAGER = MODEL_KINDS = (
    "diffusion",
    "nernst-planck-poisson",
    "stress-diffusion",
    "onsager",
)
MODEL_SECTIONS = {  # section -> the model kind that uses it
    "electrostatics": NPP,
    "elasticity": STRESS,
    "thermo": ONSAGER,
    "transport": ONSAGER,
}
ARRAY_SECTIONS = ("species", "reaction", "region", "boundary")
TOP_KEYS = ("title", "mesh", "model", *ARRAY_SECTIONS, *MODEL_SECTIONS, "solver", "output")
MESH_KEYS = ("file", "generate", "scale", "axisymmetric", "symmetry")
GENERATE_KEYS = ("shape", "length", "cells", "origin", "cell")
MODEL_KEYS = ("kind", "temperature", "reference_concentration")
SPECIES_KEYS = (
    "name",
    "charge",
    "diffusivity",
    "mobility",
    "initial",
    "regions",
    "activity_coefficient",
    "partial_molar_volume",
    "standard_potential",
)
ELECTROSTATICS_KEYS = ("relative_permittivity", "electroneutral")
ELASTICITY_KEYS = (
    "youngs_modulus",
    "poisson_ratio",
    "chemical_expansion",
    "stress_free_concentration",
    "plane",
)
THERMO_KEYS = ("model", "interactions", "free_energy", "gradient_energy", "reference_concentration")
TRANSPORT_KEYS = ("onsager", "diffusivity_matrix")
REACTION_KEYS = ("equation", "forward", "backward", "regions")
REGION_KEYS = (
    "name",
    "relative_permittivity",
    "fixed_charge",
    "diffusivity",
    "activity_coefficient",
    "initial",
    "partial_molar_volume",
    "youngs_modulus",
    "poisson_ratio",
)
SPECIES_CONDITIONS = ("concentration", "inward_flux", "mass_transfer")
ELECTRIC_CONDITIONS = (
    "potential",
    "stern_capacitance",
    "surface_charge",
    "applied_current",
    "butler_volmer",
)
MECHANICAL_CONDITIONS = ("displacement", "traction", "pressure")
BOUNDARY_KEYS = ("name", *SPECIES_CONDITIONS, *ELECTRIC_CONDITIONS, *MECHANICAL_CONDITIONS)
MASS_TRANSFER_KEYS = ("coefficient", "bulk")
BUTLER_VOLMER_KEYS = ("species", "electrons", "exchange_current", "alpha", "equilibrium_potential")
SOLVER_KEYS = (
    "steady",
    "t_end",
    "dt",
    "adaptive",
    "scheme",
    "degree",
    "displacement_degree",
    "newton_rtol",
    "newton_atol",
    "max_newton",
    "linear",
    "time_rtol",
)
TRANSIENT_SOLVER_KEYS = ("t_end", "dt", "adaptive", "scheme", "time_rtol")
OUTPUT_KEYS = ("dir", "every", "times")

RESERVED_NAMES = ("phi", "u", "sigma", "sigma_h", "von_mises", "region", "R", "T", "F")
RESERVED_NAMES += ("x", "y", "z", "t")
SPECIES_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
REACTION_TERM = re.compile(r"\s*(?:(\d+)\s*\*?\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
GENERATED_CELLS = {"interval": ("simplex",), "rectangle": ("simplex", "quad")}
GENERATED_CELLS["box"] = ("simplex", "hex")
SYMMETRIES = ("planar", "cylindrical", "spherical")
ELECTRONEUTRAL_RTOL = 1e-9  # SPEC 2.3: |sum z_i c_i + X| <= 1e-9 max |z_i c_i|
MATRIX_RTOL = 1e-10  # symmetry / definiteness of matrices, relative to their norm

_REQUIRED = object()  # default of a key that must be given


# =============================================================================
# Public API
# =============================================================================


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
    raw, path, folder = _read_source(source)
    for key, value in _override_items(overrides):
        _apply_override(raw, key, value)
    return _CaseReader(raw, path, folder).read()


def check_against_mesh(case: Case, mesh) -> None:
    """The checks that need the mesh (a :class:`femflux.mesh.FemMesh`).

    Raises :class:`CaseError` for names the mesh does not have, vectors without
    one entry per dimension, geometry options that do not fit the mesh and
    initial or boundary concentrations that are negative on the mesh; appends
    warnings (the mesh's own included) to ``case.warnings``.
    """
    _check_geometry(case, mesh)
    _check_mesh_names(case, mesh)
    _check_vector_lengths(case, mesh.dim)
    _check_species_near_boundaries(case, mesh)
    _check_reaction_regions(case, mesh)
    _check_values_on_mesh(case, mesh)
    _check_electroneutral_boundaries(case, mesh)
    if case.raw.get("elasticity", {}).get("plane") is not None and (
        mesh.dim != 2 or case.mesh.axisymmetric
    ):
        _warn(case, "[elasticity] plane has no effect: the mesh is not 2D planar")
    for message in getattr(mesh, "warnings", []):
        _warn(case, message)


# =============================================================================
# Reading the source and applying overrides
# =============================================================================


def _read_source(source) -> tuple[dict, Path | None, Path]:
    """The case as a plain dict, the case file (or None) and the folder of relative paths."""
    if isinstance(source, dict):
        return _plain(copy.deepcopy(source)), None, Path.cwd()
    if not isinstance(source, str | os.PathLike):
        raise CaseError(f"a case is a TOML file or a dict (got {type(source).__name__})")
    path = Path(source)
    try:
        with open(path, "rb") as stream:
            raw = tomllib.load(stream)
    except FileNotFoundError:
        raise CaseError(f"case file '{path}' not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"case file '{path}' is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"case file '{path}' cannot be read: {exc}") from None
    return raw, path.resolve(), path.resolve().parent


def _plain(value):
    """``value`` with only TOML types: tuples -> lists, numpy -> Python, Path and
    Expression -> str.

    Keys whose value is None (not given) are dropped.
    """
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _override_items(overrides) -> list[tuple[str, Any]]:
    """``overrides`` as (dotted key, value) pairs; "KEY=VALUE" strings are parsed as TOML."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [(str(key), _plain(value)) for key, value in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    items = []
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise CaseError(f"override {item!r} must read KEY=VALUE")
        key, _, text = item.partition("=")
        items.append((key.strip(), _toml_value(text.strip())))
    return items


def _toml_value(text: str):
    """A TOML value (``2.0``, ``true``, ``[1, 2]``, ``"a"``), else the bare string."""
    if "\n" in text or "\r" in text:
        return text
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return parsed["value"] if list(parsed) == ["value"] else text


# Overriding one of these keys of a section (or entry) drops the other: they are alternatives.
_ALTERNATIVES = {
    ("mesh", "file"): "generate",
    ("mesh", "generate"): "file",
    ("species", "diffusivity"): "mobility",
    ("species", "mobility"): "diffusivity",
}


def _apply_override(raw: dict, key: str, value) -> None:
    """Set the dotted ``key`` of ``raw`` to ``value`` (entries by name or index)."""
    parts = key.split(".")
    if not all(part.strip() for part in parts):
        raise CaseError(f"override {key!r}: empty part in the dotted key")
    parts = [part.strip() for part in parts]
    head = parts[0]
    if head not in TOP_KEYS:
        raise CaseError(f"override {key!r}: unknown key {head!r}{_suggest(head, TOP_KEYS)}")
    if head in ARRAY_SECTIONS and len(parts) > 1:
        target, rest = _override_entry(raw, key, parts), parts[2:]
        if not rest:
            raise CaseError(f"override {key!r} must name a key of the entry, e.g. {key}.KEY")
    else:
        target, rest = raw, parts
    for part in rest[:-1]:
        if part not in target:
            target[part] = {}
        if not isinstance(target[part], dict):
            raise CaseError(f"override {key!r}: {part!r} is not a table")
        target = target[part]
    if value is None:  # Python API: None removes the key
        target.pop(rest[-1], None)
        return
    target[rest[-1]] = value
    local = rest if head in ARRAY_SECTIONS else rest[1:]
    if len(local) == 1 and (head, local[0]) in _ALTERNATIVES:
        target.pop(_ALTERNATIVES[head, local[0]], None)


def _override_entry(raw: dict, key: str, parts: list[str]) -> dict:
    """The ``[[section]]`` entry that an override addresses by name (or index for reactions)."""
    section, name = parts[0], parts[1]
    entries = raw.get(section, [])
    entries = (
        [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )
    if section == "reaction":
        if not name.isdigit() or int(name) >= len(entries):
            numbers = f"0 to {len(entries) - 1}" if entries else "none: the case has no reactions"
            raise CaseError(f"override {key!r}: no [[reaction]] number {name} ({numbers})")
        return entries[int(name)]
    for entry in entries:
        if entry.get("name") == name:
            return entry
    names = ", ".join(str(entry.get("name")) for entry in entries) or "none"
    raise CaseError(f"override {key!r}: no [[{section}]] named {name!r} (names: {names})")


# =============================================================================
# Typed access to one TOML table
# =============================================================================


def _suggest(word: str, choices) -> str:
    """`` (did you mean 'xyz'?)`` when a choice is close to ``word``, else ''.

    Close means similar (difflib) or an abbreviation (``coef`` -> ``coefficient``).
    """
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(word, choices, n=1)
    if not close and len(word) >= 3:
        close = [c for c in choices if c.lower().startswith(word.lower())][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value) -> str:
    """A value as the user wrote it, for 'got ...' in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"string {value!r}"
    return repr(value)


def _range_problem(value: float, gt=None, ge=None, lt=None, le=None) -> str | None:
    """'must be > 0' and the like when ``value`` is out of the bounds, else None."""
    low_ok = (gt is None or value > gt) and (ge is None or value >= ge)
    high_ok = (lt is None or value < lt) and (le is None or value <= le)
    if low_ok and high_ok:
        return None
    low = f"({gt}" if gt is not None else (f"[{ge}" if ge is not None else None)
    high = f"{lt})" if lt is not None else (f"{le}]" if le is not None else None)
    if low and high:
        return f"must be in {low}, {high}"
    if low:
        return f"must be > {gt}" if gt is not None else f"must be >= {ge}"
    return f"must be < {lt}" if lt is not None else f"must be <= {le}"


def _to_number(value, where: str) -> float:
    """``value`` as a finite float, or a CaseError naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " (expressions are not allowed here)" if isinstance(value, str) else ""
        raise CaseError(f"{where} must be a number (got {_show(value)}){hint}")
    if not math.isfinite(value):
        raise CaseError(f"{where} must be finite (got {value})")
    return float(value)


class _Table:
    """One TOML table being read: unknown keys are refused up front, values are typed.

    ``label`` names the table in messages (``[solver]``, ``species 'K'``),
    ``path`` is its dotted key (``solver``, ``species.K``) and ``prefix`` the
    keys leading to a nested table (``generate.``).
    """

    def __init__(self, data, known, label: str = "", path: str = "", prefix: str = ""):
        self.data = data
        self.label = label
        self.path = path
        self.prefix = prefix
        if known is not None:
            self._reject_unknown(known)

    # -- names and errors --------------------------------------------------------
    def where(self, key: str = "") -> str:
        name = self.prefix + key if key else self.prefix.rstrip(".")
        if not self.label or not name:
            return self.label or name
        separator = " " if self.label.startswith("[") else ": "
        return f"{self.label}{separator}{name}"

    def error(self, key: str, problem: str) -> CaseError:
        return CaseError(f"{self.where(key)} {problem}")

    def _reject_unknown(self, known) -> None:
        for key in self.data:
            if key in known:
                continue
            if not self.path:  # the top level: sections
                raise CaseError(_unknown_top_level(key, self.data[key]))
            raise CaseError(f"unknown key '{self.path}.{key}'{_suggest(key, known)}")

    # -- presence ------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def _missing(self, key: str, default):
        if default is _REQUIRED:
            raise self.error(key, "is required")
        return default

    # -- scalars ---------------------------------------------------------------------
    def number(self, key: str, default=_REQUIRED, **bounds) -> float | None:
        if key not in self.data:
            return self._missing(key, default)
        value = _to_number(self.data[key], self.where(key))
        problem = _range_problem(value, **bounds)
        if problem:
            raise self.error(key, f"{problem} (got {self.data[key]!r})")
        return value

    def integer(self, key: str, default=_REQUIRED, choices=None, **bounds) -> int:
        if key not in self.data:
            return self._missing(key, default)
        value = self.data[key]
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not integral:
            raise self.error(key, f"must be an integer (got {_show(value)})")
        value = int(value)
        if choices is not None and value not in choices:
            allowed = " or ".join(map(str, choices))
            raise self.error(key, f"must be {allowed} (got {value})")
        problem = _range_problem(value, **bounds)
        if problem:
            raise self.error(key, f"{problem} (got {value})")
        return value

    def boolean(self, key: str, default=_REQUIRED) -> bool:
        if key not in self.data:
            return self._missing(key, default)
        if not isinstance(self.data[key], bool):
            raise self.error(key, f"must be true or false (got {_show(self.data[key])})")
        return self.data[key]

    def string(self, key: str, default=_REQUIRED) -> str:
        if key not in self.data:
            return self._missing(key, default)
        if not isinstance(self.data[key], str):
            raise self.error(key, f"must be a string (got {_show(self.data[key])})")
        return self.data[key]

    def choice(self, key: str, default, choices) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.error(
                key,
                f"must be one of {' | '.join(choices)} (got {value!r}){_suggest(value, choices)}",
            )
        return value

    def value(
        self, key: str, default=_REQUIRED, symbols=("x", "y", "z", "t"), ge=None, static=False
    ) -> Value | None:
        """A number or an expression (a constant expression becomes a float).

        ``static``: the value must not depend on t (initial values).
        """
        if key not in self.data:
            return self._missing(key, default)
        return _read_value(self.data[key], self.where(key), symbols, ge, static)

    # -- lists -----------------------------------------------------------------------
    def _list(self, key: str) -> list:
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, f"must be a list (got {_show(value)})")
        return value

    def names(self, key: str) -> list[str]:
        """A list of distinct strings (region names), default empty."""
        if key not in self.data:
            return []
        names = self._list(key)
        for name in names:
            if not isinstance(name, str):
                raise self.error(key, f"must be a list of names (got {_show(name)})")
        if len(set(names)) != len(names):
            raise self.error(key, f"lists a name twice ({', '.join(names)})")
        return list(names)

    def numbers(self, key: str, default=_REQUIRED, length=None, **bounds) -> list[float]:
        if key not in self.data:
            return self._missing(key, default)
        values = self._list(key)
        if length is not None and len(values) != length:
            raise self.error(key, f"needs {length} entries (got {len(values)})")
        result = []
        for k, value in enumerate(values):
            number = _to_number(value, f"{self.where(key)}[{k}]")
            problem = _range_problem(number, **bounds)
            if problem:
                raise self.error(f"{key}[{k}]", f"{problem} (got {value!r})")
            result.append(number)
        return result

    def integers(self, key: str, default=_REQUIRED, length=None, **bounds) -> list[int]:
        if key not in self.data:
            return self._missing(key, default)
        values = self._list(key)
        if length is not None and len(values) != length:
            raise self.error(key, f"needs {length} entries (got {len(values)})")
        items = _Table(
            {f"{key}[{k}]": v for k, v in enumerate(values)},
            None,
            self.label,
            self.path,
            self.prefix,
        )
        return [items.integer(f"{key}[{k}]", **bounds) for k in range(len(values))]

    def vector(self, key: str) -> list[Value | None] | None:
        """A vector of numbers or expressions; "free" entries become None."""
        if key not in self.data:
            return None
        values = self._list(key)
        if not 1 <= len(values) <= 3:
            raise self.error(key, f"needs one entry per dimension (got {len(values)})")
        return [
            None if value == "free" else _read_value(value, f"{self.where(key)}[{k}]")
            for k, value in enumerate(values)
        ]

    def matrix(self, key: str, size: int, names: list[str]) -> np.ndarray:
        """A size x size matrix of numbers (rows and columns in [[species]] order)."""
        rows = self._list(key)
        shape = f"{len(rows)} rows"
        if len(rows) == size and all(isinstance(row, list) and len(row) == size for row in rows):
            return np.array(
                [
                    [_to_number(v, f"{self.where(key)}[{i}][{j}]") for j, v in enumerate(row)]
                    for i, row in enumerate(rows)
                ]
            )
        if len(rows) == size:
            lengths = {len(row) if isinstance(row, list) else 1 for row in rows}
            shape = f"rows of {', '.join(map(str, sorted(lengths)))} entries"
        raise self.error(
            key,
            f"must be a {size} x {size} matrix, one row and column per species in "
            f"[[species]] order ({', '.join(names)}); got {shape}",
        )

    # -- nested tables ---------------------------------------------------------------
    def table(self, key: str, known=None) -> _Table:
        value = self.data[key]
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table (got {_show(value)})")
        path = f"{self.path}.{key}" if self.path else key
        return _Table(value, known, self.label, path, f"{self.prefix}{key}.")

    def species_map(self, key: str, species: list[str], read) -> dict:
        """A table keyed by species names: ``{name: read(table, name)}``."""
        if key not in self.data:
            return {}
        table = self.table(key)
        result = {}
        for name in table.data:
            if name not in species:
                raise self.error(key, _unknown_species(name, species))
            result[name] = read(table, name)
        return result


def _read_value(value, where: str, symbols=("x", "y", "z", "t"), ge=None, static=False) -> Value:
    """A number or an expression string at ``where`` (see :meth:`_Table.value`)."""
    if isinstance(value, str):
        expression = Expression(value, symbols, where)
        if static and expression.depends_on_time:
            raise CaseError(f"{where} must not depend on t (got {value!r})")
        if not expression.is_constant:
            return expression
        number = float(expression)
    else:
        number = _to_number(value, where)
    problem = _range_problem(number, ge=ge)
    if problem:
        raise CaseError(f"{where} {problem} (got {value!r})")
    return number


def _unknown_top_level(key: str, value) -> str:
    """The message for an unknown top-level key or section."""

    def shown(name, as_array):
        return f"[[{name}]]" if as_array else (f"[{name}]" if name != "title" else name)

    close = difflib.get_close_matches(key, TOP_KEYS, n=1)
    hint = ""
    if close:
        hint = f" (did you mean '{shown(close[0], close[0] in ARRAY_SECTIONS)}'?)"
    if isinstance(value, dict) or (
        isinstance(value, list) and value and isinstance(value[0], dict)
    ):
        return f"unknown section '{shown(key, isinstance(value, list))}'{hint}"
    return f"unknown key '{key}'{hint}"


def _unknown_species(name: str, species: list[str]) -> str:
    return (
        f"names unknown species {name!r}{_suggest(name, species)} (species: {', '.join(species)})"
    )


def _warn(case: Case, message: str) -> None:
    """Add a warning once."""
    if message not in case.warnings:
        case.warnings.append(message)


# =============================================================================
# The reader: TOML dict -> Case
# =============================================================================


class _CaseReader:
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
        case.boundaries = self.read_entries("boundary", BOUNDARY_KEYS, self.read_boundary)
        case.solver = self.read_solver()
        case.output = self.read_output()
        _check_case(case)
        if case.mesh.file is not None:
            case.raw["mesh"]["file"] = case.mesh.file.as_posix()
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
        for section, kind in MODEL_SECTIONS.items():
            if section in self.root.data and self.kind != kind:
                raise CaseError(f"[{section}] is not used by model kind {self.kind!r}")

    def read_model(self) -> ModelSpec:
        if "model" not in self.root.data:
            raise CaseError(f"[model] is required, with kind = {' | '.join(MODEL_KINDS)}")
        t = self.section("model", MODEL_KEYS)
        if not t.has("kind"):
            raise CaseError(f"[model] kind is required ({' | '.join(MODEL_KINDS)})")
        return ModelSpec(
            kind=t.choice("kind", _REQUIRED, MODEL_KINDS),
            temperature=t.number("temperature", 298.15, gt=0),
            reference_concentration=t.number("reference_concentration", 1000.0, gt=0),
        )

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
        path = (self.folder / Path(text).expanduser()).resolve()
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
        mobility = t.number("mobility", None, ge=0)
        if mobility is not None:
            diffusivity = mobility * GAS_CONSTANT * self.case.model.temperature
        else:
            diffusivity = t.number("diffusivity", 0.0, ge=0)
        return Species(
            name=name,
            charge=t.integer("charge", 0),
            diffusivity=diffusivity,
            initial=t.value("initial", 0.0, ge=0, static=True),
            regions=t.names("regions"),
            activity_coefficient=t.number("activity_coefficient", 1.0, gt=0),
            partial_molar_volume=t.number("partial_molar_volume", 0.0),
            standard_potential=t.number("standard_potential", 0.0),
            mobility=mobility,
        )

    def read_electrostatics(self) -> Electrostatics | None:
        if self.kind != NPP:
            return None
        t = self.section("electrostatics", ELECTROSTATICS_KEYS)
        return Electrostatics(
            relative_permittivity=t.number("relative_permittivity", 78.5, gt=0),
            electroneutral=t.boolean("electroneutral", False),
        )

    def read_elasticity(self) -> Elasticity | None:
        if self.kind != STRESS:
            return None
        t = self.section("elasticity", ELASTICITY_KEYS)
        return Elasticity(
            youngs_modulus=t.number("youngs_modulus", 200e9, gt=0),
            poisson_ratio=t.number("poisson_ratio", 0.3, gt=-1, lt=0.5),
            chemical_expansion=t.boolean("chemical_expansion", True),
            stress_free_concentration=self.stress_free_concentration(t),
            plane=t.choice("plane", "strain", ("strain", "stress")),
        )

    def stress_free_concentration(self, t: _Table) -> dict[str, float]:
        """c_0 of every species: one number for all, or a table (missing species: 0)."""
        key = "stress_free_concentration"
        if isinstance(t.get(key), dict):
            given = t.species_map(key, self.names, lambda s, n: s.number(n, ge=0))
            return {name: given.get(name, 0.0) for name in self.names}
        value = t.number(key, 0.0, ge=0)
        return {name: value for name in self.names}

    def read_thermo(self) -> Thermo | None:
        if self.kind != ONSAGER:
            return None
        t = self.section("thermo", THERMO_KEYS)
        model = t.choice("model", "ideal", ("ideal", "regular", "expression"))
        return Thermo(
            model=model,
            interactions=self.interactions(t),
            free_energy=self.free_energy(t, model),
            gradient_energy=t.number("gradient_energy", 0.0, ge=0),
            reference_concentration=t.number("reference_concentration", None, gt=0),
        )

    def interactions(self, t: _Table) -> dict[tuple[str, str], float]:
        """W_ij by sorted species pair from keys "A-B"."""
        if not t.has("interactions"):
            return {}
        table, pairs, keys = t.table("interactions"), {}, {}
        for key in table.data:
            parts = [part.strip() for part in key.split("-")]
            if len(parts) != 2:
                raise t.error("interactions", f"key {key!r} must name two species as 'A-B'")
            for name in parts:
                if name not in self.names:
                    raise t.error(
                        "interactions", f"key {key!r} {_unknown_species(name, self.names)}"
                    )
            if parts[0] == parts[1]:
                raise t.error("interactions", f"key {key!r}: a species cannot interact with itself")
            pair = tuple(sorted(parts))
            if pair in pairs:
                raise t.error("interactions", f"gives both {keys[pair]!r} and {key!r}")
            pairs[pair], keys[pair] = table.number(key), key
        return pairs

    def free_energy(self, t: _Table, model: str) -> Expression | None:
        text = t.string("free_energy", "")
        if not text.strip():
            if model == "expression":
                raise CaseError("[thermo] free_energy is required with model = 'expression'")
            return None
        unusable = [name for name in self.names if keyword.iskeyword(name)]
        if unusable:
            raise CaseError(
                f"[thermo] free_energy cannot use species {unusable[0]!r} (a Python keyword)"
            )
        return Expression(text, (*self.names, "R", "T"), t.where("free_energy"))

    def read_transport(self) -> Transport | None:
        if self.kind != ONSAGER:
            return None
        if "transport" not in self.root.data:
            raise CaseError(
                "[transport] is required for model kind 'onsager' "
                '(onsager = [[...]] or "einstein", or diffusivity_matrix = [[...]])'
            )
        t = self.section("transport", TRANSPORT_KEYS)
        if t.has("onsager") == t.has("diffusivity_matrix"):
            given = "both" if t.has("onsager") else "neither"
            raise CaseError(
                f"[transport] needs exactly one of onsager or diffusivity_matrix (got {given})"
            )
        size = len(self.names)
        if t.has("diffusivity_matrix"):
            matrix = t.matrix("diffusivity_matrix", size, self.names)
            _check_diffusivity_matrix(matrix)
            return Transport(diffusivity_matrix=matrix)
        if isinstance(t.get("onsager"), str):
            if t.get("onsager") != "einstein":
                raise t.error(
                    "onsager", f'must be "einstein" or a matrix (got {t.get("onsager")!r})'
                )
            return Transport(onsager="einstein")
        matrix = t.matrix("onsager", size, self.names)
        _check_onsager_matrix(matrix, self.names)
        return Transport(onsager=matrix)

    def read_region(self, t: _Table, name: str) -> Region:
        species = self.names
        return Region(
            name=name,
            relative_permittivity=t.number("relative_permittivity", None, gt=0),
            fixed_charge=t.number("fixed_charge", None),
            diffusivity=t.species_map("diffusivity", species, lambda s, n: s.number(n, ge=0)),
            activity_coefficient=t.species_map(
                "activity_coefficient", species, lambda s, n: s.number(n, gt=0)
            ),
            initial=t.species_map("initial", species, lambda s, n: s.value(n, ge=0, static=True)),
            partial_molar_volume=t.species_map(
                "partial_molar_volume", species, lambda s, n: s.number(n)
            ),
            youngs_modulus=t.number("youngs_modulus", None, gt=0),
            poisson_ratio=t.number("poisson_ratio", None, gt=-1, lt=0.5),
        )

    def read_reactions(self) -> list[Reaction]:
        reactions = []
        for index, entry in enumerate(self.entries("reaction")):
            t = _Table(entry, REACTION_KEYS, f"reaction {index}", f"reaction.{index}")
            reactions.append(_read_reaction(t, self.case.species))
        return reactions

    def read_boundary(self, t: _Table, name: str) -> Boundary:
        for keys, kind in ((ELECTRIC_CONDITIONS, NPP), (MECHANICAL_CONDITIONS, STRESS)):
            for key in keys:
                if t.has(key) and self.kind != kind:
                    raise t.error(key, f"is not used by model kind {self.kind!r}")
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
        )
        _check_boundary_exclusions(t, boundary)
        if boundary.traction is not None:  # a "free" traction component is traction-free
            boundary.traction = [0.0 if v is None else v for v in boundary.traction]
        return boundary

    def butler_volmer(self, t: _Table) -> ButlerVolmer | None:
        if not t.has("butler_volmer"):
            return None
        bv = t.table("butler_volmer", BUTLER_VOLMER_KEYS)
        species = bv.string("species")
        if species not in self.names:
            raise bv.error("species", _unknown_species(species, self.names))
        return ButlerVolmer(
            species=species,
            electrons=bv.integer("electrons", gt=0),
            exchange_current=bv.number("exchange_current", gt=0),
            alpha=bv.number("alpha", 0.5, gt=0, lt=1),
            equilibrium_potential=bv.number("equilibrium_potential", 0.0),
        )

    def read_solver(self) -> SolverSpec:
        t = self.section("solver", SOLVER_KEYS)
        return SolverSpec(
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
        return OutputSpec(
            dir=t.string("dir", ""),
            every=t.integer("every", 1, ge=1),
            times=sorted(set(times)),
        )


# -- readers of small pieces ----------------------------------------------------------


def _read_generate(t: _Table, spec: MeshSpec) -> GenerateSpec:
    """``[mesh] generate``: lengths, cells and origin with one entry per dimension."""
    shape = t.choice("shape", _REQUIRED, tuple(GENERATED_DIMENSIONS))
    dim = GENERATED_DIMENSIONS[shape]
    for key in ("length", "cells", "origin"):
        if t.has(key) and isinstance(t.get(key), list) and len(t.get(key)) != dim:
            raise t.error(key, f"needs {dim} entries for shape {shape!r} (got {len(t.get(key))})")
    generate = GenerateSpec(
        shape=shape,
        length=t.numbers("length", length=dim, gt=0),
        cells=t.integers("cells", length=dim, ge=1),
        origin=t.numbers("origin", [0.0] * dim, length=dim),
        cell=t.choice("cell", "simplex", GENERATED_CELLS[shape]),
    )
    if spec.axisymmetric and shape != "rectangle":
        raise CaseError(f"[mesh] axisymmetric needs a 2D mesh (generate shape is {shape!r})")
    if spec.symmetry != "planar" and shape != "interval":
        raise CaseError(
            f"[mesh] symmetry = {spec.symmetry!r} needs a 1D mesh (generate shape is {shape!r})"
        )
    if (spec.axisymmetric or spec.symmetry != "planar") and generate.origin[0] < 0:
        raise t.error("origin[0]", f"must be >= 0: x is the radius (got {generate.origin[0]})")
    return generate


def _read_mass_transfer(table: _Table, name: str) -> MassTransfer:
    """``mass_transfer = { K = { coefficient = k, bulk = c_b } }``: inward flux k (c_b - c)."""
    t = table.table(name, MASS_TRANSFER_KEYS)
    return MassTransfer(coefficient=t.value("coefficient", ge=0), bulk=t.value("bulk", ge=0))


def _read_reaction(t: _Table, species: list[Species]) -> Reaction:
    """One ``[[reaction]]``: the equation parsed, charge balanced, rate constants checked."""
    equation = t.string("equation")
    t.label = f"{t.label} ({equation!r})"  # messages name the equation from here on
    reactants, products, reversible = _parse_equation(t, equation, [s.name for s in species])
    charges = {s.name: s.charge for s in species}
    left = sum(nu * charges[name] for name, nu in reactants.items())
    right = sum(nu * charges[name] for name, nu in products.items())
    if left != right:
        raise t.error(
            "", f"does not balance charge: {left:+d} on the left, {right:+d} on the right"
        )
    if t.has("backward") and not reversible:
        raise t.error("backward", "is given but the reaction is irreversible ('=>'; use '<=>')")
    if reversible and not t.has("backward"):
        raise t.error("backward", "is required for a reversible reaction ('<=>'; use '=>')")
    return Reaction(
        equation=equation,
        reactants=reactants,
        products=products,
        reversible=reversible,
        forward=t.number("forward", ge=0),
        backward=t.number("backward", 0.0, ge=0),
        regions=t.names("regions"),
    )


def _parse_equation(t: _Table, equation: str, names: list[str]):
    """``"A + 2 B <=> C"`` -> ({A: 1, B: 2}, {C: 1}, True); ``=>`` is irreversible."""
    arrow = "<=>" if "<=>" in equation else "=>"
    sides = equation.split(arrow)
    if len(sides) != 2:
        raise t.error("equation", "needs one '<=>' or '=>' between reactants and products")
    reactants, products = (_parse_side(t, side, names) for side in sides)
    if not reactants and not products:
        raise t.error("equation", "has no species")
    return reactants, products, arrow == "<=>"


def _parse_side(t: _Table, side: str, names: list[str]) -> dict[str, int]:
    """``"A + 2 B"`` -> {A: 1, B: 2}; an empty side (or "0") has no species."""
    coefficients: dict[str, int] = {}
    if side.strip() in ("", "0"):
        return coefficients
    for term in side.split("+"):
        match = REACTION_TERM.match(term)
        if not match:
            raise t.error("equation", f"cannot read the term {term.strip()!r} (write e.g. '2 B')")
        count, name = int(match.group(1) or 1), match.group(2)
        if count < 1:
            raise t.error("equation", f"has a zero coefficient in {term.strip()!r}")
        if name not in names:
            raise t.error("equation", _unknown_species(name, names))
        coefficients[name] = coefficients.get(name, 0) + count
    return coefficients


def _check_species_name(name: str) -> None:
    if not SPECIES_NAME.match(name):
        raise CaseError(
            f"species name {name!r} is not valid (letters, digits and _, not starting with a digit)"
        )
    if name in RESERVED_NAMES:
        raise CaseError(f"species name {name!r} is reserved ({' '.join(RESERVED_NAMES)})")


def _check_output_names(names: list[str]) -> None:
    """Species names must not clash with the output arrays mu_<name> and J_<name>."""
    for name in names:
        for prefix in ("mu_", "J_"):
            if name.startswith(prefix) and name[len(prefix) :] in names:
                raise CaseError(
                    f"species name {name!r} clashes with the output array {name!r} of "
                    f"species {name[len(prefix) :]!r}"
                )


def _check_onsager_matrix(matrix: np.ndarray, names: list[str]) -> None:
    """L must be symmetric and positive semi-definite (relative tolerance)."""
    tolerance = MATRIX_RTOL * np.linalg.norm(matrix)
    asymmetry = np.abs(matrix - matrix.T)
    if asymmetry.max() > tolerance:
        i, j = np.unravel_index(np.argmax(asymmetry), matrix.shape)
        raise CaseError(
            f"[transport] onsager must be symmetric: L({names[i]}, {names[j]}) = "
            f"{matrix[i, j]:g} but L({names[j]}, {names[i]}) = {matrix[j, i]:g}"
        )
    smallest = np.linalg.eigvalsh(0.5 * (matrix + matrix.T)).min()
    if smallest < -tolerance:
        raise CaseError(
            f"[transport] onsager must be positive semi-definite "
            f"(it has the eigenvalue {smallest:.6g})"
        )


def _check_diffusivity_matrix(matrix: np.ndarray) -> None:
    """A Fickian D must have real, non-negative eigenvalues (else the problem is ill-posed)."""
    tolerance = MATRIX_RTOL * np.linalg.norm(matrix)
    eigenvalues = np.linalg.eigvals(matrix)
    complex_ = eigenvalues[np.abs(eigenvalues.imag) > tolerance]
    if complex_.size:
        raise CaseError(
            f"[transport] diffusivity_matrix has complex eigenvalues ({complex_[0]:.6g})"
        )
    if eigenvalues.real.min() < -tolerance:
        raise CaseError(
            f"[transport] diffusivity_matrix has a negative eigenvalue "
            f"({eigenvalues.real.min():.6g})"
        )


def _check_boundary_exclusions(t: _Table, b: Boundary) -> None:
    """SPEC 2.3: at most one condition per boundary and species, potential, component."""
    for species in {*b.concentration, *b.inward_flux, *b.mass_transfer}:
        given = [key for key in SPECIES_CONDITIONS if species in getattr(b, key)]
        if b.butler_volmer is not None and b.butler_volmer.species == species:
            given.append("butler_volmer")
        if len(given) > 1:
            raise t.error(
                "",
                f"gives species {species!r} both {given[0]} and {given[1]} "
                "(at most one per species)",
            )
    electric = [k for k in ("potential", "surface_charge", "applied_current") if t.has(k)]
    if len(electric) > 1:
        raise t.error("", f"gives both {electric[0]} and {electric[1]} (at most one)")
    if b.stern_capacitance is not None and not (t.has("potential") or t.has("applied_current")):
        raise t.error(
            "stern_capacitance", "needs potential or applied_current (the metal potential)"
        )
    if b.butler_volmer is not None and not (t.has("potential") or t.has("applied_current")):
        raise t.error(
            "butler_volmer", "needs potential or applied_current (the electrode potential)"
        )
    _check_mechanical_exclusions(t, b)


def _check_mechanical_exclusions(t: _Table, b: Boundary) -> None:
    """Per displacement component at most one of displacement / traction / pressure."""
    fixed = [k for k, v in enumerate(b.displacement or []) if v is not None]
    loaded = [k for k, v in enumerate(b.traction or []) if v is not None]
    if b.pressure is not None and b.traction is not None:
        raise t.error("", "gives both pressure and traction (at most one per component)")
    if b.pressure is not None and fixed:
        raise t.error(
            "",
            f"gives both pressure and displacement component {fixed[0]} "
            '(use "free" for the components that pressure loads)',
        )
    for k in sorted(set(fixed) & set(loaded)):
        raise t.error(
            "",
            f'gives both displacement and traction for component {k} (use "free" in one of them)',
        )
    if b.displacement is not None and not fixed and b.traction is None and b.pressure is None:
        raise t.error("displacement", "leaves every component free (remove it)")


# =============================================================================
# Cross-checks that need the whole case
# =============================================================================


def _check_case(case: Case) -> None:
    """Everything that relates two sections; the readers checked each key on its own."""
    _check_region_species(case)
    _check_diffusivities(case)
    _check_ignored_properties(case)
    _check_electrostatics(case)
    _check_elasticity(case)
    _check_thermo(case)
    _check_time(case)
    if case.mesh.generate is not None:
        _check_generated_names(case)
        _check_vector_lengths(case, case.mesh.generate.dim)


def _raw_entry(case: Case, section: str, name: str) -> dict:
    """The entry of ``[[section]]`` called ``name`` as written in the case."""
    return next(e for e in case.raw.get(section, []) if e.get("name") == name)


def _raw_section(case: Case, section: str) -> dict:
    return case.raw.get(section, {})


def _uses_species_diffusivity(case: Case) -> bool:
    """False when an onsager case takes L or D as matrices (species D_i are not used)."""
    if case.model.kind != ONSAGER:
        return True
    return isinstance(case.transport.onsager, str)  # "einstein"


def _check_diffusivities(case: Case) -> None:
    """Each species needs exactly one of diffusivity / mobility where D_i is used."""
    used = _uses_species_diffusivity(case)
    for species in case.species:
        entry = _raw_entry(case, "species", species.name)
        given = [key for key in ("diffusivity", "mobility") if key in entry]
        if used and not given:
            raise CaseError(f"species {species.name!r}: diffusivity (or mobility) is required")
        if not used and given:
            _warn(
                case,
                f"species {species.name!r}: {given[0]} has no effect with {_transport_text(case)}",
            )
    if not used:
        for region in case.regions:
            if region.diffusivity:
                _warn(
                    case,
                    f"region {region.name!r}: diffusivity has no effect with "
                    f"{_transport_text(case)}",
                )


def _transport_text(case: Case) -> str:
    if case.transport.diffusivity_matrix is not None:
        return "[transport] diffusivity_matrix"
    return "a constant [transport] onsager matrix"


def _check_region_species(case: Case) -> None:
    """Region tables of a species restricted to other regions have no effect."""
    for region in case.regions:
        for key in ("diffusivity", "activity_coefficient", "initial", "partial_molar_volume"):
            for name in getattr(region, key):
                if not case.species_by_name(name).exists_in(region.name):
                    _warn(
                        case,
                        f"region {region.name!r}: {key}.{name} has no effect "
                        f"(species {name!r} does not exist in this region)",
                    )


def _check_ignored_properties(case: Case) -> None:
    """Warn for species and region keys that the model kind does not use."""
    kind = case.model.kind
    for species in case.species:
        if species.charge != 0 and kind != NPP:
            _warn(case, f"species {species.name!r}: charge has no effect in model kind {kind!r}")
        if species.partial_molar_volume != 0 and kind != STRESS:
            _warn(
                case,
                f"species {species.name!r}: partial_molar_volume has no effect in "
                f"model kind {kind!r}",
            )
    owners = {
        "relative_permittivity": NPP,
        "fixed_charge": NPP,
        "partial_molar_volume": STRESS,
        "youngs_modulus": STRESS,
        "poisson_ratio": STRESS,
    }
    for region in case.regions:
        entry = _raw_entry(case, "region", region.name)
        for key, owner in owners.items():
            if key in entry and kind != owner:
                _warn(case, f"region {region.name!r}: {key} has no effect in model kind {kind!r}")
        if len(entry) == 1:
            _warn(case, f"region {region.name!r} sets nothing")
    for boundary in case.boundaries:
        if len(_raw_entry(case, "boundary", boundary.name)) == 1:
            _warn(
                case, f"boundary {boundary.name!r} sets nothing (it behaves as an unnamed boundary)"
            )


def _check_electrostatics(case: Case) -> None:
    """Charges, electroneutrality and the electric boundary conditions of NPP."""
    if case.model.kind != NPP:
        return
    neutral = case.electrostatics.electroneutral
    fixed = any(region.fixed_charge for region in case.regions)
    if not case.charged_species and neutral:
        raise CaseError("[electrostatics] electroneutral = true but no species has a charge")
    if not case.charged_species and not fixed:
        _warn(case, "no species has a charge and no region a fixed_charge: phi is not coupled")
    for boundary in case.boundaries:
        _check_electric_boundary(case, boundary, neutral)
    if neutral:
        _check_electroneutral_data(case)
        _warn_unused_permittivity(case)


def _warn_unused_permittivity(case: Case) -> None:
    """With electroneutral = true there is no Poisson equation, so no permittivity."""
    if "relative_permittivity" in _raw_section(case, "electrostatics"):
        _warn(
            case, "[electrostatics] relative_permittivity has no effect with electroneutral = true"
        )
    for region in case.regions:
        if region.relative_permittivity is not None:
            _warn(
                case,
                f"region {region.name!r}: relative_permittivity has no effect with "
                "[electrostatics] electroneutral = true",
            )


def _check_electric_boundary(case: Case, b: Boundary, neutral: bool) -> None:
    where = f"boundary {b.name!r}:"
    if neutral and b.surface_charge is not None:
        raise CaseError(
            f"{where} surface_charge contradicts [electrostatics] electroneutral = true"
        )
    if neutral and b.stern_capacitance is not None:
        raise CaseError(
            f"{where} stern_capacitance contradicts [electrostatics] electroneutral = true"
        )
    bv = b.butler_volmer
    if bv is None:
        return
    charge = case.species_by_name(bv.species).charge
    if charge != bv.electrons:
        raise CaseError(
            f"{where} butler_volmer electrons = {bv.electrons} must equal the charge of "
            f"species {bv.species!r} ({charge}): O^z + n e- <=> M(s)"
        )
    if not neutral and b.stern_capacitance is None:
        raise CaseError(
            f"{where} butler_volmer with full Poisson needs stern_capacitance "
            "(or [electrostatics] electroneutral = true)"
        )


def _electroneutral_problem(
    concentrations: dict[str, Value], charged: list[Species], fixed_charge: float
) -> str | None:
    """SPEC 2.3: |sum z_i c_i + X| <= 1e-9 max |z_i c_i| when all charged c_i are given."""
    if not charged or any(s.name not in concentrations for s in charged):
        return None
    values = [concentrations[s.name] for s in charged]
    if any(isinstance(value, Expression) for value in values):
        return None
    terms = [s.charge * c for s, c in zip(charged, values, strict=True)]
    total = sum(terms) + fixed_charge
    if abs(total) <= ELECTRONEUTRAL_RTOL * max(abs(term) for term in terms):
        return None
    return (
        f"violates electroneutrality: sum z_i c_i + X = {total:.6g} mol/m^3 "
        f"(X = {fixed_charge:g}) with [electrostatics] electroneutral = true"
    )


def _check_electroneutral_data(case: Case) -> None:
    """Region initial values, and boundary concentrations when no region is charged."""
    for region in case.regions:
        charged = [s for s in case.charged_species if s.exists_in(region.name)]
        problem = _electroneutral_problem(region.initial, charged, region.fixed_charge or 0.0)
        if problem:
            raise CaseError(f"region {region.name!r}: initial {problem}")
    if any(region.fixed_charge for region in case.regions):
        return  # the fixed charge next to a boundary is known with the mesh
    for boundary in case.boundaries:
        problem = _electroneutral_problem(boundary.concentration, case.charged_species, 0.0)
        if problem:
            raise CaseError(f"boundary {boundary.name!r}: concentration {problem}")


def _check_elasticity(case: Case) -> None:
    if case.model.kind != STRESS:
        return
    raw = _raw_section(case, "elasticity")
    if "stress_free_concentration" in raw and not case.elasticity.chemical_expansion:
        _warn(
            case,
            "[elasticity] stress_free_concentration has no effect with chemical_expansion = false",
        )
    omegas = [s.partial_molar_volume for s in case.species]
    omegas += [v for r in case.regions for v in r.partial_molar_volume.values()]
    if not any(omegas):
        _warn(
            case,
            "stress-diffusion: every partial_molar_volume is 0, so the species "
            "and the stress do not interact",
        )


def _check_thermo(case: Case) -> None:
    """Onsager: keys of [thermo] that the chosen free energy does not use, kappa vs Dirichlet."""
    if case.model.kind != ONSAGER:
        return
    thermo, raw = case.thermo, _raw_section(case, "thermo")
    if case.transport.diffusivity_matrix is not None:
        if raw:
            _warn(case, "[thermo] has no effect with [transport] diffusivity_matrix")
        return
    if "interactions" in raw and thermo.model != "regular":
        _warn(case, f"[thermo] interactions has no effect with model = {thermo.model!r}")
    if thermo.model == "regular" and not thermo.interactions:
        _warn(case, "[thermo] model = 'regular' without interactions is ideal")
    if thermo.free_energy is not None and thermo.model != "expression":
        _warn(case, f"[thermo] free_energy has no effect with model = {thermo.model!r}")
    if thermo.free_energy is not None and thermo.model == "expression":
        for name in case.species_names:
            if name not in thermo.free_energy.free_symbols:
                _warn(
                    case,
                    f"[thermo] free_energy does not depend on {name!r}: its chemical "
                    "potential is constant, so it does not move",
                )
    if thermo.gradient_energy > 0:
        for boundary in case.boundaries:
            if boundary.concentration:
                raise CaseError(
                    f"boundary {boundary.name!r}: concentration cannot be imposed with "
                    "[thermo] gradient_energy > 0 (every boundary has grad(c).n = 0)"
                )


def _check_time(case: Case) -> None:
    """Transient-only keys in a steady run are warnings; dt must fit in t_end."""
    solver, raw = case.solver, _raw_section(case, "solver")
    if solver.steady:
        for key in TRANSIENT_SOLVER_KEYS:
            if key in raw:
                _warn(case, f"[solver] {key} has no effect in a steady run")
        if case.output.every > 1:
            _warn(case, "[output] every has no effect in a steady run")
        if case.output.times:
            _warn(case, "[output] times has no effect in a steady run")
        _warn_time_dependence(case)
    elif solver.dt > solver.t_end:
        raise CaseError(f"[solver] dt must be <= t_end = {solver.t_end:g} (got {solver.dt:g})")
    if "displacement_degree" in raw and case.model.kind != STRESS:
        _warn(case, f"[solver] displacement_degree has no effect in model kind {case.model.kind!r}")


def _boundary_values(b: Boundary):
    """(key, value) of every number or expression a boundary gives."""
    for key in SPECIES_CONDITIONS[:2]:
        for name, value in getattr(b, key).items():
            yield f"{key}.{name}", value
    for name, mt in b.mass_transfer.items():
        yield f"mass_transfer.{name}.coefficient", mt.coefficient
        yield f"mass_transfer.{name}.bulk", mt.bulk
    for key in ("potential", "surface_charge", "applied_current", "pressure"):
        yield key, getattr(b, key)
    for key in ("displacement", "traction"):
        for k, value in enumerate(getattr(b, key) or []):
            yield f"{key}[{k}]", value


def _warn_time_dependence(case: Case) -> None:
    """A steady run evaluates boundary expressions at t = 0."""
    for b in case.boundaries:
        for key, value in _boundary_values(b):
            if isinstance(value, Expression) and value.depends_on_time:
                _warn(
                    case,
                    f"boundary {b.name!r}: {key} depends on t, but the run is steady "
                    "(it is evaluated at t = 0)",
                )


def _check_generated_names(case: Case) -> None:
    """Boundary and region names of a generated mesh are known before it is built."""
    generate = case.mesh.generate
    _check_names(case, set(generate.boundary_names), {GENERATED_REGION}, "the generated mesh")


def _check_names(case: Case, boundaries: set[str], regions: set[str], mesh: str) -> None:
    """Every boundary and region name of the case must exist in the mesh."""

    def fail(what: str, name: str, available: set[str]) -> CaseError:
        listed = ", ".join(sorted(available)) or "none"
        return CaseError(
            f"{what} {name!r} is not in {mesh}{_suggest(name, available)} (available: {listed})"
        )

    for boundary in case.boundaries:
        if boundary.name not in boundaries:
            raise fail("boundary", boundary.name, boundaries)
    for region in case.regions:
        if region.name not in regions:
            raise fail("region", region.name, regions)
    for species in case.species:
        for name in species.regions:
            if name not in regions:
                raise fail(f"species {species.name!r}: region", name, regions)
    for index, reaction in enumerate(case.reactions):
        for name in reaction.regions:
            if name not in regions:
                raise fail(f"reaction {index}: region", name, regions)


def _check_vector_lengths(case: Case, dim: int) -> None:
    """Displacement and traction vectors need one entry per dimension."""
    for boundary in case.boundaries:
        for key in ("displacement", "traction"):
            vector = getattr(boundary, key)
            if vector is not None and len(vector) != dim:
                raise CaseError(
                    f"boundary {boundary.name!r}: {key} needs {dim} entries, one per "
                    f"dimension of the mesh (got {len(vector)})"
                )


# =============================================================================
# Checks against the mesh
# =============================================================================


def _check_geometry(case: Case, mesh) -> None:
    """axisymmetric needs 2D, radial symmetry 1D; the radius x must be >= 0."""
    spec = case.mesh
    if spec.axisymmetric and mesh.dim != 2:
        raise CaseError(f"[mesh] axisymmetric needs a 2D mesh (the mesh is {mesh.dim}D)")
    if spec.symmetry != "planar" and mesh.dim != 1:
        raise CaseError(
            f"[mesh] symmetry = {spec.symmetry!r} needs a 1D mesh (the mesh is {mesh.dim}D)"
        )
    if spec.axisymmetric or spec.symmetry != "planar":
        x = mesh.mesh.p[0]
        extent = max(float(np.ptp(x)), float(np.abs(x).max()))
        if x.min() < -1e-12 * extent:
            option = "axisymmetric" if spec.axisymmetric else f"symmetry = {spec.symmetry!r}"
            raise CaseError(
                f"[mesh] {option}: x is the radius and must be >= 0, "
                f"but the mesh reaches x = {x.min():g} m"
            )


def _check_mesh_names(case: Case, mesh) -> None:
    source = getattr(mesh, "source", "generated")
    where = "the generated mesh" if source == "generated" else f"mesh '{source}'"
    _check_names(case, set(mesh.boundaries), set(mesh.regions), where)


def _regions_next_to(mesh, boundary: str) -> set[str]:
    """Names of the regions whose elements touch the facets of ``boundary``."""
    facets = np.asarray(mesh.boundaries[boundary], dtype=int)
    elements = mesh.mesh.f2t[:, facets].ravel()
    ids = mesh.region_ids[elements[elements >= 0]]
    names = mesh.region_names
    return {names[int(i)] for i in np.unique(ids)}


def _check_species_near_boundaries(case: Case, mesh) -> None:
    """A boundary condition on a species must touch a region where the species exists."""
    for b in case.boundaries:
        named = {*b.concentration, *b.inward_flux, *b.mass_transfer}
        if b.butler_volmer is not None:
            named.add(b.butler_volmer.species)
        if not named:
            continue
        regions = _regions_next_to(mesh, b.name)
        if not regions:
            continue
        for name in sorted(named):
            if not any(case.species_by_name(name).exists_in(r) for r in regions):
                raise CaseError(
                    f"boundary {b.name!r}: species {name!r} does not exist next to it "
                    f"(it touches regions {', '.join(sorted(regions))})"
                )


def _check_reaction_regions(case: Case, mesh) -> None:
    """A reaction given regions needs all its species there; without regions, somewhere."""
    for index, reaction in enumerate(case.reactions):
        species = [case.species_by_name(name) for name in reaction.species]
        if not reaction.regions and not any(
            all(s.exists_in(region) for s in species) for region in mesh.regions
        ):
            _warn(
                case,
                f"reaction {index} ({reaction.equation!r}) has no effect: no region "
                "holds all its species",
            )
        for region in reaction.regions:
            for name in reaction.species:
                if not case.species_by_name(name).exists_in(region):
                    raise CaseError(
                        f"reaction {index} ({reaction.equation!r}): species {name!r} does "
                        f"not exist in region {region!r}"
                    )


def _nodes(mesh, elements=None) -> np.ndarray:
    """Coordinates (dim, n) of the nodes of ``elements`` (default all)."""
    if elements is None:
        return mesh.mesh.p
    return mesh.mesh.p[:, np.unique(mesh.mesh.t[:, elements])]


def _check_nonnegative(where: str, value: Value, x: np.ndarray, times) -> None:
    """An expression must be finite and >= 0 at the points ``x`` at the given times."""
    if not isinstance(value, Expression) or x.size == 0:
        return
    for time in times:
        values = evaluate(value, x, time)
        if not np.all(np.isfinite(values)):
            raise CaseError(f"{where} = {value.text!r} is not finite on the mesh (t = {time:g})")
        if values.min() < 0:
            k = int(np.argmin(values))
            raise CaseError(
                f"{where} = {value.text!r} must be >= 0 but is {values[k]:.6g} at "
                f"x = {np.array2string(x[:, k], precision=6)} (t = {time:g})"
            )


def _check_values_on_mesh(case: Case, mesh) -> None:
    """Initial and boundary concentration expressions are >= 0 where they apply."""
    regions = mesh.regions
    for species in case.species:
        elements = None
        if species.regions:
            elements = np.concatenate([np.asarray(regions[r], int) for r in species.regions])
        _check_nonnegative(
            f"species {species.name!r}: initial", species.initial, _nodes(mesh, elements), [0.0]
        )
    for region in case.regions:
        x = _nodes(mesh, np.asarray(regions[region.name], int))
        for name, value in region.initial.items():
            _check_nonnegative(f"region {region.name!r}: initial.{name}", value, x, [0.0])
    times = [0.0] if case.solver.steady else np.linspace(0.0, case.solver.t_end, 5)
    for b in case.boundaries:
        facets = np.asarray(mesh.boundaries[b.name], dtype=int)
        x = mesh.mesh.p[:, np.unique(mesh.mesh.facets[:, facets])]
        where = f"boundary {b.name!r}:"
        for name, value in b.concentration.items():
            _check_nonnegative(f"{where} concentration.{name}", value, x, times)
        for name, mt in b.mass_transfer.items():
            _check_nonnegative(
                f"{where} mass_transfer.{name}.coefficient", mt.coefficient, x, times
            )
            _check_nonnegative(f"{where} mass_transfer.{name}.bulk", mt.bulk, x, times)


def _check_electroneutral_boundaries(case: Case, mesh) -> None:
    """With electroneutral = true, boundary concentrations against the adjacent fixed charge."""
    if case.model.kind != NPP or not case.electrostatics.electroneutral:
        return
    for b in case.boundaries:
        for name in sorted(_regions_next_to(mesh, b.name)):
            region = case.region_by_name(name)
            fixed = (region.fixed_charge or 0.0) if region is not None else 0.0
            charged = [s for s in case.charged_species if s.exists_in(name)]
            problem = _electroneutral_problem(b.concentration, charged, fixed)
            if problem:
                raise CaseError(f"boundary {b.name!r}: concentration {problem} in region {name!r}")
