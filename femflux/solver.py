"""Newton iterations, linear back-ends and adaptive implicit time stepping.

A model hands the solver a :class:`System`: the conservation law in discrete
form ``dS(x)/dt + F(x, t) = 0`` with Dirichlet values, exact Jacobians and the
scales that make it nondimensional.  The solver never looks at physics:

- steady:  ``F(x) = 0`` (plus the amount constraints of closed species, SPEC
  4.0, as bordered Lagrange multipliers), with pseudo-transient continuation
  when Newton from the initial guess fails;
- transient: BDF1 or variable-step BDF2, ``a0 S(x) + H + dt F(x, t) = 0``,
  steps controlled by a local-error estimate (predictor difference) with
  rejection, shortened to hit requested output times.

Newton works on the scaled unknowns ``x / x_scale`` and residuals
``R / r_scale`` (internal nondimensionalisation), with a backtracking line
search on the scaled residual norm.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from .errors import CaseError, SolverError
from .linalg import BorderedMatrix, LinearSolver, NewtonFailure, gmres, scale_in_place
from .linalg import norm as _norm

log = logging.getLogger(__name__)


class System(Protocol):
    """What a model provides to the solver (see module docstring)."""

    n: int
    x_scale: np.ndarray  # (n,) typical magnitude of each unknown
    r_scale: np.ndarray  # (n,) typical magnitude of each residual row
    symmetric: bool  # Jacobian symmetric (CG may be used)
    linear: bool  # F affine and S linear in x: Jacobian independent of x
    dim: int

    def initial_state(self) -> np.ndarray: ...

    def dirichlet(self, t: float) -> tuple[np.ndarray, np.ndarray]: ...

    def storage(self, x: np.ndarray) -> tuple[np.ndarray, sp.spmatrix]: ...

    def flux(self, x: np.ndarray, t: float) -> tuple[np.ndarray, sp.spmatrix]: ...

    def conserved(self) -> np.ndarray: ...  # (k, n): rows C with C @ F(x) = 0 for all x


@dataclass
class Stats:
    """Counters reported in summary.json."""

    steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    linear_solves: int = 0  # factorisations (direct) or fresh preconditioned solves
    krylov_iterations: int = 0  # GMRES iterations preconditioned by an old factorisation
    continuation_steps: int = 0
    messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Newton
# ---------------------------------------------------------------------------


@dataclass
class NewtonOptions:
    rtol: float = 1e-10
    atol: float = 1e-12
    max_iterations: int = 50


def newton(assemble: Callable[[np.ndarray], tuple[np.ndarray, sp.spmatrix]],
           x0: np.ndarray, free: np.ndarray, x_scale: np.ndarray, r_scale: np.ndarray,
           linear_solver: LinearSolver, options: NewtonOptions, stats: Stats,
           reuse_key=None, damp=None, reuse_factorisation=False,
           conserved: np.ndarray | None = None, precondition=None) -> np.ndarray:
    """Damped Newton for ``R(x) = 0`` on the ``free`` dofs (others stay as in x0).

    ``assemble(x)`` returns the full residual and Jacobian.  Convergence: the
    scaled residual norm below ``rtol`` times its first value or below
    ``atol``, or a scaled update at round-off level.  A backtracking line search
    halves the step until the scaled residual norm decreases.  ``damp(x, dx)``
    may shorten the update of some unknowns first (e.g. potentials limited to a
    few thermal voltages per iteration).

    With ``reuse_factorisation``, the linear solver's last direct factorisation
    (an earlier iteration's or time step's Jacobian) preconditions GMRES on the
    current Jacobian: a few back-substitutions instead of a factorisation.  The
    Jacobian is factorised afresh only when GMRES would need more than
    ``_KRYLOV_MAX`` iterations (then that factorisation is reused in turn).
    ``conserved`` (k, len(x)) are rows C along which the residual is affine
    (closed species: C R(x) = a0 C S(x) + const); the GMRES update is
    corrected so that, like an exact solve, it zeroes C R: the amounts stay
    conserved to round-off, not just to the Newton tolerance.
    ``precondition(J, x)``, the model's approximate inverse of its Jacobian
    (unscaled; a callable, or None), is used with GMRES instead of the linear
    solver (large systems that the model knows how to precondition).
    """
    x = x0.copy()
    mask = np.zeros(len(x))
    mask[free] = 1.0
    inv_rs = mask / r_scale  # scaled residual rows; 0 on fixed dofs
    fixed_rows = np.flatnonzero(mask == 0)  # fixed dofs keep an identity row

    def norm(R):
        return _norm(R * inv_rs) / math.sqrt(max(len(free), 1))

    R, J = assemble(x)
    r0 = norm(R)
    r = r0
    if not np.isfinite(r0):
        raise NewtonFailure("the residual is not finite at the initial guess")
    goal = max(options.atol, options.rtol * r0)
    cons = None  # conserved rows acting on the scaled residual, unit length
    if reuse_factorisation and conserved is not None and len(conserved):
        cons = conserved * (mask * r_scale)[None, :]
        lengths = np.sqrt(np.einsum("ij,ij->i", cons, cons))
        cons = cons[lengths > 0] / lengths[lengths > 0, None]
        cons = cons if len(cons) else None
    lifted = None  # the old factorisation applied to the conserved rows
    approximate = linear_solver.resolve  # an approximate inverse of the (scaled) Jacobian
    for iteration in range(options.max_iterations):
        if r <= goal and (r <= options.atol or iteration > 0):
            return x
        model_inverse = precondition(J, x) if precondition is not None else None
        # J is Newton's own (assemble returns a fresh matrix) unless the model's
        # preconditioner keeps it: then scale a copy
        A = _scaled_jacobian(J, inv_rs, mask * x_scale, fixed_rows,
                             in_place=precondition is None)
        J = None  # only the scaled matrix is needed from here on (memory)
        b = R * inv_rs
        y = None
        # inexact Newton: the linear residual a fraction of what is left to gain
        eta = min(1e-2, max(1e-12, 0.5 * goal / max(r, 1e-300)))
        if model_inverse is not None:
            approximate = _scaled_inverse(model_inverse, mask, x_scale, r_scale)
            restart, cycles = _MODEL_KRYLOV
            y = gmres(A, b, approximate, eta, stats, restart, cycles, give_up=False)
            if y is not None and cons is not None:
                y = _conserving(A, b, y, cons, np.stack([approximate(c) for c in cons]))
            lifted = None
        elif reuse_factorisation and linear_solver.has_factorisation(len(x)):
            approximate = linear_solver.resolve
            y = gmres(A, b, approximate, eta, stats, _KRYLOV_MAX)
            if y is not None and cons is not None:
                if lifted is None:
                    lifted = np.stack([approximate(c) for c in cons])
                y = _conserving(A, b, y, cons, lifted)
        if y is None:
            # inexact Newton: Krylov solves only as tight as the Newton stage needs
            # (superlinear: ~ r / r0) and never tighter than reaching the goal needs
            # (pyamg's GMRES measures the left-preconditioned residual: no looser than 1e-3)
            forcing = min(1e-3, max(1e-10, 0.1 * r / max(r0, 1e-300), 0.5 * goal / max(r, 1e-300)))
            y = linear_solver.solve(A, b, reuse_key=reuse_key, rtol=forcing)
            stats.linear_solves += 1
            approximate = linear_solver.resolve
            lifted = None
            if reuse_key is None:  # an iterative solver lets go of A: J_new takes its memory
                linear_solver.release()
        A = None
        dx = -x_scale * mask * y
        if damp is not None:
            dx = damp(x, dx) * mask
        stats.newton_iterations += 1
        step = 1.0
        dx_norm = _norm(dx / x_scale)
        while True:
            x_new = x + step * dx
            R_new, J_new = assemble(x_new)
            r_new = norm(R_new)
            if np.isfinite(r_new) and (r_new <= (1.0 - 1e-4 * step) * r or r_new <= options.atol):
                break
            if step == 1.0 and r_new <= 2.0 * r and r_new < 1e-7 * max(r0, 1e-300):
                log.debug("newton: at the residual's round-off floor")
                return x_new  # 7 orders gained and no more: round-off, not divergence
            if np.isfinite(r_new) and step >= 1e-3:
                # natural monotonicity (Deuflhard): the simplified Newton
                # correction with the old Jacobian must shrink; scale-invariant
                if approximate == linear_solver.resolve and linear_solver.released:
                    # the old Jacobian again (the solver released its memory)
                    linear_solver.restore(_scaled_jacobian(assemble(x)[1], inv_rs,
                                                           mask * x_scale, fixed_rows,
                                                           in_place=True))
                bar = approximate(R_new * inv_rs)
                if np.all(np.isfinite(bar)) and _norm(bar) <= (1 - step / 4) * dx_norm:
                    break
            step *= 0.5
            if step < 1e-4:
                if np.isfinite(r_new) and r_new <= 10 * r and r_new < 1e-8 * max(r0, 1.0):
                    break  # round-off level: accept
                raise NewtonFailure(f"line search failed at residual {r:.3e}")
        update = float(np.max(np.abs(step * dx / x_scale))) if len(free) else 0.0
        log.debug("newton %d: residual %.3e -> %.3e (step %g, eta %.1e, krylov %d)",
                  iteration, r, r_new, step, eta, stats.krylov_iterations)
        stagnant = r_new > 0.5 * r and r_new < 1e-7 * max(r0, 1e-300)
        x, R, J, r = x_new, R_new, J_new, r_new
        R_new = J_new = None  # one reference: J is dropped once scaled (memory)
        if r <= goal:
            return x
        if update < 1e-10 and step == 1.0:
            return x  # the Newton correction is negligible: converged to round-off
        if stagnant:
            return x  # 7 orders gained and no more: the residual's round-off floor
    raise NewtonFailure(f"no convergence in {options.max_iterations} Newton iterations "
                        f"(scaled residual {r:.3e}, started at {r0:.3e})")


def _scaled_inverse(inverse, mask, x_scale, r_scale):
    """An approximate inverse of the unscaled Jacobian as one of the scaled
    Jacobian (identity rows on the fixed dofs)."""
    free = mask > 0

    def apply(v):
        return np.where(free, inverse(v * r_scale * mask) / x_scale, v)

    return apply


def _conserving(A, b, y, cons, lifted) -> np.ndarray:
    """y + lifted^T beta with cons (b - A y') = 0: an approximate solution of
    A y = b corrected so that its residual has no component along the
    conserved rows (as with an exact solve)."""
    gap = np.einsum("ij,j->i", cons, b - A @ y)
    AW = np.stack([A @ w for w in lifted])
    try:
        beta = np.linalg.solve(np.einsum("ij,kj->ik", cons, AW), gap)
    except np.linalg.LinAlgError:
        return y
    return y + np.einsum("i,ij->j", beta, lifted) if np.all(np.isfinite(beta)) else y


#: most GMRES iterations preconditioned by an old factorisation before the
#: Jacobian is factorised afresh (a 2D factorisation costs some 20-30 solves)
_KRYLOV_MAX = 12
#: GMRES with a model's own preconditioner: restart length and cycles
_MODEL_KRYLOV = (40, 5)


def _scaled_jacobian(J, row_scale, col_scale, identity_rows, in_place=False):
    """diag(row_scale) J diag(col_scale) + identity on ``identity_rows`` (whose
    scaled rows vanish); J sparse or a :class:`BorderedMatrix` (identity rows
    in its leading block).  The result shares J's pattern arrays (no copy, and
    the linear solver recognises an unchanged pattern); ``in_place``: J's own
    values are scaled (a Jacobian nobody else holds: no copy at all)."""
    if isinstance(J, BorderedMatrix):
        M = J.scaled(row_scale, col_scale, in_place)
        M.A = _with_identity_rows(M.A, identity_rows)
        return M
    J = J.tocsr()
    A = sp.csr_matrix((J.data if in_place else J.data.copy(), J.indices, J.indptr),
                      shape=J.shape)
    scale_in_place(A, row_scale, col_scale)
    return _with_identity_rows(A, identity_rows)


def _with_identity_rows(A: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """A with 1 on the diagonal of ``rows`` (rows already zero), in place when
    the diagonal entries are stored."""
    if len(rows):
        slots = _diagonal_slots(A, rows)
        if slots is None:  # a row without a diagonal entry: add one
            return A + sp.csr_matrix((np.ones(len(rows)), (rows, rows)), shape=A.shape)
        A.data[slots] = 1.0
    return A


def _diagonal_slots(A: sp.csr_matrix, rows: np.ndarray) -> np.ndarray | None:
    """Positions of the diagonal entries of ``rows`` in A.data, or None if one
    of them is not stored."""
    start, end = A.indptr[rows], A.indptr[rows + 1]
    lengths = end - start
    owner = np.repeat(rows, lengths)
    slots = np.repeat(start - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    hits = slots[A.indices[slots] == owner]
    return hits if len(hits) == len(rows) else None


# ---------------------------------------------------------------------------
# Steady and transient drivers
# ---------------------------------------------------------------------------


def _free_dofs(n: int, fixed: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[fixed] = False
    return np.flatnonzero(mask)


@dataclass
class Snapshot:
    """A converged state: ``rate`` is dS/dt there (0 when steady), for fluxes."""

    t: float
    x: np.ndarray
    rate: np.ndarray
    dt: float = 0.0
    newton_iterations: int = 0


class Bordered:
    """``R(x) = 0`` with extra scalar constraints ``g(x) = 0`` and multipliers:
    the unknowns are ``z = [x; lam]`` and the equations ``[R + G^T lam; g]``.

    The constraints are the model's gauges (e.g. mean potential 0) and, in
    steady runs, the amounts of the conserved species combinations.
    """

    def __init__(self, system: System, x0: np.ndarray, steady: bool):
        self.system, self.steady, self.n = system, steady, system.n
        self.C = system.conserved() if steady else np.zeros((0, system.n))
        self.targets = self.C @ system.storage(x0)[0] if len(self.C) else np.zeros(0)
        g, _, scale = self._constraints(x0)
        self.k = len(g)
        amount_scale = np.abs(self.C) @ np.abs(system.storage(system.x_scale)[0])
        self.g_scale = np.maximum(np.concatenate([amount_scale, scale]), 1e-300)

    def _constraints(self, x):
        parts_g, parts_G, parts_s = [], [], []
        if len(self.C):
            S, dS = self.system.storage(x)
            parts_g.append(self.C @ S - self.targets)
            parts_G.append(sp.csr_matrix(self.C) @ dS)
        extra = self.system.constraints(x, self.steady)
        if extra is not None:
            g, G, scale = extra
            parts_g.append(g)
            parts_G.append(sp.csr_matrix(G))
            parts_s.append(scale)
        if not parts_g:
            return np.zeros(0), None, np.zeros(0)
        return (np.concatenate(parts_g), sp.vstack(parts_G).tocsr(),
                np.concatenate(parts_s) if parts_s else np.zeros(0))

    def extend(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.zeros(self.k)])

    def scales(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate([self.system.x_scale, np.ones(self.k)]),
                np.concatenate([self.system.r_scale, self.g_scale]))

    def wrap(self, assemble):
        """assemble(x) -> (R, J) becomes assemble(z) for the bordered system."""
        if self.k == 0:
            return assemble
        n = self.n

        def bordered(z):
            x, lam = z[:n], z[n:]
            R, J = assemble(x)
            g, G, _ = self._constraints(x)
            return np.concatenate([R + G.T @ lam, g]), BorderedMatrix(J, G.T, G)

        return bordered


def _damping(system, border: Bordered):
    """The model's Newton-update damping on the bordered unknowns, or None."""
    damp = getattr(system, "damp_update", None)
    if damp is None:
        return None
    n = system.n

    def damped(z, dz):
        out = dz.copy()
        out[:n] = damp(z[:n], dz[:n])
        return out

    return damped


def solve_steady(system: System, options: NewtonOptions, linear: str = "auto",
                 stats: Stats | None = None, progress: bool = False) -> Snapshot:
    """Solve ``F(x) = 0`` (with amount constraints for closed species and the
    model's gauges).

    Falls back to pseudo-transient continuation when Newton from the initial
    guess fails.
    """
    stats = stats or Stats()
    x0 = system.initial_state()
    fixed, values = system.dirichlet(0.0)
    x0[fixed] = values
    border = Bordered(system, x0, steady=True)
    solver = LinearSolver.for_system(system, linear, border=border.k)
    n = system.n

    def flux(x):
        return system.flux(x, 0.0)

    assemble = border.wrap(flux)
    xs, rs = border.scales()
    free = _free_dofs(n + border.k, fixed)
    key = "steady" if system.linear else None
    try:
        z = newton(assemble, border.extend(x0), free, xs, rs, solver, options, stats,
                   reuse_key=key, damp=_damping(system, border))
    except NewtonFailure as first:
        stats.messages.append(f"Newton from the initial guess failed ({first}); "
                              "using pseudo-transient continuation")
        x = _pseudo_transient(system, x0, options, solver, stats)
        z = newton(assemble, border.extend(x), free, xs, rs, solver, options, stats,
                   damp=_damping(system, border))
    return Snapshot(t=0.0, x=z[:n], rate=np.zeros(n))


def _pseudo_transient(system, x0, options, solver, stats, max_steps=200):
    """March dS/dt + F = 0 with growing steps until F is small (a continuation
    for steady problems whose Newton iteration fails from the initial guess)."""
    fixed, values = system.dirichlet(0.0)
    border = Bordered(system, x0, steady=False)
    solver = LinearSolver.for_system(system, solver.method, border=border.k)
    free = _free_dofs(system.n + border.k, fixed)
    inner = free[free < system.n]
    xs, rs = border.scales()
    x = x0.copy()
    S_typ, _ = system.storage(system.x_scale)
    F_typ = system.r_scale
    with_storage = inner[np.abs(S_typ[inner]) > 0]
    dt = 1e-6 * float(np.median(np.abs(S_typ[with_storage]) / F_typ[with_storage]))
    loose = NewtonOptions(rtol=1e-6, atol=options.atol, max_iterations=12)
    for _ in range(max_steps):
        S_old, _ = system.storage(x)

        def assemble(z, S_old=S_old, dt=dt):
            S, dS = system.storage(z)
            F, dF = system.flux(z, 0.0)
            return (S - S_old) / dt + F, (dS / dt + dF).tocsr()

        before = stats.newton_iterations
        try:
            x = newton(border.wrap(assemble), border.extend(x), free, xs, rs, solver, loose,
                       stats, damp=_damping(system, border))[: system.n]
            stats.continuation_steps += 1
            dt *= 10.0 if stats.newton_iterations - before <= 3 else 2.0
        except NewtonFailure:
            dt *= 0.25
            continue
        F, _ = system.flux(x, 0.0)
        if np.linalg.norm(F[inner] / F_typ[inner]) / math.sqrt(len(inner)) < 1e-6:
            break
    return x


@dataclass
class TimeOptions:
    t_end: float
    dt: float
    scheme: str = "bdf2"
    adaptive: bool = True
    rtol: float = 1e-3  # local error per step, relative
    atol_fraction: float = 1e-3  # absolute tolerance as a fraction of x_scale
    output_times: list[float] = field(default_factory=list)
    dt_min_fraction: float = 1e-14


#: 2D systems at least this large use the model's own preconditioner, when it
#: has one, instead of a direct factorisation (fill-in and memory)
_MODEL_PRECONDITIONER_2D = 400_000


def _model_preconditioner(system, solver: LinearSolver, linear: str, border: int):
    """The model's ``preconditioner(J, x)`` when it should replace the linear
    solver: nonlinear transient systems that would otherwise go to the generic
    AMG (large 3D) or to a very large 2D factorisation."""
    factory = getattr(system, "preconditioner", None)
    if factory is None or system.linear or border or linear == "direct":
        return None
    n = system.n
    if linear == "iterative" or solver.choose(n) == "iterative" \
            or system.dim <= 2 and n >= _MODEL_PRECONDITIONER_2D:
        return factory
    return None


def _conserved_rows(system, border: int) -> np.ndarray | None:
    """The model's conserved combinations (closed species) on the bordered
    unknowns, or None."""
    conserved = getattr(system, "conserved", None)
    if conserved is None:
        return None
    try:
        C = np.asarray(conserved(), dtype=float)
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
                    stats: Stats | None = None, progress: bool = False) -> Snapshot:
    """Integrate ``dS/dt + F(x, t) = 0`` from the initial state to ``t_end``.

    ``on_step`` is called with every accepted step.  On failure raises
    :class:`SolverError` whose ``result`` attribute is the last accepted
    :class:`Snapshot`.
    """
    stepper = _Stepper(system, time_options, options, linear, stats or Stats())
    bar = _progress_bar(time_options.t_end, progress)
    try:
        for snap in stepper.run():
            if bar is not None:
                bar.update(snap.dt)
            if on_step is not None:
                on_step(snap)
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

    def __init__(self, system, to: TimeOptions, options: NewtonOptions, linear, stats: Stats):
        self.system, self.to, self.options, self.stats = system, to, options, stats
        self.solver = LinearSolver.for_system(system, linear)
        x = system.initial_state()
        fixed, values = system.dirichlet(0.0)
        x[fixed] = values
        self.border = Bordered(system, x, steady=False)
        self.solver.border = self.border.k
        self.conserved = None if system.linear else _conserved_rows(system, self.border.k)
        self.precondition = _model_preconditioner(system, self.solver, linear, self.border.k)
        self.history = [Snapshot(t=0.0, x=x, rate=np.zeros(system.n))]
        self.storages = [system.storage(x)[0]]
        self.stops = sorted({float(t) for t in to.output_times if 0 < t < to.t_end}
                            | {to.t_end})
        self.dt_min = to.dt_min_fraction * to.t_end

    def run(self):
        to = self.to
        t, dt = 0.0, self._limited(min(to.dt, to.t_end))
        while t < to.t_end * (1 - 1e-12):
            next_stop = next(s for s in self.stops if s > t * (1 + 1e-12) + 1e-300)
            hit = t + dt >= next_stop * (1 - 1e-9)
            step = next_stop - t if hit else dt
            if not hit and t + 1.5 * step > next_stop:
                step = 0.5 * (next_stop - t)  # no sliver step before the stop
            try:
                accepted, error, order = self._attempt(step)
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
            for snap in accepted:
                self.stats.steps += 1
                yield snap
            t = self.history[-1].t
            if to.adaptive:
                growth = 0.9 * max(error, 1e-10) ** (-1.0 / (order + 1))
                dt = self._limited(step * min(2.0, max(0.5, growth)))
            else:  # fixed steps: back to the user's dt after a cut or a shortened step
                dt = min(to.dt, 2.0 * step)

    def _limited(self, dt: float) -> float:
        """dt within the model's ``time_step_limit(x, rtol)`` (adaptive runs)."""
        limit = getattr(self.system, "time_step_limit", None)
        if limit is None or not self.to.adaptive:
            return dt
        bound = limit(self.history[-1].x, self.to.rtol)
        return dt if bound is None else min(dt, bound)

    def _check_dt(self, dt, t, exc=None):
        if dt < self.dt_min:
            reason = f": {exc}" if exc is not None else ""
            raise SolverError(f"time step fell below {self.dt_min:.3e} s at t = {t:.6e} s"
                              f"{reason}")

    def _attempt(self, step):
        """Try a step; return (accepted snapshots or None, error estimate, order)."""
        if len(self.history) < 2 and self.to.adaptive:
            full = self._solve_step(step, 1, commit=False)
            first = self._solve_step(0.5 * step, 1, commit=True)
            second = self._solve_step(0.5 * step, 1, commit=True)
            fixed, _ = self.system.dirichlet(second.t)
            free = _free_dofs(self.system.n, fixed)
            error = _weighted_error(self.system, second.x, second.x - full.x, free, self.to)
            if error > 1.0:
                self._rollback(2)
                return None, error, 1
            return [first, second], error, 1
        order = 2 if self.to.scheme == "bdf2" and len(self.history) >= 2 else 1
        snap = self._solve_step(step, order, commit=False)
        fixed, _ = self.system.dirichlet(snap.t)
        free = _free_dofs(self.system.n, fixed)
        error = _local_error(self.history, snap.x, snap.t, order, free, self.system, self.to)
        if self.to.adaptive and error > 1.0:
            return None, error, order
        self._commit(snap)
        return [snap], error, order

    def _solve_step(self, step, order, commit):
        system, history = self.system, self.history
        t_new = history[-1].t + step
        a = _bdf_coefficients(order, step, history[-1].dt)
        hist = sum(a[k] * self.storages[-k] for k in range(1, order + 1))
        fixed, values = system.dirichlet(t_new)
        x_guess = _predict(history, t_new, min(order, len(history) - 1))
        x_guess[fixed] = values

        def assemble(z):
            S, dS = system.storage(z)
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
        S_new, _ = system.storage(x_new)
        snap = Snapshot(t=t_new, x=x_new, rate=a[0] * S_new + hist, dt=step,
                        newton_iterations=self.stats.newton_iterations - before)
        if commit:
            self._commit(snap, S_new)
        return snap

    def _commit(self, snap, S_new=None):
        if S_new is None:
            S_new = self.system.storage(snap.x)[0]
        self.history = (self.history + [snap])[-3:]
        self.storages = (self.storages + [S_new])[-3:]

    def _rollback(self, count):
        self.history = self.history[:-count]
        self.storages = self.storages[:-count]


def _local_error(history, x_new, t_new, order, free, system, to: TimeOptions) -> float:
    """Estimate of the local error of the step (predictor difference), 1 = at tolerance."""
    if len(history) < 2:
        return 0.0
    p = min(order, len(history) - 1)
    x_pred = _predict(history, t_new, p)
    dt = t_new - history[-1].t
    if p == 1:
        factor = dt / (t_new - history[-2].t)
    else:
        factor = (4.0 / 3.0) * dt * dt / ((t_new - history[-2].t) * (t_new - history[-3].t))
    return _weighted_error(system, x_new, factor * (x_new - x_pred), free, to)


def _weighted_error(system, x, e, free, to: TimeOptions) -> float:
    """Size of a local-error estimate ``e`` at the state ``x``, 1 = at tolerance:
    the model's own relative measure ``time_error(x, e, atol_fraction)`` over
    rtol when it has one, else the RMS of e / (rtol max(|x|, atol_fraction x_scale))."""
    measure = getattr(system, "time_error", None)
    if measure is not None:
        only_free = np.zeros_like(e)
        only_free[free] = e[free]
        relative = measure(x, only_free, to.atol_fraction)
        if relative is not None:
            return relative / to.rtol
    weight = to.rtol * np.maximum(np.abs(x), to.atol_fraction * system.x_scale)
    e = e[free] / weight[free]
    return float(np.sqrt(np.mean(e * e))) if len(free) else 0.0


def _progress_bar(total: float, enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="s", unit_scale=True, leave=False, file=sys.stderr,
                bar_format="{l_bar}{bar}| t = {n:.3g}/{total:.3g} s [{elapsed}<{remaining}]")
