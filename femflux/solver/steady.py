"""Steady solves ``F(x) = 0`` (with the amount constraints of closed
species, SPEC 4.0, and the model's gauges as bordered Lagrange
multipliers), with pseudo-transient continuation when Newton from the
initial guess fails.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NewtonFailure
from ..linalg import LinearSolver
from .bordered import Bordered, _damping, _free_dofs
from .initial import consistent_initial_state
from .newton import NewtonOptions, Stats, newton
from .system import Snapshot, System


def solve_steady(system: System, options: NewtonOptions, linear: str = "auto",
                 stats: Stats | None = None, progress: bool = False,
                 x0: np.ndarray | None = None) -> Snapshot:
    """Solve ``F(x) = 0`` (with amount constraints for closed species and the
    model's gauges) from ``x0``, by default :func:`consistent_initial_state`
    (the amounts held are those of x0).

    Falls back to pseudo-transient continuation when Newton from the initial
    guess fails.
    """
    stats = stats or Stats()
    x0 = consistent_initial_state(system, linear) if x0 is None else x0
    fixed, _ = system.dirichlet(0.0)
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
    if not (math.isfinite(dt) and dt > 0):
        raise NewtonFailure(f"no pseudo-time step from the scales (dt = {dt:g})")
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
