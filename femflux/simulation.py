"""One run: case -> mesh -> model -> solver -> result (the only place they meet)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._version import __version__
from .case import Case, check_against_mesh
from .errors import CaseError, SolverError
from .fem import Probes
from .memory import trim
from .mesh import load_mesh
from .models import build_model
from .results import Frame, Result
from .results import checkpoint as checkpoints
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


def prepare(case: Case, mesh=None):
    """Load and check the mesh and build the model (everything but the solve);
    ``mesh``: ``case.mesh`` already loaded (a sweep's worker keeps it across points)."""
    fem_mesh = load_mesh(case.mesh) if mesh is None else mesh
    case.warnings.extend(w for w in fem_mesh.warnings if w not in case.warnings)
    check_against_mesh(case, fem_mesh)
    model = build_model(case, fem_mesh)
    if case.solver.steady:
        model.conserved()  # a steady run with unbalanced prescribed fluxes is bad input
    fem_mesh.release_caches()
    trim()  # the set-up's freed temporaries
    return fem_mesh, model


def solve(case: Case, progress: bool = False, initial: np.ndarray | None = None,
          checkpoint: Path | None = None, restart: dict | None = None, mesh=None) -> Result:
    """Solve ``case``; raise :class:`SolverError` (with the last converged
    state as ``.result``) when the solver fails.

    ``mesh``: the :class:`~femflux.mesh.FemMesh` of ``case.mesh`` when it is
    loaded already (:mod:`femflux.study.point` reuses it), else it is loaded.

    ``initial``: the unknown vector to start from instead of the case's
    initial values (``Result.state`` of an earlier solve of the same model,
    e.g. the previous point of a continuation); its Dirichlet values are
    replaced by this case's, and closed species keep the amounts it holds.

    Transient runs (:mod:`femflux.results.checkpoint`): ``checkpoint``, a
    folder to write a checkpoint into every ``[output] checkpoint_every`` s
    of wall time (and on SIGINT/SIGTERM); ``restart``, a checkpoint read by
    :func:`~femflux.results.checkpoint.decode` to continue from (a CaseError
    when it is of another case or already at t_end).  With
    ``checkpoint_every > 0`` the result carries its final checkpoint
    (``Result.restart``, saved as ``restart.npz``).
    """
    started = time.perf_counter()
    fem_mesh, model = prepare(case, mesh)
    stats = Stats()
    s = case.solver
    options = NewtonOptions(rtol=s.newton_rtol, atol=s.newton_atol, max_iterations=s.max_newton)
    probes = Probes(fem_mesh, case.output.probes)
    if s.steady:
        x0 = _initial(model, s.linear) if initial is None else _given(model, initial)
        try:
            snap = solve_steady(model, options, s.linear, stats, progress, x0=x0)
        except NewtonFailure as exc:
            last = Snapshot(t=0.0, x=x0, rate=np.zeros(model.n))
            result = _result(case, model, probes, last, stats, started, [], [], converged=False)
            raise SolverError(f"the steady solve did not converge: {exc}", result) from exc
        return _result(case, model, probes, snap, stats, started, [], [], converged=True)
    return _transient(case, model, probes, stats, options, started, progress, initial,
                      checkpoint, restart)


def _transient(case, model, probes, stats, options, started, progress, initial, checkpoint,
               restart) -> Result:
    s, out = case.solver, case.output
    run = _Checkpoints(case, model, checkpoint, restart)
    if restart is not None:
        x0, frames, history, resume = run.resume(stats)
        started -= restart["wall_time_s"]
    else:
        x0 = _initial(model, s.linear) if initial is None else _given(model, initial)
        frames = [_frame(model, 0.0, x0)]
        history = [_history_entry(model, probes, Snapshot(t=0.0, x=x0, rate=None), frames[0])]
        resume = None
        run.start(x0)
    wanted = {float(t) for t in out.times}

    def on_step(snap: Snapshot):
        at_time = any(abs(snap.t - t) <= 1e-9 * max(abs(t), 1e-300) for t in wanted)
        final = snap.t >= s.t_end * (1 - 1e-12)
        frame = None
        if stats.steps % out.every == 0 or at_time or final:
            frame = _frame(model, snap.t, snap.x)
            frames.append(frame)
            run.frame_states.append(snap.x)
        history.append(_history_entry(model, probes, snap, frame))

    def on_settled(state):
        run.settled(state(), history, frames, stats, time.perf_counter() - started)

    time_options = TimeOptions(t_end=s.t_end, dt=s.dt, scheme=s.scheme, adaptive=s.adaptive,
                               output_times=sorted(wanted), rtol=s.time_rtol)
    try:
        snap = solve_transient(model, time_options, options, s.linear, on_step, stats, progress,
                               x0=x0, on_settled=on_settled, resume=resume)
    except KeyboardInterrupt:
        run.write()  # SIGINT, SIGTERM: the last accepted step is kept
        raise
    except SolverError as exc:
        last = exc.result if isinstance(exc.result, Snapshot) else None
        if last is None:
            last = Snapshot(t=0.0, x=x0, rate=np.zeros(model.n))
        if last.rate is None:
            last.rate = np.zeros(model.n)
        exc.result = _result(case, model, probes, last, stats, started, history, frames,
                             converged=False)
        exc.result.restart = run.final()
        exc.args = (f"the transient solve did not converge: {exc}",)
        raise
    result = _result(case, model, probes, snap, stats, started, history, frames, converged=True)
    result.restart = run.final()
    return result


_STATS = ("steps", "rejected_steps", "newton_iterations", "linear_solves", "krylov_iterations",
          "continuation_steps")


class _Checkpoints:
    """The checkpoints of one transient run (:mod:`femflux.results.checkpoint`):
    the state after the last accepted step, written to ``folder`` every
    ``[output] checkpoint_every`` s of wall time, and the run's final one."""

    def __init__(self, case: Case, model, folder: Path | None, restart: dict | None):
        self.model, self.folder = model, folder
        self.every = case.output.checkpoint_every
        self.fingerprint = checkpoints.fingerprint(model) if self.every > 0 or restart else None
        self.restart = restart
        self.frame_states: list[np.ndarray] = []
        self.latest = None
        self.written = time.monotonic()
        if restart is not None:
            checkpoints.check_fingerprint(restart["fingerprint"], self.fingerprint,
                                          Path(restart.get("source", "")))
            t_end = case.solver.t_end
            if restart["t"] > t_end * (1 + 1e-12):
                raise CaseError(f"--restart: the checkpoint is at t = {restart['t']:.6g} s, "
                                f"after [solver] t_end = {t_end:.6g} s")

    def start(self, x0: np.ndarray) -> None:
        self.x0 = x0
        self.frame_states = [x0]

    def resume(self, stats: Stats):
        """(x0, frames, history rows, stepper state) of the checkpoint; the
        counters go into ``stats``."""
        data, arrays = self.restart, self.restart["arrays"]
        self.x0 = arrays["x0"]
        self.frame_states = list(arrays["frames"])
        frames = [_frame(self.model, t, x) for t, x in zip(data["frame_times"],
                                                           self.frame_states, strict=True)]
        for key in _STATS:
            setattr(stats, key, int(data["stats"][key]))
        stats.messages = list(data["stats"]["messages"])
        history = [{"t": snap["t"], "x": arrays[f"x{k}"], "rate": arrays[f"rate{k}"],
                    "dt": snap["dt"], "newton_iterations": snap["newton_iterations"],
                    "residual": arrays.get(f"residual{k}")}
                   for k, snap in enumerate(data["snapshots"])]
        storages = [arrays[f"storage{k}"] for k in range(len(history))]
        state = {"t": data["t"], "dt": data["dt"], "shift": data["shift"], "history": history,
                 "storages": storages}
        rows = list(data["history"])
        self.latest = (state, len(rows), list(data["frame_times"]), data["stats"],
                       data["wall_time_s"], rows)
        return self.x0, frames, rows, state

    def settled(self, state: dict, history: list, frames: list, stats: Stats,
                elapsed: float) -> None:
        """Keep the state after an accepted step; write it when it is time."""
        counters = {key: getattr(stats, key) for key in _STATS}
        counters["messages"] = list(stats.messages)
        self.latest = (state, len(history), [f.t for f in frames], counters, elapsed, history)
        if self.folder is not None and self.every > 0 \
                and time.monotonic() - self.written >= self.every:
            self.write()

    def write(self) -> None:
        """Write the latest state into the checkpoint folder (if any)."""
        if self.folder is None or self.every <= 0 or self.latest is None:
            return
        checkpoints.write(self.folder, self.payload())
        self.written = time.monotonic()

    def final(self) -> dict | None:
        """The payload of the run's last accepted step (None without checkpoints)."""
        return self.payload() if self.every > 0 and self.latest is not None else None

    def payload(self) -> dict:
        state, rows, frame_times, counters, elapsed, history = self.latest
        arrays = {"x0": self.x0,
                  "frames": np.array(self.frame_states[: len(frame_times)])}
        snapshots = []
        for k, snap in enumerate(state["history"]):
            arrays[f"x{k}"], arrays[f"rate{k}"] = snap["x"], snap["rate"]
            arrays[f"storage{k}"] = state["storages"][k]
            if snap["residual"] is not None:
                arrays[f"residual{k}"] = snap["residual"]
            snapshots.append({key: snap[key] for key in ("t", "dt", "newton_iterations")})
        return {"format": checkpoints.FORMAT, "fingerprint": self.fingerprint,
                "t": state["t"], "dt": state["dt"], "shift": state["shift"],
                "snapshots": snapshots,
                "stats": counters, "wall_time_s": elapsed, "frame_times": frame_times,
                "history": history[:rows], "arrays": arrays}


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
    model.at_time(t)
    return Frame(t=t, point_data=model.point_fields(x), cell_data=model.cell_fields(x))


def _history_entry(model, probes: Probes, snap: Snapshot, frame: Frame | None = None
                   ) -> dict:
    """One row of ``history`` (SPEC 6): the step, the amounts, every boundary's
    outward fluxes (and current, potential), every region's amounts and the
    probe values, at an accepted step (or t = 0)."""
    rate = snap.rate if snap.rate is not None else np.zeros(model.n)
    model.at_time(snap.t)
    boundaries = model.boundary_summary(snap.x, rate, snap.t, snap.residual)
    for entry in boundaries.values():
        entry.pop("measure")
    row = {"t": snap.t, "dt": snap.dt, "newton_iterations": snap.newton_iterations}
    if model.case.model.temperature_program is not None:
        row["temperature"] = (model.mean_temperature(snap.t)
                              if model.case.model.temperature_spatial
                              else model.case.model.temperature_at(snap.t))
    row |= {"amount": model.amounts(snap.x), "free_energy": model.free_energy(snap.x),
            "boundaries": boundaries,
            "regions": {name: {"amount": amounts}
                        for name, amounts in model.region_amounts(snap.x).items()}}
    row |= _enclosures(model, snap.x)
    if probes:
        fields = frame.point_data if frame is not None else model.point_fields(snap.x)
        row["probes"] = probes.values(fields)
    return row


def _enclosures(model, x: np.ndarray) -> dict:
    """``{"enclosures": {name: {"pressure" (Pa), "amount" (mol)}}}`` when the
    case has ``[[enclosure]]`` entries, else {}."""
    field = model.field("enclosures") if hasattr(model, "field") else None
    return {"enclosures": field.report(x)} if field is not None and field.size else {}


def _result(case, model, probes: Probes, snap: Snapshot, stats: Stats, started: float,
            history, frames, converged: bool) -> Result:
    model.at_time(snap.t)
    boundaries = model.boundary_summary(snap.x, snap.rate, snap.t)
    fields = model.point_fields(snap.x)
    cell_fields = model.cell_fields(snap.x)
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
    } | _enclosures(model, snap.x)
    if probes:
        summary["probes"] = probes.values(fields)
    if not case.solver.steady:
        summary["history"] = history
    if frames and frames[-1].t != snap.t:
        frames = frames + [_frame(model, snap.t, snap.x)]
    return Result(case=case, mesh=model.fem_mesh, fields=fields, cell_fields=cell_fields,
                  summary=summary, series=frames if not case.solver.steady else [],
                  state=np.array(snap.x, copy=True))
