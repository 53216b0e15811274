"""Adaptive implicit time stepping of ``dS/dt + F(x, t) = 0``: BDF1 or
variable-step BDF2, ``a0 S(x) + H + dt F(x, t) = 0``, steps controlled by a
local-error estimate (predictor difference) with rejection, shortened to
hit requested output times; the first step is checked by step doubling.
In autonomous problems the error accumulated along the motion (a time
shift) is held below rtol at t_end too (:meth:`_Stepper._drift`), so that
rtol is the relative error at t_end.  The stepper's state after any
accepted step (:meth:`_Stepper.state`) continues the run bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import CaseError, NewtonFailure, SolverError
from ..linalg import LinearSolver
from .bordered import Bordered, _damping, _free_dofs
from .initial import consistent_initial_state
from .newton import NewtonOptions, Stats, newton
from .progress import _progress_bar
from .system import Snapshot, System


@dataclass
class TimeOptions:
    t_end: float
    dt: float
    scheme: str = "bdf2"
    adaptive: bool = True
    rtol: float = 1e-3  # relative error per step, and of the drift accumulated to t_end
    atol_fraction: float = 1e-3  # absolute tolerance as a fraction of x_scale
    output_times: list[float] = field(default_factory=list)
    dt_min_fraction: float = 1e-14


#: 2D systems at least this large use the model's own preconditioner, when it
#: has one, instead of a direct factorisation (fill-in and memory)
_MODEL_PRECONDITIONER_2D = 400_000


def _model_preconditioner(system: System, solver: LinearSolver, linear: str, border: int):
    """The model's :meth:`System.preconditioner` when it may replace the linear
    solver (it returns None where it has none): nonlinear transient systems
    that would otherwise go to the generic AMG (large 3D) or to a very large
    2D factorisation; else None."""
    if system.linear or border or linear == "direct":
        return None
    n = system.n
    if linear == "iterative" or solver.choose(n) == "iterative" \
            or system.dim <= 2 and n >= _MODEL_PRECONDITIONER_2D:
        return system.preconditioner
    return None


def _conserved_rows(system: System, border: int) -> np.ndarray | None:
    """The model's conserved combinations (closed species) on the bordered
    unknowns, or None."""
    try:
        C = np.asarray(system.conserved(), dtype=float)
    except CaseError:  # prescribed inflows that cannot balance: a steady-run check
        return None
    if C.ndim != 2 or len(C) == 0:
        return None
    return np.hstack([C, np.zeros((len(C), border))]) if border else C


def _bdf_coefficients(order: int, dt: float, dt_prev: float) -> list[float]:
    """Coefficients a_k with dS/dt ~ sum_k a_k S^{n+1-k} (variable step)."""
    if order == 1:
        return [1.0 / dt, -1.0 / dt]
    w = dt / dt_prev
    return [(1 + 2 * w) / ((1 + w) * dt), -(1 + w) / dt, w * w / ((1 + w) * dt)]


def _predict(history: list[Snapshot], t: float, order: int) -> np.ndarray:
    """Extrapolate the last ``order + 1`` states to time ``t`` (Lagrange polynomial)."""
    pts = history[-(order + 1):]
    x = np.zeros_like(pts[-1].x)
    for i, pi in enumerate(pts):
        li = 1.0
        for j, pj in enumerate(pts):
            if i != j:
                li *= (t - pj.t) / (pi.t - pj.t)
        x += li * pi.x
    return x


def solve_transient(system: System, time_options: TimeOptions, options: NewtonOptions,
                    linear: str = "auto", on_step: Callable[[Snapshot], None] | None = None,
                    stats: Stats | None = None, progress: bool = False,
                    x0: np.ndarray | None = None,
                    on_settled: Callable[[Callable[[], dict]], None] | None = None,
                    resume: dict | None = None) -> Snapshot:
    """Integrate ``dS/dt + F(x, t) = 0`` from ``x0`` at t = 0 (by default
    :func:`consistent_initial_state`) to ``t_end``.

    ``on_step`` is called with every accepted step.  ``on_settled(state)``
    is called after the accepted steps of each attempt (the two half steps
    of the first one), with ``state()`` returning the stepper's state then
    (:meth:`_Stepper.state`: what continuing bit for bit needs); ``resume``
    is such a state to continue from (``x0`` must then be the run's initial
    state, t_end may be later).  On failure raises :class:`SolverError`
    whose ``result`` attribute is the last accepted :class:`Snapshot`.
    """
    stats = stats if stats is not None else Stats()
    stepper = _Stepper(system, time_options, options, linear, stats, x0, resume)
    bar = _progress_bar(time_options.t_end, progress)
    try:
        for accepted in stepper.run():
            for snap in accepted:
                stats.steps += 1
                if bar is not None:
                    bar.update(snap.dt)
                if on_step is not None:
                    on_step(snap)
            if on_settled is not None:
                on_settled(stepper.state)
    except SolverError as exc:
        exc.result = stepper.history[-1]
        raise
    finally:
        if bar is not None:
            bar.close()
    return stepper.history[-1]


class _Stepper:
    """Variable-step BDF1/BDF2 with local-error control and step rejection.

    The first step has no history for an error estimate, so it is checked by
    step doubling (one step of dt against two of dt/2).
    """

    def __init__(self, system: System, to: TimeOptions, options: NewtonOptions, linear: str,
                 stats: Stats, x0: np.ndarray | None = None, resume: dict | None = None):
        self.system, self.to, self.options, self.stats = system, to, options, stats
        self.solver = LinearSolver.for_system(system, linear)
        x = consistent_initial_state(system, linear) if x0 is None else x0
        self.border = Bordered(system, x, steady=False)
        self.solver.border = self.border.k
        self.conserved = None if system.linear else _conserved_rows(system, self.border.k)
        self.precondition = _model_preconditioner(system, self.solver, linear, self.border.k)
        self.stops = sorted({float(t) for t in to.output_times if 0 < t < to.t_end}
                            | {to.t_end})
        self.dt_min = to.dt_min_fraction * to.t_end
        if resume is None:
            self.history = [Snapshot(t=0.0, x=x, rate=np.zeros(system.n))]
            self.storages = [system.storage(x)[0]]
            self.t, self.dt = 0.0, self._limited(min(to.dt, to.t_end))
            self.shift = 0.0
        else:
            self.history = [Snapshot(**snap) for snap in resume["history"]]
            self.storages = list(resume["storages"])
            self.t, self.dt = float(resume["t"]), float(resume["dt"])
            self.shift = float(resume["shift"])
        self.drift_control = to.adaptive and _autonomous(system, x, to)

    def state(self) -> dict:
        """What continuing from here bit for bit needs (``resume`` of
        :func:`solve_transient`): the time, the next step, the last states
        (BDF2's history and the predictor's) with their stored amounts."""
        history = [{"t": s.t, "x": s.x, "rate": s.rate, "dt": s.dt,
                    "newton_iterations": s.newton_iterations, "residual": s.residual}
                   for s in self.history]
        return {"t": self.t, "dt": self.dt, "shift": self.shift, "history": history,
                "storages": list(self.storages)}

    def run(self):
        """Yield the accepted snapshots of each successful attempt (two for the
        first, step-doubled one) once the next step is chosen."""
        to = self.to
        t, dt = self.t, self.dt
        while t < to.t_end * (1 - 1e-12):
            next_stop = next(s for s in self.stops if s > t * (1 + 1e-12) + 1e-300)
            hit = t + dt >= next_stop * (1 - 1e-9)
            step = next_stop - t if hit else dt
            if not hit and t + 1.5 * step > next_stop:
                step = 0.5 * (next_stop - t)  # no sliver step before the stop
            try:
                accepted, error, drift, order = self._attempt(step)
            except NewtonFailure as exc:
                self.stats.rejected_steps += 1
                dt = 0.25 * step
                self._check_dt(dt, t, exc)
                continue
            if accepted is None:  # error too large
                self.stats.rejected_steps += 1
                dt = step * max(0.1, 0.9 * error ** (-1.0 / (order + 1)))
                self._check_dt(dt, t)
                continue
            t = self.history[-1].t
            if to.adaptive:
                best = step * 0.9 * max(error, 1e-10) ** (-1.0 / (order + 1))
                dt = min(2.0 * step, max(0.5 * step, best))
                if drift > 0:  # never below a tenth of the local criterion's step
                    shorter = step * max(0.5, 0.9 * drift ** (-1.0 / order))
                    dt = min(dt, max(shorter, 0.1 * best))
                dt = self._limited(dt)
            else:  # fixed steps: back to the user's dt after a cut or a shortened step
                dt = min(to.dt, 2.0 * step)
            self.t, self.dt = t, dt
            yield accepted

    def _limited(self, dt: float) -> float:
        """dt within the model's ``time_step_limit(x, rtol)`` (adaptive runs)."""
        if not self.to.adaptive:
            return dt
        bound = self.system.time_step_limit(self.history[-1].x, self.to.rtol)
        return dt if bound is None else min(dt, bound)

    def _check_dt(self, dt, t, exc=None):
        reason = f": {exc}" if exc is not None else ""
        if dt < self.dt_min:
            raise SolverError(f"time step fell below {self.dt_min:.3e} s at t = {t:.6e} s"
                              f"{reason}")
        attempts = self.stats.rejected_steps + self.stats.steps
        if not self.to.adaptive and attempts > _FIXED_STEP_ATTEMPTS * self.to.t_end / self.to.dt \
                + 1000:
            # fixed steps that keep failing crawl (cut, accepted, back to dt, cut
            # again), e.g. towards a blow-up: hours before dt_min is reached
            raise SolverError(f"fixed steps keep failing: {attempts} attempts by t = {t:.6e} s "
                              f"for t_end / dt = {self.to.t_end / self.to.dt:.6g} steps (try "
                              f"adaptive = true or a larger max_newton){reason}")

    def _attempt(self, step):
        """Try a step; return (accepted snapshots or None, local error estimate,
        drift size (see :meth:`_drift`), order): both 1 = at tolerance; the
        local error grows like step^(order + 1), the drift like step^order."""
        if len(self.history) < 2 and self.to.adaptive:
            full = self._solve_step(step, 1, commit=False)
            first = self._solve_step(0.5 * step, 1, commit=True)
            second = self._solve_step(0.5 * step, 1, commit=True)
            fixed, _ = self.system.dirichlet(second.t)
            free = _free_dofs(self.system.n, fixed)
            error = _weighted_error(self.system, second.x, second.x - full.x, free, self.to)
            if error > 1.0:
                self._rollback(2)
                return None, error, 0.0, 1
            return [first, second], error, 0.0, 1
        order = 2 if self.to.scheme == "bdf2" and len(self.history) >= 2 else 1
        snap = self._solve_step(step, order, commit=False)
        fixed, _ = self.system.dirichlet(snap.t)
        free = _free_dofs(self.system.n, fixed)
        if len(self.history) < 2:  # a fixed first step: no estimate
            e = np.zeros(self.system.n)
        else:
            e = _error_vector(self.history, snap.x, snap.t, order)
        error = _weighted_error(self.system, snap.x, e, free, self.to)
        drift, shift = self._drift(snap, e, free, step)
        if self.to.adaptive and error > 1.0:
            return None, error, drift, order
        self._commit(snap)
        self.shift += shift
        return [snap], error, drift, order

    def _drift(self, snap, e, free, step) -> tuple[float, float]:
        """(size, shift): the part of the local error e along the motion,
        e ~ shift dx/dt, is a time shift that the later steps of an
        autonomous problem carry on undamped (a decaying mode: the relative
        error of y' = -k y is the sum of its steps'), so that the accumulated
        shift A is an error A dx/dt.  Where e is mostly along the motion
        (cos^2 >= _COHERENT in the error norm's weights), A is held below
        rtol tau, tau = 1 / (RMS of (dx/dt) / max(|x|, atol)) the current
        time scale, by allowing each step the room left, rtol tau - |A|
        (at least rtol tau / 4), in proportion to its share of the time still
        to go, step / min(t_end - t, _HORIZON tau).  ``size``: this step's growth of |A| over its
        allowance (1 = at tolerance; 0 when not adaptive, for a model that
        measures errors itself or a problem that depends on t)."""
        n = self._count(free)
        if not self.drift_control or n == 0:
            return 0.0, 0.0
        weight = np.maximum(np.abs(snap.x), self.to.atol_fraction * self.system.x_scale)[free]
        v = (snap.x[free] - self.history[-1].x[free]) / (step * weight)
        ew = e[free] / weight
        vv, ev, ee = (float(p) for p in self._reduce(np.array([v @ v, ew @ v, ew @ ew])))
        if not vv > 0:
            return 0.0, 0.0
        shift = ev / vv
        if shift * shift * vv < _COHERENT * ee:  # not mostly along the motion
            return 0.0, 0.0
        tau = 1.0 / np.sqrt(vv / n)
        room = max(self.to.rtol * tau - abs(self.shift), 0.25 * self.to.rtol * tau)
        horizon = min(self.to.t_end - self.history[-1].t, _HORIZON * tau)
        allowance = room * step / max(horizon, step)
        return max(abs(self.shift + shift) - abs(self.shift), 0.0) / allowance, shift

    def _reduce(self, products: np.ndarray) -> np.ndarray:
        """Inner products of this process's dofs as global ones (MPI: summed)."""
        return products

    def _count(self, free: np.ndarray) -> int:
        """The number of free dofs (MPI: of all ranks)."""
        return len(free)

    def _solve_step(self, step, order, commit):
        system, history = self.system, self.history
        t_new = history[-1].t + step
        a = _bdf_coefficients(order, step, history[-1].dt)
        hist = sum(a[k] * self.storages[-k] for k in range(1, order + 1))
        fixed, values = system.dirichlet(t_new)
        x_guess = _predict(history, t_new, min(order, len(history) - 1))
        x_guess[fixed] = values

        def assemble(z):
            S, dS = system.storage(z, t_new)
            F, dF = system.flux(z, t_new)
            return a[0] * S + hist + F, (a[0] * dS + dF).tocsr()

        key = ("bdf", order, round(a[0] * step, 12), step) if system.linear else None
        before = self.stats.newton_iterations
        border = self.border
        xs, rs = border.scales()
        free = _free_dofs(system.n + border.k, fixed)
        x_new = newton(border.wrap(assemble), border.extend(x_guess), free, xs, rs,
                       self.solver, self.options, self.stats, reuse_key=key,
                       damp=_damping(system, border),
                       reuse_factorisation=not system.linear,
                       conserved=self.conserved, precondition=self.precondition)[: system.n]
        S_new, _ = system.storage(x_new, t_new)
        snap = Snapshot(t=t_new, x=x_new, rate=a[0] * S_new + hist, dt=step,
                        newton_iterations=self.stats.newton_iterations - before,
                        residual=self.stats.residual[: system.n])
        if commit:
            self._commit(snap, S_new)
        return snap

    def _commit(self, snap, S_new=None):
        if S_new is None:
            S_new = self.system.storage(snap.x, snap.t)[0]
        self.history = (self.history + [snap])[-3:]
        self.storages = (self.storages + [S_new])[-3:]

    def _rollback(self, count):
        self.history = self.history[:-count]
        self.storages = self.storages[:-count]


#: attempts per step of dt that a fixed-step run may take (beyond 1000) before it fails
_FIXED_STEP_ATTEMPTS = 20
#: the drift control acts where the local error is this much along the motion (cos^2)
_COHERENT = 0.95
#: a shift is carried at most this many time scales ahead: a motion that slows
#: down (diffusion, tau ~ t) damps what was shifted earlier
_HORIZON = 10.0


def _autonomous(system: System, x: np.ndarray, to: TimeOptions) -> bool:
    """Whether nothing depends on t explicitly (Dirichlet values and F(x, t) the
    same at two times) and the model leaves the error measure to the solver
    (:meth:`System.time_error` is None): where the drift control applies."""
    if system.time_error(x, np.zeros(system.n), to.atol_fraction) is not None:
        return False
    times = (0.0, 0.37 * to.t_end, 0.71 * to.t_end)
    try:
        dofs, values = system.dirichlet(times[0])
        flux = system.flux(x, times[0])[0]
        for t in times[1:]:
            d, v = system.dirichlet(t)
            if not (np.array_equal(d, dofs) and np.array_equal(v, values)
                    and np.array_equal(system.flux(x, t)[0], flux)):
                return False
    except (ArithmeticError, ValueError):  # not evaluable there: leave the control off
        return False
    return True


def _local_error(history, x_new, t_new, order, free, system, to: TimeOptions) -> float:
    """Estimate of the local error of the step (predictor difference), 1 = at tolerance."""
    if len(history) < 2:
        return 0.0
    return _weighted_error(system, x_new, _error_vector(history, x_new, t_new, order), free, to)


def _error_vector(history, x_new, t_new, order) -> np.ndarray:
    """The local error of the step to x_new (predictor difference; needs two
    earlier states)."""
    p = min(order, len(history) - 1)
    x_pred = _predict(history, t_new, p)
    dt = t_new - history[-1].t
    if p == 1:
        factor = dt / (t_new - history[-2].t)
    else:
        factor = (4.0 / 3.0) * dt * dt / ((t_new - history[-2].t) * (t_new - history[-3].t))
    return factor * (x_new - x_pred)


def _weighted_error(system, x, e, free, to: TimeOptions) -> float:
    """Size of a local-error estimate ``e`` at the state ``x``, 1 = at tolerance:
    the model's own relative measure ``time_error(x, e, atol_fraction)`` over
    rtol when it has one, else the RMS of e / (rtol max(|x|, atol_fraction x_scale))."""
    only_free = np.zeros_like(e)
    only_free[free] = e[free]
    relative = system.time_error(x, only_free, to.atol_fraction)
    if relative is not None:
        return relative / to.rtol
    weight = to.rtol * np.maximum(np.abs(x), to.atol_fraction * system.x_scale)
    e = e[free] / weight[free]
    return float(np.sqrt(np.mean(e * e))) if len(free) else 0.0
