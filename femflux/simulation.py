"""One run: case -> mesh -> model -> solver -> result (the only place they meet)."""

from __future__ import annotations

import time

import numpy as np

from ._version import __version__
from .case import Case, check_against_mesh
from .errors import CaseError, SolverError
from .fem import Probes
from .memory import trim
from .mesh import load_mesh
from .models import build_model
from .results import Frame, Result
from .solver import (
    NewtonFailure,
    NewtonOptions,
    Snapshot,
    Stats,
    TimeOptions,
    consistent_initial_state,
    solve_steady,
    solve_transient,
)


def prepare(case: Case):
    """Load and check the mesh and build the model (everything but the solve)."""
    fem_mesh = load_mesh(case.mesh)
    case.warnings.extend(w for w in fem_mesh.warnings if w not in case.warnings)
    check_against_mesh(case, fem_mesh)
    model = build_model(case, fem_mesh)
    if case.solver.steady:
        model.conserved()  # a steady run with unbalanced prescribed fluxes is bad input
    fem_mesh.release_caches()
    trim()  # the set-up's freed temporaries
    return fem_mesh, model


def solve(case: Case, progress: bool = False, initial: np.ndarray | None = None) -> Result:
    """Solve ``case``; raise :class:`SolverError` (with the last converged
    state as ``.result``) when the solver fails.

    ``initial``: the unknown vector to start from instead of the case's
    initial values (``Result.state`` of an earlier solve of the same model,
    e.g. the previous point of a continuation); its Dirichlet values are
    replaced by this case's, and closed species keep the amounts it holds.
    """
    started = time.perf_counter()
    fem_mesh, model = prepare(case)
    stats = Stats()
    s = case.solver
    options = NewtonOptions(rtol=s.newton_rtol, atol=s.newton_atol, max_iterations=s.max_newton)
    probes = Probes(fem_mesh, case.output.probes)
    x0 = _initial(model, s.linear) if initial is None else _given(model, initial)
    if s.steady:
        try:
            snap = solve_steady(model, options, s.linear, stats, progress, x0=x0)
        except NewtonFailure as exc:
            last = Snapshot(t=0.0, x=x0, rate=np.zeros(model.n))
            result = _result(case, model, probes, last, stats, started, [], [], converged=False)
            raise SolverError(f"the steady solve did not converge: {exc}", result) from exc
        return _result(case, model, probes, snap, stats, started, [], [], converged=True)

    frames = [_frame(model, 0.0, x0)]
    history = [_history_entry(model, probes, Snapshot(t=0.0, x=x0, rate=None), frames[0])]
    out = case.output
    wanted = {float(t) for t in out.times}

    def on_step(snap: Snapshot):
        at_time = any(abs(snap.t - t) <= 1e-9 * max(abs(t), 1e-300) for t in wanted)
        final = snap.t >= s.t_end * (1 - 1e-12)
        frame = None
        if stats.steps % out.every == 0 or at_time or final:
            frame = _frame(model, snap.t, snap.x)
            frames.append(frame)
        history.append(_history_entry(model, probes, snap, frame))

    time_options = TimeOptions(t_end=s.t_end, dt=s.dt, scheme=s.scheme, adaptive=s.adaptive,
                               output_times=sorted(wanted), rtol=s.time_rtol)
    try:
        snap = solve_transient(model, time_options, options, s.linear, on_step, stats, progress,
                               x0=x0)
    except SolverError as exc:
        last = exc.result if isinstance(exc.result, Snapshot) else None
        if last is None:
            last = Snapshot(t=0.0, x=x0, rate=np.zeros(model.n))
        if last.rate is None:
            last.rate = np.zeros(model.n)
        exc.result = _result(case, model, probes, last, stats, started, history, frames,
                             converged=False)
        exc.args = (f"the transient solve did not converge: {exc}",)
        raise
    return _result(case, model, probes, snap, stats, started, history, frames, converged=True)


def _initial(model, linear: str) -> np.ndarray:
    """The consistent initial state, computed once per run (the solvers start
    from it, and it is the first frame and history entry)."""
    return consistent_initial_state(model, linear)


def _given(model, initial) -> np.ndarray:
    """A given starting state with this case's Dirichlet values at t = 0."""
    x = np.array(initial, dtype=float)
    if x.shape != (model.n,):
        raise CaseError(f"the initial state has shape {x.shape}; this case's model has "
                        f"{model.n} unknowns")
    fixed, values = model.dirichlet(0.0)
    x[fixed] = values
    return x


def _frame(model, t: float, x: np.ndarray) -> Frame:
    return Frame(t=t, point_data=model.point_fields(x), cell_data=model.cell_fields(x))


def _history_entry(model, probes: Probes, snap: Snapshot, frame: Frame | None = None
                   ) -> dict:
    """One row of ``history`` (SPEC 6): the step, the amounts, every boundary's
    outward fluxes (and current, potential), every region's amounts and the
    probe values, at an accepted step (or t = 0)."""
    rate = snap.rate if snap.rate is not None else np.zeros(model.n)
    boundaries = model.boundary_summary(snap.x, rate, snap.t, snap.residual)
    for entry in boundaries.values():
        entry.pop("measure")
    row = {"t": snap.t, "dt": snap.dt, "newton_iterations": snap.newton_iterations}
    if model.case.model.temperature_program is not None:
        row["temperature"] = model.case.model.temperature_at(snap.t)
    row |= {"amount": model.amounts(snap.x), "free_energy": model.free_energy(snap.x),
            "boundaries": boundaries,
            "regions": {name: {"amount": amounts}
                        for name, amounts in model.region_amounts(snap.x).items()}}
    if probes:
        fields = frame.point_data if frame is not None else model.point_fields(snap.x)
        row["probes"] = probes.values(fields)
    return row


def _result(case, model, probes: Probes, snap: Snapshot, stats: Stats, started: float,
            history, frames, converged: bool) -> Result:
    fields = model.point_fields(snap.x)
    cell_fields = model.cell_fields(snap.x)
    boundaries = model.boundary_summary(snap.x, snap.rate, snap.t)
    summary = {
        "converged": converged,
        "model": case.model.kind,
        "steady": case.solver.steady,
        "time": float(snap.t),
        "steps": stats.steps,
        "newton_iterations": stats.newton_iterations,
        "rejected_steps": stats.rejected_steps,
        "continuation_steps": stats.continuation_steps,
        "dofs": int(model.n),
        "wall_time_s": time.perf_counter() - started,
        "femflux_version": __version__,
        "region_names": {str(k): name for k, name in model.fem_mesh.region_names.items()},
        "warnings": list(case.warnings),
        "solver_messages": list(stats.messages) + model.notes(),
        "boundaries": boundaries,
        "regions": {name: {"amount": amounts}
                    for name, amounts in model.region_amounts(snap.x).items()},
    }
    if probes:
        summary["probes"] = probes.values(fields)
    if not case.solver.steady:
        summary["history"] = history
    if frames and frames[-1].t != snap.t:
        frames = frames + [_frame(model, snap.t, snap.x)]
    return Result(case=case, mesh=model.fem_mesh, fields=fields, cell_fields=cell_fields,
                  summary=summary, series=frames if not case.solver.steady else [],
                  state=np.array(snap.x, copy=True))
