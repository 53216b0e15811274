"""The typical magnitudes of a species-transport model's unknowns and
residual rows (``x_scale``, ``r_scale``): Newton works on x / x_scale and
R / r_scale, and adaptive steps measure errors against x_scale, so the same
case in other concentration units (mol/m^3 or atoms/m^3, up to 1e30) takes
the same steps and Newton iterations.  ``model`` is the model
(:class:`~femflux.models.transport.SpeciesTransport`).  Every largest value
over the mesh goes through ``FemMesh.global_max`` (the identity; the largest
over all MPI ranks when the mesh is a rank's part), so a distributed run
scales as the serial one."""

from __future__ import annotations

import numpy as np

from ..case import evaluate
from ..physics.boundary.gas_walls import equilibrium
from ..physics.boundary.species import Concentration, MassTransfer, SurfaceKinetics
from ..physics.traps import TrapKinetics


def _largest(value, at: np.ndarray) -> float:
    """max |value| over the points ``at`` at t = 0."""
    return float(np.max(np.abs(evaluate(value, at, 0.0)), initial=0.0))


def transport_scales(model) -> tuple[np.ndarray, np.ndarray]:
    """Typical magnitudes: the largest initial or boundary concentration, and the
    diffusive (D_max/L^2; 1/t_end if all are immobile) and storage rates per dof."""
    x0 = model.species_initial_state()
    fixed, values = model.dirichlet(0.0)
    x_scale = np.ones(model.n)
    r_scale = np.ones(model.n)
    p = model.fem_mesh.mesh.p
    lo, hi = -model.fem_mesh.global_max(-p.min(axis=1)), model.fem_mesh.global_max(p.max(axis=1))
    length = float(np.linalg.norm(hi - lo)) or 1.0
    d_max = model.fem_mesh.global_max(max(float(s.diffusivity.max()) for s in model.species))
    diffusive = d_max / length**2 if d_max > 0 else 1.0 / model.case.solver.t_end
    K_diag = np.zeros(model.n)
    for s in model.species:
        G = s.space.grads
        local = np.einsum("ideq,ideq,eq->ie", G, G, s.space.dx) * model.element_k(s)
        K_diag[s.slice] = np.bincount(s.space.element_dofs.ravel(), weights=local.ravel(),
                                      minlength=s.space.n)
    M_diag = np.asarray(abs(model._storage_matrix).sum(axis=1)).ravel()
    c_scales = {}
    for s in model.species:
        sl = s.slice
        vals = [np.abs(x0[sl]).max(initial=0.0)]
        in_species = (fixed >= s.offset) & (fixed < s.offset + s.space.n)
        vals.append(np.abs(values[in_species]).max(initial=0.0))
        c_scales[s.name] = model.fem_mesh.global_max(max(vals))
    fill_concentration_scales(model, c_scales, length)
    # the fastest first-order reaction rate (1/s) each species takes part in
    k_char = dict.fromkeys(model.by_name, 0.0)
    for r in model.case.reactions:
        rates = [r.forward * np.prod([c_scales[n] ** (o - 1 if n == m else o)
                                      for n, o in r.reactants.items()])
                 for m in r.reactants]
        rates += [r.backward * np.prod([c_scales[n] ** (o - 1 if n == m else o)
                                        for n, o in r.products.items()])
                  for m in r.products]
        for name in list(r.reactants) + list(r.products):
            k_char[name] = max(k_char[name], max(rates))
    for r in model.reactions:
        if isinstance(r, TrapKinetics):
            for name, rate in r.characteristic_rates(c_scales).items():
                k_char[name] = max(k_char[name], model.fem_mesh.global_max(rate))
    for s in model.species:
        sl = s.slice
        x_scale[sl] = c_scales[s.name]
        rate = np.median(np.abs(K_diag[sl]) + M_diag[sl] * (diffusive + k_char[s.name]))
        r_scale[sl] = c_scales[s.name] * (rate if rate > 0 else 1.0)
    for s in model.species:
        if s.laws is not None and s.laws.mixed:
            _pressure_scales(model, s, x0, fixed, values, x_scale, r_scale)
    if model.ties is not None:  # mu continuity, in activities
        r_scale[model.ties.other] = x_scale[model.ties.other]
        if model.ties.mixed is not None:  # p continuity, in the Henry copy's activity
            rows, henry = model.ties.mixed[:2]
            r_scale[model.ties.other[rows]] = x_scale[henry]
    for f in model.fields:
        f.scales(x_scale, r_scale)
    return x_scale, r_scale


def fill_concentration_scales(model, c_scales: dict, length: float) -> None:
    """A scale for the species that start at 0 with no nonzero boundary
    value, from the case's own magnitudes (so that the same case in
    other concentration units, mol/m^3 or atoms/m^3, scales alike): the
    concentrations its boundaries drive (g L/D of an inward flux, the
    bulk of a mass transfer, the Sieverts value sqrt(K_d p/K_r) of
    surface kinetics), the density of its traps, else the largest scale
    of the other species, and c_ref only when the case has none."""
    hints = concentration_hints(model, length)
    for name, scale in c_scales.items():
        if scale == 0.0:
            c_scales[name] = model.fem_mesh.global_max(hints[name])
    largest = max(c_scales.values(), default=0.0) or model.c_ref
    for name, scale in c_scales.items():
        if scale == 0.0:
            c_scales[name] = largest


def concentration_hints(model, length: float) -> dict[str, float]:
    """The largest concentration each species' boundaries and traps drive
    (mol/m^3; 0 if none): see :func:`fill_concentration_scales` (``length``:
    the body's diagonal, m)."""
    hints: dict[str, list[float]] = {s.name: [] for s in model.species}
    for c in model.conditions:
        name, value = c.species.name, c.value
        at = model.boundary_points(c.boundary.name).x
        if hasattr(c, "gas_rows"):  # sieverts/henry with multipliers: c_eq(p(0))
            p = _largest(value.pressure, at) if value.enclosure is None else next(
                e.pressure for e in model.case.enclosures if e.name == value.enclosure)
            T = model.case.model.temperature
            hints[name].append(float(equilibrium(value.law, value.K.at(T), p)[0]))
        elif isinstance(c, SurfaceKinetics):
            T = model.case.model.temperature
            K_d, K_r = value.dissociation.at(T), value.recombination.at(T)
            p = _largest(value.pressure, at) if value.enclosure is None else next(
                e.pressure for e in model.case.enclosures if e.name == value.enclosure)
            hints[name].append(float(np.sqrt(K_d * p / K_r)) if K_r > 0 else 0.0)
        elif isinstance(c, MassTransfer):
            hints[name].append(_largest(value.bulk, at))
        elif not isinstance(c, Concentration):
            d = float(c.species.diffusivity.max())
            if d > 0:  # an immobile species keeps its inflow where it enters
                hints[name].append(_largest(value, at) * length / d)
    for r in model.reactions:
        if isinstance(r, TrapKinetics):
            N = r.largest_density()
            hints[r.trap.species].append(N)
            hints[r.trap.name].append(N)
    return {name: max(values, default=0.0) for name, values in hints.items()}


def law_of_dofs(model, s) -> np.ndarray:
    """The solubility law (SIEVERTS | HENRY) of each dof of species ``s``
    with Sieverts and Henry regions (a broken dof: its copy's side)."""
    region = model.fem_mesh.region_ids[s.space.elements]
    law = np.zeros(s.space.n, dtype=np.int64)
    dofs = s.space.element_dofs
    law[dofs.ravel()] = np.broadcast_to(s.laws.group_law[s.laws.groups()[region]],
                                       dofs.shape).ravel()
    return law


def _pressure_scales(model, s, x0, fixed, values, x_scale, r_scale) -> None:
    """A species with Sieverts and Henry regions: its activities are sqrt(p)-
    and p-like, so each dof's scale is the activity of its law at the largest
    partial pressure the initial and boundary values give."""
    law = law_of_dofs(model, s)
    p = s.laws.pressure(x0[s.slice], law).max(initial=0.0)
    mine = (fixed >= s.offset) & (fixed < s.offset + s.space.n)
    if mine.any():
        p = max(p, s.laws.pressure(values[mine], law[fixed[mine] - s.offset]).max())
    p = model.fem_mesh.global_max(p)
    if p > 0:
        new = s.laws.activity(p, law)
        r_scale[s.slice] *= new / x_scale[s.slice]
        x_scale[s.slice] = new
