"""Adaptive BDF on the distributed system: the serial stepper
(:class:`femflux.solver.timestep._Stepper`: BDF1/BDF2, predictor error
estimate, step doubling for the first step, rejection, output times) with its
Newton solves on PETSc (:func:`femflux.parallel.newton.newton`).  Its error
norm is the system's ``time_error`` (reduced over all ranks), so every rank
takes the same steps.
"""

from __future__ import annotations

import numpy as np

from ..solver import NewtonOptions, Snapshot, Stats, TimeOptions, _bdf_coefficients, _predict
from ..solver.timestep import _Stepper
from .linear import PetscLinearSolver
from .newton import newton


class DistributedStepper(_Stepper):
    """:class:`_Stepper` whose state vectors are a rank's owned parts."""

    def __init__(self, system, to: TimeOptions, options: NewtonOptions, method: str,
                 stats: Stats, x0: np.ndarray):
        self.system, self.to, self.options, self.stats = system, to, options, stats
        self.solver = PetscLinearSolver.for_system(system, method)
        self.history = [Snapshot(t=0.0, x=x0, rate=np.zeros(system.n))]
        self.storages = [system.storage(x0)[0]]
        self.stops = sorted({float(t) for t in to.output_times if 0 < t < to.t_end}
                            | {to.t_end})
        self.dt_min = to.dt_min_fraction * to.t_end
        self.t, self.dt = 0.0, self._limited(min(to.dt, to.t_end))
        self.shift = 0.0
        self.drift_control = to.adaptive and self._autonomous(x0)

    def _autonomous(self, x) -> bool:
        """The serial test (:func:`femflux.solver.timestep._autonomous`: Dirichlet
        values and F(x, t) the same at three times), on every rank's rows."""
        system, to = self.system, self.to
        times = (0.0, 0.37 * to.t_end, 0.71 * to.t_end)
        try:
            dofs, values = system.dirichlet(times[0])
            flux = system.flux(x, times[0])[0]
            same = True
            for t in times[1:]:
                d, v = system.dirichlet(t)
                F = system.flux(x, t)[0]  # collective: on every rank, whatever it found
                same = same and np.array_equal(d, dofs) and np.array_equal(v, values) \
                    and np.array_equal(F, flux)
        except (ArithmeticError, ValueError):
            same = False
        return system.numbering.sum(float(not same)) == 0

    def _reduce(self, products):
        return self.system.numbering.sum(products)

    def _count(self, free):
        return self.system.n_free

    def _solve_step(self, step, order, commit):
        system, history = self.system, self.history
        t_new = history[-1].t + step
        a = _bdf_coefficients(order, step, history[-1].dt)
        hist = sum(a[k] * self.storages[-k] for k in range(1, order + 1))
        fixed, values = system.dirichlet(t_new)
        x_guess = _predict(history, t_new, min(order, len(history) - 1))
        x_guess[fixed] = values

        def assemble(z):
            S, dS, F, dF = system.residual_parts(z, t_new)
            return a[0] * S + hist + F, dF.plus(a[0] * dS)

        before = self.stats.newton_iterations
        x_new = newton(system, assemble, x_guess, fixed, self.solver, self.options, self.stats,
                       damp=system.damp_update)
        S_new, _ = system.storage(x_new, t_new)
        snap = Snapshot(t=t_new, x=x_new, rate=a[0] * S_new + hist, dt=step,
                        newton_iterations=self.stats.newton_iterations - before,
                        residual=self.stats.residual)
        if commit:
            self._commit(snap, S_new)
        return snap
