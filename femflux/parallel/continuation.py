"""Pseudo-transient continuation on the distributed system: the serial
fallback of a steady solve (:func:`femflux.solver.steady._pseudo_transient`)
when Newton from the initial guess fails.

March dS/dt + F(x) = 0 from the initial guess with growing pseudo-time steps
(x10 after an easy step, x2 after a hard one, /4 after a failed one) until
the scaled steady residual |F / F_typ|_rms < 1e-6; every decision is taken on
norms reduced over the ranks, so all ranks take the same steps.  The first
step is 1e-6 of the median time scale |S_typ| / F_typ of the unknowns with
storage (the median of the ranks' medians).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NewtonFailure
from ..solver import NewtonOptions
from .newton import newton

#: Newton of a pseudo-time step: loose, and few iterations before a smaller step
_LOOSE = {"rtol": 1e-6, "max_iterations": 12}


def pseudo_transient(system, x0, fixed, solver, options: NewtonOptions, stats,
                     max_steps: int = 200) -> np.ndarray:
    """A state near the steady one, from ``x0`` (owned parts; collective)."""
    num = system.numbering
    free = np.ones(system.n, dtype=bool)
    free[fixed] = False
    S_typ, _ = system.storage(system.x_scale)
    F_typ = system.r_scale
    with_storage = free & (np.abs(S_typ) > 0)
    local = np.abs(S_typ[with_storage]) / F_typ[with_storage]
    medians = [m for m in num.comm.allgather(float(np.median(local)) if len(local) else None)
               if m is not None]
    dt = 1e-6 * float(np.median(medians)) if medians else math.nan
    if not (math.isfinite(dt) and dt > 0):
        raise NewtonFailure(f"no pseudo-time step from the scales (dt = {dt:g})")
    loose = NewtonOptions(atol=options.atol, **_LOOSE)
    n_free = max(system.n_free, 1)
    x = x0.copy()
    for _ in range(max_steps):
        S_old, _ = system.storage(x)

        def assemble(z, S_old=S_old, dt=dt):
            S, dS, F, dF = system.residual_parts(z, 0.0)
            return (S - S_old) / dt + F, dF.plus(dS / dt)

        before = stats.newton_iterations
        try:
            x = newton(system, assemble, x, fixed, solver, loose, stats,
                       damp=system.damp_update)
        except NewtonFailure:
            dt *= 0.25
            continue
        stats.continuation_steps += 1
        dt *= 10.0 if stats.newton_iterations - before <= 3 else 2.0
        F, _ = system.flux(x, 0.0)
        r = math.sqrt(num.sum(float(np.sum((F[free] / F_typ[free]) ** 2))) / n_free)
        if r < 1e-6:
            break
    return x
