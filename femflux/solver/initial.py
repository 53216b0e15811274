"""The consistent initial state: the model's initial values with the
Dirichlet values at t = 0, completed by the linear problem the model
declares (:meth:`~femflux.solver.System.equilibrium`), solved here."""

from __future__ import annotations

import numpy as np

from ..errors import NewtonFailure, SolverError
from ..linalg import LinearSolver
from .system import System


def consistent_initial_state(system: System, linear: str = "auto") -> np.ndarray:
    """x at t = 0: ``system.initial_state()`` with the Dirichlet values of
    t = 0, then the model's equilibrium problem, if any, solved (by its
    operator, or by a :class:`~femflux.linalg.LinearSolver` of method
    ``linear``) and turned into the state by its ``finish`` (the Dirichlet
    values set once more, exactly).  A failed solve is a :class:`SolverError`."""
    x = system.initial_state()
    fixed, values = system.dirichlet(0.0)
    x[fixed] = values
    problem = system.equilibrium(x, 0.0)
    if problem is None:
        return x
    try:
        if problem.operator is not None:
            y = problem.operator.solve(problem.rhs, problem.rtol)
        else:
            solver = LinearSolver(linear, system.dim, False, border=problem.border,
                                  fields=problem.fields)
            y = solver.solve(problem.matrix, problem.rhs, rtol=problem.rtol)
    except NewtonFailure as exc:  # a solver failure, not a traceback (exit 3)
        raise SolverError(f"the mechanical equilibrium at t = 0 s could not be solved: "
                          f"{exc}") from exc
    x = problem.finish(y)
    x[fixed] = values
    return x
