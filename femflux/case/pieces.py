"""Readers and checks of single pieces of a case, used by :mod:`.reader`.

Owns the generated-mesh table, mass-transfer tables, ``[[reaction]]`` entries
(the equation parser and the charge balance), species-name rules, the checks
of the ``[transport]`` matrices and the exclusions between the conditions of
one boundary (SPEC 2.3: at most one per species, potential, component),
rates given as numbers or Arrhenius ``{ pre, energy }`` tables, and the
``surface_kinetics`` table of a boundary.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import CaseError
from .expressions import Expression, evaluate
from .schema import (
    ELASTIC_NAMES,
    ELECTRIC_NAMES,
    FREE_ENERGY_NAMES,
    GENERATED_CELLS,
    GENERATED_DIMENSIONS,
    MASS_TRANSFER_KEYS,
    MATRIX_RTOL,
    MAX_GENERATED_CELLS,
    ONSAGER,
    REACTION_TERM,
    RESERVED_NAMES,
    SOLUBILITY_KEYS,
    SOLUBILITY_LAWS,
    SOLUBILITY_WALL_KEYS,
    SPECIES_CONDITIONS,
    SPECIES_NAME,
    SURFACE_KINETICS_KEYS,
    Arrhenius,
    Boundary,
    Enclosure,
    GenerateSpec,
    MassTransfer,
    MeshSpec,
    Reaction,
    Solubility,
    SolubilityWall,
    Species,
    SurfaceKinetics,
)
from .table import _REQUIRED, _Table, _unknown_species


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
    if math.prod(generate.cells) > MAX_GENERATED_CELLS:
        raise t.error(
            "cells", f"make more than {MAX_GENERATED_CELLS:.0e} cells, more than a generated "
            "mesh may have (use a mesh file)"
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


def _read_reaction(t: _Table, species: list[Species], temperature: float = 298.15) -> Reaction:
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
    # rate constants: numbers or Arrhenius { pre, energy }, at the temperature of t = 0
    forward = _read_rate(t, "forward")
    backward = _read_rate(t, "backward") if t.has("backward") else Arrhenius(pre=0.0)
    return Reaction(
        equation=equation,
        reactants=reactants,
        products=products,
        reversible=reversible,
        forward=forward.at(temperature),
        backward=backward.at(temperature),
        forward_energy=forward.energy,
        backward_energy=backward.energy,
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


def _check_ambiguous_names(case) -> None:
    """Species and trap names that would be ambiguous in this case: phi with
    [electrostatics], u sigma sigma_h von_mises with [elasticity] (point
    arrays of the results), R and T where [thermo] free_energy uses them (the
    gas constant and the temperature).  Tritium "T" is a fine name elsewhere."""
    ambiguous = {}
    if case.has_electrostatics:
        ambiguous.update(dict.fromkeys(ELECTRIC_NAMES, "the potential phi of [electrostatics]"))
    if case.has_elasticity:
        ambiguous.update(dict.fromkeys(ELASTIC_NAMES, "a stress or displacement array of "
                                                      "[elasticity]"))
    if case.thermo is not None and case.thermo.free_energy is not None:
        ambiguous.update(dict.fromkeys(FREE_ENERGY_NAMES, "R or T in [thermo] free_energy "
                                                          "(gas constant, temperature)"))
    for name in [s.name for s in case.species] + [trap.name for trap in case.traps]:
        if name in ambiguous:
            raise CaseError(f"species name {name!r} is reserved in this case: it would be "
                            f"ambiguous with {ambiguous[name]}")


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
        if b.butler_volmer is not None and species in (b.butler_volmer.species,
                                                       b.butler_volmer.reduced):
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


def _read_rate(t: _Table, key: str) -> Arrhenius:
    """A rate: a number >= 0, or ``{ pre = ..., energy = ... }`` (Arrhenius, J/mol)."""
    if isinstance(t.get(key), dict):
        table = t.table(key, ("pre", "energy"))
        return Arrhenius(pre=table.number("pre", ge=0), energy=table.number("energy", 0.0))
    return Arrhenius(pre=t.number(key, ge=0))


def _the_species(t: _Table, mobile: list[str]) -> str:
    """The table's ``species`` (one of ``mobile``), which may be left out when
    the case has one species."""
    if t.has("species"):
        species = t.string("species")
        if species not in mobile:
            raise t.error("species", _unknown_species(species, mobile))
        return species
    if len(mobile) == 1:
        return mobile[0]
    raise t.error("species", "is required when the case has several species")


def _read_solubility(t: _Table, mobile: list[str]) -> Solubility | None:
    """A region's ``solubility = { species, law = "sieverts"|"henry", K }``
    (K a number > 0 or Arrhenius ``{ pre, energy }``)."""
    if not t.has("solubility"):
        return None
    table = t.table("solubility", SOLUBILITY_KEYS)
    species = _the_species(table, mobile)
    K = _read_rate(table, "K")
    if not K.pre > 0:
        raise table.error("K", f"must be > 0 (got {K.pre!r})")
    return Solubility(species=species, law=table.choice("law", _REQUIRED, SOLUBILITY_LAWS), K=K)


def _read_activity(t: _Table) -> tuple[float, Expression | None]:
    """A species' ``activity_coefficient``: (gamma > 0, None), or (1, gamma(x, y, z))
    when it is an expression of position."""
    if not isinstance(t.get("activity_coefficient"), str):
        return t.number("activity_coefficient", 1.0, gt=0), None
    value = t.value("activity_coefficient", symbols=("x", "y", "z"), static=True)
    if isinstance(value, Expression):
        return 1.0, value
    if not value > 0:
        raise t.error("activity_coefficient", f"must be > 0 (got {value!r})")
    return value, None


def _read_surface_kinetics(t: _Table, mobile: list[str],
                           enclosures: tuple[str, ...] = ()) -> SurfaceKinetics | None:
    """``surface_kinetics = { species, dissociation = K_d, recombination = K_r,
    pressure = p }``: inward flux K_d p - K_r c^2 (rates may be Arrhenius); p
    may name one of the case's ``enclosures``."""
    if not t.has("surface_kinetics"):
        return None
    sk = t.table("surface_kinetics", SURFACE_KINETICS_KEYS)
    species = _the_species(sk, mobile)
    rates = {"dissociation": _read_rate(sk, "dissociation"),
             "recombination": _read_rate(sk, "recombination")}
    if sk.get("pressure") in enclosures:  # the pressure of a gas volume, an unknown
        return SurfaceKinetics(species=species, enclosure=sk.get("pressure"), **rates)
    return SurfaceKinetics(species=species, pressure=sk.value("pressure", 0.0, ge=0), **rates)


def _read_solubility_wall(t: _Table, mobile: list[str],
                          enclosures: tuple[str, ...] = ()) -> SolubilityWall | None:
    """``sieverts = { species, K, pressure }`` (c = K sqrt(p)) or ``henry =
    {...}`` (c = K p): the wall's concentration in equilibrium with a gas at
    p (Pa: a number, an expression of x, y, z, t, or the name of one of the
    case's ``enclosures``); K > 0 a number or Arrhenius."""
    given = [law for law in ("sieverts", "henry") if t.has(law)]
    if not given:
        return None
    if len(given) == 2:
        raise t.error("henry", "and sieverts exclude each other")
    table = t.table(given[0], SOLUBILITY_WALL_KEYS)
    species = _the_species(table, mobile)
    K = _read_rate(table, "K")
    if not K.pre > 0:
        raise table.error("K", f"must be > 0 (got {K.pre!r})")
    if table.get("pressure") in enclosures:
        return SolubilityWall(species=species, law=given[0], K=K,
                              enclosure=table.get("pressure"))
    return SolubilityWall(species=species, law=given[0], K=K,
                          pressure=table.value("pressure", None, ge=0))


def _read_enclosure(t: _Table, name: str) -> Enclosure:
    """``[[enclosure]]``: a gas volume whose pressure is an unknown."""
    return Enclosure(name=name, volume=t.number("volume", gt=0),
                     temperature=t.number("temperature", gt=0),
                     pressure=t.number("pressure", ge=0), boundaries=t.names("boundaries"))


def _read_temperature(t: _Table, kind: str) -> tuple[float, Expression | None]:
    """``[model] temperature`` (K): a number, or an expression of t (a
    program) or of x, y, z and t (a temperature field: the drifts of kinds
    nernst-planck-poisson and stress-diffusion take the local T).  Returns
    (T0, program): T0 is T
    at t = 0 (at x = y = z = 0 for a spatial T, or 298.15 K where that is
    not > 0: only the reference of the Arrhenius values; the mesh checks
    require T > 0 on the mesh)."""
    if not isinstance(t.get("temperature"), str):
        return t.number("temperature", 298.15, gt=0), None
    program = t.value("temperature", symbols=("x", "y", "z", "t"), ge=0)
    if not isinstance(program, Expression):
        if not program > 0:
            raise t.error("temperature", f"must be > 0 (got {program!r})")
        return float(program), None
    if kind == ONSAGER:
        raise t.error("temperature", "as an expression is not available with "
                      "model kind 'onsager'")
    spatial = bool(program.free_symbols & {"x", "y", "z"})
    temperature = float(np.asarray(evaluate(program, np.zeros((1, 1)), 0.0)).ravel()[0])
    if spatial and not (np.isfinite(temperature) and temperature > 0):
        temperature = 298.15
    if not temperature > 0:
        raise t.error("temperature", f"must be > 0 (got {temperature!r} at t = 0)")
    return temperature, program
