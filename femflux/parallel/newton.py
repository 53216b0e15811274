"""Damped Newton on the distributed system: the serial rules of
:func:`femflux.solver.newton` (scaled unknowns x / x_scale and residuals
R / r_scale, backtracking line search with Armijo decrease, Deuflhard's
natural monotonicity test with the old Jacobian, the round-off exits), with
every norm reduced over the ranks and the linear solves on PETSc
(:class:`~femflux.parallel.linear.PetscLinearSolver`).

All vectors here are a rank's owned parts; ``assemble(x)`` returns the owned
residual rows and the owned Jacobian rows (:class:`~.system.OwnedRows`).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import NewtonFailure
from ..solver import NewtonOptions, Stats

log = logging.getLogger(__name__)


def newton(system, assemble, x0: np.ndarray, fixed: np.ndarray, solver, options: NewtonOptions,
           stats: Stats, damp=None) -> np.ndarray:
    """Damped Newton for R(x) = 0 on the free owned dofs (``fixed``: owned
    positions of the prescribed ones, which keep their values in x0)."""
    num = system.numbering
    x = x0.copy()
    mask = np.ones(len(x))
    mask[fixed] = 0.0
    inv_rs = mask / system.r_scale
    x_scale = system.x_scale
    n_free = max(system.n_free, 1)

    def norm(R):
        return math.sqrt(num.sum(float(np.sum((R * inv_rs) ** 2)))) / math.sqrt(n_free)

    def gnorm(v):
        return math.sqrt(num.sum(float(np.dot(v, v))))

    R, J = assemble(x)
    r0 = norm(R)
    r = r0
    if not np.isfinite(r0):
        raise NewtonFailure("the residual is not finite at the initial guess")
    goal = max(options.atol, options.rtol * r0)
    for iteration in range(options.max_iterations):
        if r <= goal and (r <= options.atol or iteration > 0):
            return stats.converged(x, R)
        A = system.scaled_matrix(J, inv_rs, fixed)
        J = None
        forcing = min(1e-3, max(1e-10, 0.1 * r / max(r0, 1e-300),
                                0.5 * goal / max(r, 1e-300)))
        y = solver.solve(A, num.N, R * inv_rs, rtol=forcing)
        stats.linear_solves += 1
        A = None
        dx = -x_scale * mask * y
        if damp is not None:
            dx = damp(x, dx) * mask
        stats.newton_iterations += 1
        step = 1.0
        dx_norm = gnorm(dx / x_scale)
        while True:
            x_new = x + step * dx
            R_new, J_new = assemble(x_new)
            r_new = norm(R_new)
            if np.isfinite(r_new) and (r_new <= (1.0 - 1e-4 * step) * r
                                       or r_new <= options.atol):
                break
            if step == 1.0 and r_new <= 2.0 * r and r_new < 1e-7 * max(r0, 1e-300):
                return stats.converged(x_new, R_new)  # round-off floor
            if np.isfinite(r_new) and step >= 1e-3:
                # natural monotonicity: the simplified Newton correction must shrink
                bar = solver.resolve(R_new * inv_rs)
                finite = num.sum(float(not np.all(np.isfinite(bar)))) == 0
                if finite and gnorm(bar) <= (1 - step / 4) * dx_norm:
                    break
            step *= 0.5
            if step < 1e-4:
                if np.isfinite(r_new) and r_new <= 10 * r and r_new < 1e-8 * max(r0, 1.0):
                    break
                raise NewtonFailure(f"line search failed at residual {r:.3e}")
        update = num.comm.allreduce(float(np.max(np.abs(step * dx / x_scale), initial=0.0)),
                                    op=_max())
        log.debug("newton %d: residual %.3e -> %.3e (step %g)", iteration, r, r_new, step)
        stagnant = r_new > 0.5 * r and r_new < 1e-7 * max(r0, 1e-300)
        x, R, J, r = x_new, R_new, J_new, r_new
        if r <= goal:
            return stats.converged(x, R)
        if update < 1e-10 and step == 1.0:
            return stats.converged(x, R)
        if stagnant:
            return stats.converged(x, R)
    raise NewtonFailure(f"no convergence in {options.max_iterations} Newton iterations "
                        f"(scaled residual {r:.3e}, started at {r0:.3e})")


def _max():
    from mpi4py import MPI

    return MPI.MAX
