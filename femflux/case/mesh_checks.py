"""Checks of a :class:`Case` against its loaded mesh (:func:`check_against_mesh`).

Owns what needs the mesh: boundary and region names exist, vectors have one
entry per dimension, the geometry options fit the mesh, species exist next to
the boundaries that name them and in the regions of their reactions, every
expression is finite where it applies (at t = 0 and, when it depends on t,
up to t_end; concentrations >= 0) and every Arrhenius rate is finite.
"""

from __future__ import annotations

import numpy as np
from scipy.constants import R as GAS_CONSTANT

from ..errors import CaseError, clip
from .checks import (
    _boundary_values,
    _check_names,
    _check_vector_lengths,
    _electroneutral_problem,
    _warn,
)
from .expressions import Expression, evaluate
from .schema import (
    ONSAGER,
    Case,
    Value,
)


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
    _check_onsager_regions(case, mesh)
    _check_partial_molar_volumes(case, mesh)
    _check_values_on_mesh(case, mesh)
    _check_rates(case, mesh)
    _check_electroneutral_boundaries(case, mesh)
    _check_probes(case, mesh)
    if case.raw.get("elasticity", {}).get("plane") is not None and (
        mesh.dim != 2 or case.mesh.axisymmetric
    ):
        _warn(case, "[elasticity] plane has no effect: the mesh is not 2D planar")
    for message in getattr(mesh, "warnings", []):
        _warn(case, message)


def _check_probes(case: Case, mesh) -> None:
    """Every ``[output] probes`` point lies in the mesh (coordinates in m)."""
    if not case.output.probes:
        return
    finder = mesh.mesh.element_finder()
    lo, hi = mesh.mesh.p.min(axis=1), mesh.mesh.p.max(axis=1)
    for name, point in case.output.probes.items():
        try:
            if np.any(np.asarray(point) < lo) or np.any(np.asarray(point) > hi):
                raise ValueError("outside the bounding box")
            finder(*(np.array([c]) for c in point))
        except (ValueError, IndexError):
            raise CaseError(f"[output] probes.{name} = {point} is outside the mesh "
                            "(coordinates in m, after [mesh] scale)") from None


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
            if b.butler_volmer.reduced is not None:
                named.add(b.butler_volmer.reduced)
        if b.surface_kinetics is not None:
            named.add(b.surface_kinetics.species)
        if b.solubility_wall is not None:
            named.add(b.solubility_wall.species)
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


def _regions_of(species, mesh) -> list[str]:
    """The mesh regions where ``species`` exists, in mesh order."""
    return [name for name in mesh.regions if species.exists_in(name)]


def _check_onsager_regions(case: Case, mesh) -> None:
    """Onsager couples every species at every point: they must all exist in the same regions."""
    if case.model.kind != ONSAGER:
        return
    everywhere = list(mesh.regions)
    first = _regions_of(case.species[0], mesh)
    if all(_regions_of(s, mesh) == first for s in case.species):
        return
    for species in case.species:
        if _regions_of(species, mesh) != everywhere:
            raise CaseError(
                f"onsager: species {species.name!r} is restricted to some regions; "
                "all species of an onsager case must exist everywhere"
            )


def _check_partial_molar_volumes(case: Case, mesh) -> None:
    """With elasticity, Omega of a species must be the same in all regions where it exists."""
    if not case.has_elasticity:
        return
    for species in case.species:
        values = set()
        for name in _regions_of(species, mesh):
            region = case.region_by_name(name)
            if region is not None and species.name in region.partial_molar_volume:
                values.add(region.partial_molar_volume[species.name])
            else:
                values.add(species.partial_molar_volume)
        if len(values) > 1:
            raise CaseError(
                f"species {species.name!r}: partial_molar_volume differs between its regions "
                f"({', '.join(f'{v:g}' for v in sorted(values))}); stress-diffusion needs one "
                "value per species"
            )


def _nodes(mesh, elements=None) -> np.ndarray:
    """Coordinates (dim, n) of the nodes of ``elements`` (default all)."""
    if elements is None:
        return mesh.mesh.p
    return mesh.mesh.p[:, np.unique(mesh.mesh.t[:, elements])]


def _point(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in x) + ") m"


def _check_value(where: str, value: Value, x: np.ndarray, times, nonnegative: bool) -> None:
    """An expression must be finite (and >= 0 when ``nonnegative``) at the points
    ``x`` (dim, n) at the given times (only t = 0 when it does not depend on t);
    evaluated as the model evaluates it (:func:`evaluate`).  An expression of a
    field (a trap density of sigma_h) is checked by the model, once the field is
    known."""
    if not isinstance(value, Expression) or x.size == 0:
        return
    if set(map(str, value.free_symbols)) - {"x", "y", "z", "t"}:
        return
    text = clip(repr(value.text))
    for time in times if value.depends_on_time else [0.0]:
        values = evaluate(value, x, time)
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.argmax(bad))
            raise CaseError(f"{where} = {text} is not finite ({values[k]}) at "
                            f"{_point(x[:, k])} (t = {time:g} s)")
        if nonnegative and values.min() < 0:
            k = int(np.argmin(values))
            raise CaseError(f"{where} = {text} must be >= 0 but is {values[k]:.6g} at "
                            f"{_point(x[:, k])} (t = {time:g} s)")


def _times(case: Case) -> list[float]:
    """The times expressions are checked at: 0, and in a transient run up to t_end."""
    return [0.0] if case.solver.steady else list(np.linspace(0.0, case.solver.t_end, 5))


def _elements_of(mesh, region_names) -> np.ndarray | None:
    if not region_names:
        return None
    return np.concatenate([np.asarray(mesh.regions[r], int) for r in region_names])


def _check_values_on_mesh(case: Case, mesh) -> None:
    """Every expression of the case is finite where it applies, at t = 0 and (when
    it depends on t) up to t_end; concentrations, densities and mass-transfer
    data are >= 0."""
    times = _times(case)
    for species in case.species:
        x = _nodes(mesh, _elements_of(mesh, species.regions))
        _check_value(f"species {species.name!r}: initial", species.initial, x, times, True)
        _check_value(f"species {species.name!r}: activity_coefficient",
                     getattr(species, "activity_profile", None), x, times, False)
    for region in case.regions:
        x = _nodes(mesh, np.asarray(mesh.regions[region.name], int))
        for name, value in region.initial.items():
            _check_value(f"region {region.name!r}: initial.{name}", value, x, times, True)
    for index, trap in enumerate(case.traps):
        x = _nodes(mesh, _elements_of(mesh, trap.regions))
        _check_value(f"trap {index}: density", trap.density, x, times, True)
        _check_value(f"trap {index}: initial", trap.initial, x, times, True)
    for b in case.boundaries:
        facets = np.asarray(mesh.boundaries[b.name], dtype=int)
        x = mesh.mesh.p[:, np.unique(mesh.mesh.facets[:, facets])]
        for key, value in _boundary_values(b):
            nonnegative = key.startswith(("concentration.", "mass_transfer."))
            _check_value(f"boundary {b.name!r}: {key}", value, x, times, nonnegative)
        if b.surface_kinetics is not None:
            _check_value(f"boundary {b.name!r}: surface_kinetics.pressure",
                         b.surface_kinetics.pressure, x, times, True)
        wall = b.solubility_wall
        if wall is not None and wall.enclosure is None:
            _check_value(f"boundary {b.name!r}: {wall.law}.pressure", wall.pressure, x, times,
                         True)


def _temperatures(case: Case, mesh, time: float) -> tuple[float, float, np.ndarray | None]:
    """(min T, max T, the mesh node where T is not finite and > 0, or None) at
    ``time``: T(t), or T(x, y, z, t) at every mesh node."""
    model = case.model
    if not model.temperature_spatial:
        T = model.temperature_at(time)
        return T, T, None if (np.isfinite(T) and T > 0) else np.zeros(0)
    nodes = mesh.mesh.p
    T = model.temperature_points(nodes, time)
    bad = ~(np.isfinite(T) & (T > 0))
    if bad.any():
        finite = np.isfinite(T)
        k = int(np.argmin(T)) if finite.all() else int(np.flatnonzero(~finite)[0])
        return float(T[k]), float(T[k]), nodes[:, k]
    return float(T.min()), float(T.max()), None


def _check_rates(case: Case, mesh) -> None:
    """T(t) (or T(x, y, z, t) at every mesh node) is finite and > 0, and
    every Arrhenius rate finite, at the checked times (Arrhenius factors are
    monotone in T: checked at its extremes)."""
    model = case.model
    rates = [(f"trap {k}: {key}", getattr(trap, key)) for k, trap in enumerate(case.traps)
             for key in ("trapping", "detrapping")]
    rates += [(f"boundary {b.name!r}: surface_kinetics.{key}", getattr(b.surface_kinetics, key))
              for b in case.boundaries if b.surface_kinetics is not None
              for key in ("dissociation", "recombination")]
    rates += [(f"boundary {b.name!r}: {b.solubility_wall.law}.K", b.solubility_wall.K)
              for b in case.boundaries if b.solubility_wall is not None]
    times = _times(case) if model.temperature_program is not None else [0.0]
    for time in times:
        T_min, T_max, bad = _temperatures(case, mesh, time)
        if bad is not None:
            at = f" at x = {np.round(bad, 12).tolist()} m" if bad.size else ""
            raise CaseError(f"[model] temperature = {clip(repr(model.temperature_program.text))} "
                            f"must be finite and > 0 but is {T_min:.6g} K{at}, t = {time:g} s")
        for T in dict.fromkeys((T_min, T_max)):
            _check_rates_at(case, rates, T, time)


def _check_rates_at(case: Case, rates: list, T: float, time: float) -> None:
    """Every Arrhenius rate and scaled value is finite at T (K)."""
    for where, rate in rates:
        if not np.isfinite(rate.at(T)):
            raise CaseError(f"{where}: pre exp(-energy/RT) is not finite at T = {T:g} K "
                            f"(t = {time:g} s)")
    scaled = [(f"species {s.name!r}: diffusivity D0", s.diffusivity, s.activation_energy)
              for s in case.species]
    for k, r in enumerate(case.reactions):
        scaled += [(f"reaction {k} ({r.equation!r}): forward", r.forward,
                    getattr(r, "forward_energy", 0.0)),
                   (f"reaction {k} ({r.equation!r}): backward", r.backward,
                    getattr(r, "backward_energy", 0.0))]
    for where, value, energy in scaled:  # value at T(0) times exp(-E/R (1/T - 1/T0))
        exponent = -energy / GAS_CONSTANT * (1 / T - 1 / case.model.temperature)
        if not np.isfinite(value * np.exp(min(exponent, 1e3))):
            raise CaseError(f"{where} exp(-E/RT) is not finite at T = {T:g} K "
                            f"(t = {time:g} s)")


def _check_electroneutral_boundaries(case: Case, mesh) -> None:
    """With electroneutral = true, boundary concentrations against the adjacent fixed charge."""
    if not case.has_electrostatics or not case.electrostatics.electroneutral:
        return
    for b in case.boundaries:
        for name in sorted(_regions_next_to(mesh, b.name)):
            region = case.region_by_name(name)
            fixed = (region.fixed_charge or 0.0) if region is not None else 0.0
            charged = [s for s in case.charged_species if s.exists_in(name)]
            problem = _electroneutral_problem(b.concentration, charged, fixed)
            if problem:
                raise CaseError(f"boundary {b.name!r}: concentration {problem} in region {name!r}")
