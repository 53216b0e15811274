"""Cross-checks of a whole :class:`Case` after it is read, and its warnings.

Owns everything that relates two sections or keys and does not need the mesh:
keys of physics the case does not have, contradictions (``surface_charge``
with ``electroneutral = true``), electroneutral data, Butler-Volmer rules,
``[thermo]`` and ``[solver]`` keys without effect, names and vector lengths
of a generated mesh.  Keys that have no effect are warnings (:func:`_warn`,
listed in ``Case.warnings``); contradictions raise :class:`CaseError`.
"""

from __future__ import annotations

from ..errors import CaseError
from .expressions import Expression
from .schema import (
    ELECTRONEUTRAL_RTOL,
    GENERATED_REGION,
    MODEL_SECTIONS,
    ONSAGER,
    SPECIES_CONDITIONS,
    STRESS,
    TRANSIENT_SOLVER_KEYS,
    Boundary,
    Case,
    Species,
    Value,
)
from .table import _suggest


def _warn(case: Case, message: str) -> None:
    """Add a warning once."""
    if message not in case.warnings:
        case.warnings.append(message)


def _without(kind: str, section: str) -> str:
    """``model kind 'K'``, plus ``without [section]`` when kind K could have the physics."""
    text = f"model kind {kind!r}"
    if kind in MODEL_SECTIONS[section]:
        text += f" without [{section}]"
    return text


def _check_case(case: Case) -> None:
    """Everything that relates two sections; the readers checked each key on its own."""
    _check_region_species(case)
    _check_diffusivities(case)
    _check_ignored_properties(case)
    _check_electrostatics(case)
    _check_elasticity(case)
    _check_gravity(case)
    _check_thermo(case)
    _check_onsager_activity(case)
    _check_time(case)
    _check_immobile(case)
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
    """Warn for species and region keys of physics (electrostatics, elasticity) the case lacks."""
    kind = case.model.kind
    present = {"electrostatics": case.has_electrostatics, "elasticity": case.has_elasticity}
    for species in case.species:
        if species.charge != 0 and not case.has_electrostatics:
            _warn(
                case,
                f"species {species.name!r}: charge has no effect in "
                f"{_without(kind, 'electrostatics')}",
            )
        if species.partial_molar_volume != 0 and not case.has_elasticity:
            _warn(
                case,
                f"species {species.name!r}: partial_molar_volume has no effect in "
                f"{_without(kind, 'elasticity')}",
            )
    owners = {
        "relative_permittivity": "electrostatics",
        "fixed_charge": "electrostatics",
        "partial_molar_volume": "elasticity",
        "youngs_modulus": "elasticity",
        "poisson_ratio": "elasticity",
    }
    for region in case.regions:
        entry = _raw_entry(case, "region", region.name)
        for key, section in owners.items():
            if key in entry and not present[section]:
                _warn(
                    case,
                    f"region {region.name!r}: {key} has no effect in {_without(kind, section)}",
                )
        if len(entry) == 1:
            _warn(case, f"region {region.name!r} sets nothing")
    for boundary in case.boundaries:
        if len(_raw_entry(case, "boundary", boundary.name)) == 1:
            _warn(
                case, f"boundary {boundary.name!r} sets nothing (it behaves as an unnamed boundary)"
            )


def _check_electrostatics(case: Case) -> None:
    """Charges, electroneutrality and the electric boundary conditions (with electrostatics)."""
    if not case.has_electrostatics:
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
    if bv.reduced is None and charge != bv.electrons:
        raise CaseError(
            f"{where} butler_volmer electrons = {bv.electrons} must equal the charge of "
            f"species {bv.species!r} ({charge}): O^z + n e- <=> M(s)"
        )
    if bv.reduced is not None:
        reduced = case.species_by_name(bv.reduced).charge
        if charge - reduced != bv.electrons:
            raise CaseError(
                f"{where} butler_volmer electrons = {bv.electrons} must equal the charge of "
                f"species {bv.species!r} ({charge}) minus that of reduced {bv.reduced!r} "
                f"({reduced}): O^z + n e- <=> R^(z-n)"
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
    """[elasticity] keys without effect; species that do not feel the stress (with elasticity)."""
    if not case.has_elasticity:
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
        kind = case.model.kind
        owner = kind if kind == STRESS else f"{kind} with [elasticity]"
        _warn(
            case,
            f"{owner}: every partial_molar_volume is 0, so the species "
            "and the stress do not interact",
        )


def _check_gravity(case: Case) -> None:
    """[model] gravity and species molar_mass go together; radial geometries forbid gravity."""
    gravity = case.model.gravity
    heavy = [s for s in case.species if s.molar_mass != 0]
    if gravity is None:
        for species in heavy:
            _warn(
                case, f"species {species.name!r}: molar_mass has no effect without [model] gravity"
            )
        return
    if not heavy:
        _warn(case, "[model] gravity has no effect: no species has a molar_mass")
    shown = "[" + ", ".join(f"{g:g}" for g in gravity) + "]"
    if case.mesh.axisymmetric and gravity[0] != 0:
        raise CaseError(
            f"[model] gravity = {shown}: an axisymmetric mesh needs gx = 0 "
            "(gravity along the axis y)"
        )
    if case.mesh.symmetry != "planar" and any(gravity):
        raise CaseError(
            f"[model] gravity = {shown} cannot be used with [mesh] symmetry = "
            f"{case.mesh.symmetry!r} (gravity must be 0)"
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


def _check_onsager_activity(case: Case) -> None:
    """Onsager: gamma = 1 for every species and region (non-ideality goes into [thermo])."""
    if case.model.kind != ONSAGER:
        return
    for species in case.species:
        gammas = [("", species.activity_coefficient)]
        gammas += [
            (f" in region {region.name!r}", region.activity_coefficient[species.name])
            for region in case.regions
            if species.name in region.activity_coefficient
        ]
        for where, gamma in gammas:
            if gamma != 1.0:
                raise CaseError(
                    f"onsager: species {species.name!r}: activity_coefficient must be 1 "
                    f"(non-ideality goes into [thermo]); got {gamma:g}{where}"
                )


def _check_immobile(case: Case) -> None:
    """Steady: a species with D = 0 (immobile) in no reaction or trap has no
    equation (dc/dt = 0 holds for any c), so the Jacobian is singular."""
    if not case.solver.steady or not _uses_species_diffusivity(case):
        return
    reacting = {n for r in case.reactions for n in r.species} | {t.species for t in case.traps}
    for s in case.species:
        given = [r.diffusivity[s.name] for r in case.regions if s.name in r.diffusivity]
        if s.name not in reacting and not any([s.diffusivity, *given]):
            raise CaseError(
                f"species {s.name!r}: diffusivity 0 (immobile) and in no reaction: a steady "
                "run has no equation for it (give it a diffusivity or run transient)"
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
    if "displacement_degree" in raw and not case.has_elasticity:
        _warn(
            case,
            "[solver] displacement_degree has no effect in "
            f"{_without(case.model.kind, 'elasticity')}",
        )


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
    for index, trap in enumerate(case.traps):
        mobile = case.species_by_name(trap.species)
        for name in trap.regions:
            if name not in regions:
                raise fail(f"trap {index}: region", name, regions)
            if mobile.regions and name not in mobile.regions:
                raise CaseError(f"trap {index}: species {trap.species!r} does not exist in "
                                f"region {name!r}")


def _check_vector_lengths(case: Case, dim: int) -> None:
    """Gravity, displacement and traction vectors need one entry per dimension."""
    gravity = case.model.gravity
    if gravity is not None and len(gravity) != dim:
        raise CaseError(
            f"[model] gravity needs {dim} entries, one per dimension of the mesh "
            f"(got {len(gravity)})"
        )
    for name, point in case.output.probes.items():
        if len(point) != dim:
            raise CaseError(
                f"[output] probes.{name} needs {dim} coordinates, one per dimension of the "
                f"mesh (got {len(point)})"
            )
    for boundary in case.boundaries:
        for key in ("displacement", "traction"):
            vector = getattr(boundary, key)
            if vector is not None and len(vector) != dim:
                raise CaseError(
                    f"boundary {boundary.name!r}: {key} needs {dim} entries, one per "
                    f"dimension of the mesh (got {len(vector)})"
                )
