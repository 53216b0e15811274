"""The data model of a case and the vocabulary of the case file (SPEC section 2).

Owns the typed dataclasses that :func:`femflux.case.load_case` returns --
:class:`Case` and its parts (:class:`MeshSpec`, :class:`ModelSpec`,
:class:`Species`, :class:`Boundary`, ...) -- and the words the case file may
use: the model kinds, the keys of every section, reserved names, tolerances.
Nothing here reads or checks input.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.constants import R as GAS_CONSTANT

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
    temperature: float = 298.15  # K (at t = 0 when it is programmed)
    reference_concentration: float = 1000.0  # mol/m^3
    gravity: list[float] | None = None  # m/s^2, one entry per dimension; mu_i -= M_i g.x
    temperature_program: Expression | None = None  # T(t) or T(x, y, z, t) in K
    concentration_unit: str = "mol/m^3"  # or "atoms/m^3" (enclosures: gas amount x N_A)

    @property
    def temperature_spatial(self) -> bool:
        """True when the temperature is an expression of x, y or z."""
        program = self.temperature_program
        return program is not None and bool(program.free_symbols & {"x", "y", "z"})

    def temperature_at(self, t: float) -> float:
        """T (K) at time t (s) (at x = y = z = 0 for a spatial T: see
        :meth:`temperature_points`)."""
        if self.temperature_program is None:
            return self.temperature
        return float(np.asarray(evaluate(self.temperature_program, np.zeros((1, 1)), t)).ravel()[0])

    def temperature_points(self, x: np.ndarray, t: float) -> np.ndarray:
        """T (K) at the points ``x`` (shape (dim, ...), m) at time t (s)."""
        if self.temperature_program is None:
            return np.full(x.shape[1:], self.temperature)
        value = evaluate(self.temperature_program, x, t)
        return np.array(np.broadcast_to(value, x.shape[1:]), dtype=float)


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
    molar_mass: float = 0.0  # kg/mol (with [model] gravity: mu -= M g.x)
    activation_energy: float = 0.0  # J/mol: D = pre exp(-E/RT); diffusivity is D(T(0))
    activity_profile: Expression | None = None  # gamma(x, y, z) given as an expression

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
class Arrhenius:
    """A rate or coefficient ``pre * exp(-energy / (R T))`` (energy in J/mol)."""

    pre: float
    energy: float = 0.0

    def at(self, temperature):
        """The rate at ``temperature`` (K, a number or an array of local
        temperatures); inf when exp overflows (refused by the checks)."""
        if isinstance(temperature, np.ndarray):
            with np.errstate(over="ignore"):
                return self.pre * np.exp(-self.energy / (GAS_CONSTANT * temperature))
        try:
            return self.pre * math.exp(-self.energy / (GAS_CONSTANT * temperature))
        except OverflowError:
            return math.inf


@dataclass
class Trap:
    """A McNabb-Foster trap of a mobile species: trapped concentration c_t
    (an immobile species named ``name``) with
    dc_t/dt = k c_m (N - c_t) - p c_t, N the trap density (mol/m^3),
    k the trapping rate constant (m^3/(mol s)), p the detrapping rate (1/s)."""

    name: str
    species: str
    density: Value  # N(x, y, z), or also of sigma_h (Pa) where elasticity is solved
    trapping: Arrhenius
    detrapping: Arrhenius
    initial: Value = 0.0
    regions: list[str] = field(default_factory=list)
    equilibrium: bool = False  # Oriani: c_t = N k c_m / (k c_m + p) at every instant


@dataclass
class Reaction:
    equation: str
    reactants: dict[str, int]  # species -> stoichiometric coefficient
    products: dict[str, int]
    reversible: bool
    forward: float  # at the temperature of t = 0
    backward: float = 0.0
    forward_energy: float = 0.0  # J/mol, Arrhenius: k_f(T) = k_f(T0) exp(-E/R (1/T - 1/T0))
    backward_energy: float = 0.0
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
class Solubility:
    """The solubility of a species in a region: c = K sqrt(p) (Sieverts,
    K in mol/(m^3 Pa^0.5)) or c = K p (Henry, K in mol/(m^3 Pa)); at an
    interface the partial pressure p is continuous, so c/K is continuous
    between two regions of one law and (c_S/K_S)^2 = c_H/K_H between a
    Sieverts and a Henry region."""

    species: str
    law: str  # sieverts | henry
    K: Arrhenius


@dataclass
class Region:
    name: str
    relative_permittivity: float | None = None
    fixed_charge: float | None = None
    diffusivity: dict[str, float] = field(default_factory=dict)  # at the temperature of t = 0
    activity_coefficient: dict[str, float] = field(default_factory=dict)
    initial: dict[str, Value] = field(default_factory=dict)
    activation_energy: dict[str, float] = field(default_factory=dict)  # Arrhenius diffusivities
    partial_molar_volume: dict[str, float] = field(default_factory=dict)
    youngs_modulus: float | None = None
    poisson_ratio: float | None = None
    solubility: Solubility | None = None


@dataclass
class MassTransfer:
    coefficient: Value  # m/s
    bulk: Value  # mol/m^3


@dataclass
class ButlerVolmer:
    species: str
    electrons: int
    exchange_current: float  # A/m^2, i0 at the temperature of t = 0
    alpha: float = 0.5
    equilibrium_potential: float = 0.0  # V
    reduced: str | None = None  # soluble product R of O + n e- <=> R; None: the metal
    exchange_energy: float = 0.0  # J/mol: i0(T) = i0(T0) exp(-E/R (1/T - 1/T0)) (Arrhenius)


@dataclass
class SurfaceKinetics:
    """Dissociation and recombination at a metal surface: inward flux
    K_d p - K_r c^2 (K_d in mol/(m^2 s Pa), K_r in m^4/(mol s), p in Pa)."""

    species: str
    dissociation: Arrhenius
    recombination: Arrhenius
    pressure: Value = 0.0
    enclosure: str | None = None  # the [[enclosure]] whose pressure p is (then pressure unused)


@dataclass
class SolubilityWall:
    """A wall in equilibrium with a gas at pressure p (Pa): Sieverts
    c = K sqrt(p) (K in mol/(m^3 Pa^0.5)) or Henry c = K p (mol/(m^3 Pa))."""

    species: str
    law: str  # "sieverts" | "henry"
    K: Arrhenius
    pressure: Value | None = None
    enclosure: str | None = None  # the [[enclosure]] whose pressure p is (then pressure unused)


@dataclass
class Enclosure:
    """A closed gas volume (SPEC 6): its pressure p (Pa) is an unknown with
    d(p V/(R T))/dt = -(1/2) sum over its walls of int (K_d p - K_r c^2) dA
    (H2 <=> 2 H at every wall's surface kinetics)."""

    name: str
    volume: float  # m^3 (2D planar: m^2 per metre of depth; 1D planar: m per m^2)
    temperature: float  # K
    pressure: float  # Pa at t = 0
    boundaries: list[str] = field(default_factory=list)  # the walls


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
    surface_kinetics: SurfaceKinetics | None = None
    solubility_wall: SolubilityWall | None = None  # from `sieverts` or `henry`


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
    time_rtol: float = 1e-3  # extension: relative time error aimed for at t_end (adaptive)


@dataclass
class OutputSpec:
    dir: str = ""
    every: int = 1
    times: list[float] = field(default_factory=list)
    probes: dict[str, list[float]] = field(default_factory=dict)  # name -> point (m)
    checkpoint_every: float = 300.0  # s of wall time between checkpoints (0: none)


@dataclass
class Sweep:
    """``[sweep]`` (SPEC 6): the points are the product (or, with ``zip``, the
    zip) of the values of the varied dotted keys, in the order given (the first
    key varies slowest)."""

    vary: dict[str, list[Any]] = field(default_factory=dict)  # dotted key -> values
    zip: bool = False
    chain: bool = False  # each point starts from the previous converged state
    collect: list[str] = field(default_factory=list)  # dotted summary.json paths
    log_keys: list[str] = field(default_factory=list)  # keys whose values came from logspace

    @property
    def points(self) -> list[dict[str, Any]]:
        """Each point's values, ``{key: value}`` in the order of ``vary``."""
        keys = list(self.vary)
        if self.zip:
            combos = zip(*self.vary.values(), strict=True)
        else:
            combos = itertools.product(*self.vary.values())
        return [dict(zip(keys, combo, strict=True)) for combo in combos]


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
    traps: list[Trap] = field(default_factory=list)
    enclosures: list[Enclosure] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    boundaries: list[Boundary] = field(default_factory=list)
    solver: SolverSpec = field(default_factory=SolverSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
    sweep: Sweep | None = None  # [sweep]: run by femflux sweep, not by a solve
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
    def has_electrostatics(self) -> bool:
        """phi is solved: kind nernst-planck-poisson, or stress-diffusion with [electrostatics]."""
        return self.electrostatics is not None

    @property
    def has_elasticity(self) -> bool:
        """u is solved: kind stress-diffusion, or nernst-planck-poisson with [elasticity]."""
        return self.elasticity is not None

    @property
    def transient(self) -> bool:
        return not self.solver.steady

    @property
    def reference_concentration(self) -> float:
        """c_ref of the RT ln(c/c_ref) terms: [thermo] overrides [model] when set."""
        if self.thermo is not None and self.thermo.reference_concentration is not None:
            return self.thermo.reference_concentration
        return self.model.reference_concentration

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
MODEL_SECTIONS = {  # section -> the model kinds that may hold it
    "electrostatics": (NPP, STRESS),
    "elasticity": (STRESS, NPP),
    "thermo": (ONSAGER,),
    "transport": (ONSAGER,),
}
# nernst-planck-poisson and stress-diffusion are presets of one species-transport
# law: each always has its own physics (section optional) and has the other's
# when that section is given.
PRESET_SECTION = {NPP: "electrostatics", STRESS: "elasticity"}
GRAVITY_KINDS = (DIFFUSION, NPP, STRESS)  # [model] gravity; onsager has none
ARRAY_SECTIONS = ("species", "reaction", "trap", "region", "boundary", "enclosure")
TOP_KEYS = ("title", "mesh", "model", *ARRAY_SECTIONS, *MODEL_SECTIONS, "solver", "output",
            "sweep")
SWEEP_KEYS = ("vary", "zip", "chain", "collect")
MESH_KEYS = ("file", "generate", "scale", "axisymmetric", "symmetry")
GENERATE_KEYS = ("shape", "length", "cells", "origin", "cell")
MODEL_KEYS = ("kind", "temperature", "reference_concentration", "gravity",
              "concentration_unit")
CONCENTRATION_UNITS = ("mol/m^3", "atoms/m^3")
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
    "molar_mass",
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
TRAP_KEYS = ("name", "species", "density", "trapping", "detrapping", "initial", "regions",
             "equilibrium")
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
    "solubility",
)
SOLUBILITY_KEYS = ("species", "law", "K")
ENCLOSURE_KEYS = ("name", "volume", "temperature", "pressure", "boundaries")
SOLUBILITY_LAWS = ("sieverts", "henry")
SPECIES_CONDITIONS = ("concentration", "inward_flux", "mass_transfer")
ELECTRIC_CONDITIONS = (
    "potential",
    "stern_capacitance",
    "surface_charge",
    "applied_current",
    "butler_volmer",
)
MECHANICAL_CONDITIONS = ("displacement", "traction", "pressure")
BOUNDARY_KEYS = ("name", *SPECIES_CONDITIONS, *ELECTRIC_CONDITIONS, *MECHANICAL_CONDITIONS,
                 "surface_kinetics", "sieverts", "henry")
SURFACE_KINETICS_KEYS = ("species", "dissociation", "recombination", "pressure")
SOLUBILITY_WALL_KEYS = ("species", "K", "pressure")
MASS_TRANSFER_KEYS = ("coefficient", "bulk")
BUTLER_VOLMER_KEYS = ("species", "electrons", "exchange_current", "alpha", "equilibrium_potential",
                      "reduced")
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
OUTPUT_KEYS = ("dir", "every", "times", "probes", "checkpoint_every")

# names no species may take: the symbols of every expression and the cell array
RESERVED_NAMES = ("x", "y", "z", "t", "pi", "region")
# names refused only where the case has what they would be confused with
ELECTRIC_NAMES = ("phi",)  # a point array with [electrostatics]
ELASTIC_NAMES = ("u", "sigma", "sigma_h", "von_mises")  # point arrays with [elasticity]
FREE_ENERGY_NAMES = ("R", "T")  # symbols of [thermo] free_energy besides the species
SPECIES_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
REACTION_TERM = re.compile(r"\s*(?:(\d+)\s*\*?\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
GENERATED_CELLS = {"interval": ("simplex",), "rectangle": ("simplex", "quad")}
GENERATED_CELLS["box"] = ("simplex", "hex")
MAX_GENERATED_CELLS = 10**8  # a generated mesh beyond this could not be solved anyway
MAX_CHARGE = 100  # |z| of a species; a larger charge is a typo, not an ion
MIN_DT_FRACTION = 1e-12  # [solver] dt below this fraction of t_end is refused
SYMMETRIES = ("planar", "cylindrical", "spherical")
ELECTRONEUTRAL_RTOL = 1e-9  # SPEC 2.3: |sum z_i c_i + X| <= 1e-9 max |z_i c_i|
MATRIX_RTOL = 1e-10  # symmetry / definiteness of matrices, relative to their norm
