"""Damped Newton on the distributed system: the serial rules of
:func:`femflux.solver.newton` (scaled unknowns x / x_scale and residuals
R / r_scale; the same :func:`~femflux.solver.newton.line_search` and
:func:`~femflux.solver.newton.finished` exit test), with
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
from ..solver.newton import finished, line_search

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
        # into PETSc's matrix; the rows and J go before the solve (memory)
        solver.operator(system.scaled_matrix(J, inv_rs, fixed), num.N)
        J = None
        forcing = min(1e-3, max(1e-10, 0.1 * r / max(r0, 1e-300),
                                0.5 * goal / max(r, 1e-300)))
        y = solver.solve(None, num.N, R * inv_rs, rtol=forcing)
        stats.linear_solves += 1
        dx = -x_scale * mask * y
        if damp is not None:
            dx = damp(x, dx) * mask
        stats.newton_iterations += 1

        def correction(R_new):
            # the simplified Newton correction with the old Jacobian (all ranks)
            bar = solver.resolve(R_new * inv_rs)
            if num.sum(float(not np.all(np.isfinite(bar)))) > 0:
                return math.inf
            return gnorm(bar)

        trial = line_search(assemble, x, dx, r, r0, options.atol, norm, gnorm(dx / x_scale),
                            correction)
        if trial.floor:
            return stats.converged(trial.x, trial.R)
        update = num.comm.allreduce(float(np.max(np.abs(trial.step * dx / x_scale),
                                                 initial=0.0)), op=_max())
        log.debug("newton %d: residual %.3e -> %.3e (step %g)", iteration, r, trial.r,
                  trial.step)
        done = finished(r, trial, r0, goal, update, options)
        x, R, J, r = trial.x, trial.R, trial.J, trial.r
        if done:
            return stats.converged(x, R)
    raise NewtonFailure(f"no convergence in {options.max_iterations} Newton iterations "
                        f"(scaled residual {r:.3e}, started at {r0:.3e})")


def _max():
    from mpi4py import MPI

    return MPI.MAX
