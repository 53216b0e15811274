"""Damped Newton on scaled unknowns for ``R(x) = 0``, with linear solves by
:class:`~femflux.linalg.LinearSolver`, by GMRES preconditioned with an old
factorisation, or with the model's own preconditioner.

Newton works on the scaled unknowns ``x / x_scale`` and residuals
``R / r_scale`` (internal nondimensionalisation), with a backtracking line
search on the scaled residual norm; the scaling helpers here apply that
scaling to the Jacobian in place.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import NewtonFailure
from ..linalg import BorderedMatrix, LinearSolver, gmres, scale_in_place
from ..linalg import norm as _norm
from .forcing import Forcing

log = logging.getLogger(__name__)


@dataclass
class Stats:
    """Counters reported in summary.json, and the residual of the last
    converged Newton solve (``residual``: the full R(x), fixed rows included,
    whose rows at prescribed dofs are the boundary reactions)."""

    steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    linear_solves: int = 0  # factorisations (direct) or fresh preconditioned solves
    krylov_iterations: int = 0  # GMRES iterations preconditioned by an old factorisation
    continuation_steps: int = 0
    messages: list[str] = field(default_factory=list)
    residual: np.ndarray | None = field(default=None, repr=False)

    def converged(self, x: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Newton's exit: keep R(x), return x."""
        self.residual = R
        return x


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
    scaled residual norm below ``atol``, or below ``rtol`` times its first
    value while the error left in the scaled unknowns, estimated as
    theta/(1 - theta) |dx|_inf from the last step's residual contraction
    theta, is below 100 rtol (a first residual inflated by an inconsistent
    initial guess does not end Newton before it converges); or a scaled
    update at round-off level.  A backtracking line search
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
    solver (large systems that the model knows how to precondition); when it
    returns None, the linear solver is used.
    """
    x = x0.copy()
    assemble = _guarded(assemble)
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
    forcing = Forcing()
    for iteration in range(options.max_iterations):
        if iteration == 0 and r <= goal:  # at iteration 0: r <= atol
            return stats.converged(x, R)
        model_inverse = precondition(J, x) if precondition is not None else None
        # J is Newton's own (assemble returns a fresh matrix) unless the model's
        # preconditioner keeps it: then scale a copy
        A = _scaled_jacobian(J, inv_rs, mask * x_scale, fixed_rows,
                             in_place=model_inverse is None)
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
            # inexact Newton: the forcing rule and its safeguard (.forcing)
            y = linear_solver.solve(A, b, reuse_key=reuse_key,
                                    rtol=forcing.term(r, r0, goal, reuse_key is not None))
            stats.linear_solves += 1
            y = forcing.checked(A, b, y, linear_solver.iterative, linear_solver.resolve)
            eta = forcing.eta
            approximate = linear_solver.resolve
            lifted = None
            if reuse_key is None:  # an iterative solver lets go of A: J_new takes its memory
                linear_solver.release()
        A = None
        dx = -x_scale * mask * y
        if damp is not None:
            dx = damp(x, dx) * mask
        stats.newton_iterations += 1

        def correction(R_new, x=x, approximate=approximate):
            # the simplified Newton correction with the old Jacobian
            if approximate == linear_solver.resolve and linear_solver.released:
                # the old Jacobian again (the solver released its memory)
                linear_solver.restore(_scaled_jacobian(assemble(x)[1], inv_rs,
                                                       mask * x_scale, fixed_rows,
                                                       in_place=True))
            bar = approximate(R_new * inv_rs)
            return _norm(bar) if np.all(np.isfinite(bar)) else math.inf

        trial = line_search(assemble, x, dx, r, r0, options.atol, norm, _norm(dx / x_scale),
                            correction)
        forcing.stepped(trial.step)
        if trial.floor:
            log.debug("newton: at the residual's round-off floor")
            return stats.converged(trial.x, trial.R)
        update = float(np.max(np.abs(trial.step * dx / x_scale))) if len(free) else 0.0
        log.debug("newton %d: residual %.3e -> %.3e (step %g, update %.1e, eta %.1e, "
                  "krylov %d)", iteration, r, trial.r, trial.step, update, eta,
                  stats.krylov_iterations)
        done = finished(r, trial, r0, goal, update, options)
        x, R, J, r = trial.x, trial.R, trial.J, trial.r
        trial = None  # one reference: J is dropped once scaled (memory)
        if done:
            return stats.converged(x, R)
    raise NewtonFailure(f"no convergence in {options.max_iterations} Newton iterations "
                        f"(scaled residual {r:.3e}, started at {r0:.3e})")


@dataclass
class Trial:
    """The point a line search accepted: x + step dx, its residual, Jacobian and
    scaled residual norm; ``floor``: accepted as converged (round-off floor)."""

    step: float
    x: np.ndarray
    R: np.ndarray
    J: object
    r: float
    floor: bool = False


def line_search(assemble, x, dx, r, r0, atol, norm, dx_norm, correction) -> Trial:
    """Backtracking along ``dx`` from x (scaled residual norm r; r0 at the
    start of Newton): the step is halved until the scaled residual norm
    decreases (Armijo, r_new <= (1 - 1e-4 step) r) or, for steps >= 1e-3,
    Deuflhard's natural monotonicity test holds: the simplified Newton
    correction ``correction(R_new)`` (its norm, with the old Jacobian) shrinks,
    |dx_bar| <= (1 - step/4) |dx| (``dx_norm``; scale-invariant).  A full step
    that gained 7 orders on r0 and no more is the round-off floor (``floor``).
    ``norm`` and ``correction`` are the caller's (global over MPI ranks there).
    """
    step = 1.0
    while True:
        x_new = x + step * dx
        R_new, J_new = assemble(x_new)
        r_new = norm(R_new)
        if np.isfinite(r_new) and (r_new <= (1.0 - 1e-4 * step) * r or r_new <= atol):
            return Trial(step, x_new, R_new, J_new, r_new)
        if step == 1.0 and r_new <= 2.0 * r and r_new < 1e-7 * max(r0, 1e-300):
            # 7 orders gained and no more: round-off, not divergence
            return Trial(step, x_new, R_new, J_new, r_new, floor=True)
        if np.isfinite(r_new) and step >= 1e-3 and correction(R_new) <= (1 - step / 4) * dx_norm:
            return Trial(step, x_new, R_new, J_new, r_new)
        step *= 0.5
        if step < 1e-4:
            if np.isfinite(r_new) and r_new <= 10 * r and r_new < 1e-8 * max(r0, 1.0):
                return Trial(step, x_new, R_new, J_new, r_new)  # round-off level: accept
            raise NewtonFailure(f"line search failed at residual {r:.3e}")


def finished(r: float, trial: Trial, r0: float, goal: float, update: float,
             options: NewtonOptions) -> bool:
    """Newton's exit after a step from residual r to ``trial.r`` with the
    largest scaled update ``update``: the goal reached (and either atol or the
    error left in x, estimated as theta/(1 - theta) update from the step's
    contraction theta, below 100 rtol); a negligible full correction; or no
    more progress 7 orders below r0 (round-off floor)."""
    theta = trial.r / r if r > 0 else 0.0
    error = theta / (1.0 - theta) * update if theta < 1.0 else math.inf
    if trial.r <= goal and (trial.r <= options.atol or error <= 100.0 * options.rtol):
        return True
    if update < 1e-10 and trial.step == 1.0:
        return True  # the correction is negligible: round-off
    return trial.r > 0.5 * r and trial.r < 1e-7 * max(r0, 1e-300)


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


def _guarded(assemble):
    """``assemble`` whose arithmetic failures (a division by zero, an overflow in
    the model's scalar arithmetic) are a failed iteration, not a crash."""

    def guarded(x):
        try:
            return assemble(x)
        except ArithmeticError as exc:
            raise NewtonFailure(f"the residual cannot be evaluated ({exc})") from None

    return guarded
