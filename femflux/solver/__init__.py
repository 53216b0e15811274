"""Newton iterations and adaptive implicit time stepping.

A model hands the solver a :class:`System` (the declared interface, with
the defaults of its optional hooks): the conservation law in discrete form
``dS(x)/dt + F(x, t) = 0`` with Dirichlet values, exact Jacobians and the
scales that make it nondimensional.  The solver never looks at physics, and
runs every solve (a model declares linear problems, :class:`LinearProblem`,
and never solves them itself):

- :mod:`.system`: :class:`System`, :class:`LinearProblem`, :class:`Snapshot`;
- :mod:`.initial`: :func:`consistent_initial_state` (initial values,
  Dirichlet values and the model's equilibrium problem at t = 0);
- :mod:`.newton`: damped Newton on scaled unknowns (:func:`newton`,
  :class:`NewtonOptions`, :class:`Stats`);
- :mod:`.bordered`: constraints as bordered Lagrange multipliers;
- :mod:`.steady`: :func:`solve_steady`, with pseudo-transient continuation;
- :mod:`.timestep`: :func:`solve_transient`, BDF1/BDF2 with local-error
  and drift control (:class:`TimeOptions`), resumable from its state;
- :mod:`.progress`: the progress bar.
"""

from ..errors import NewtonFailure
from .bordered import Bordered, _damping, _free_dofs
from .initial import consistent_initial_state
from .newton import (
    NewtonOptions,
    Stats,
    _conserving,
    _scaled_inverse,
    _scaled_jacobian,
    _with_identity_rows,
    newton,
)
from .steady import _pseudo_transient, solve_steady
from .system import LinearProblem, Snapshot, System
from .timestep import (
    TimeOptions,
    _bdf_coefficients,
    _conserved_rows,
    _local_error,
    _model_preconditioner,
    _predict,
    _Stepper,
    _weighted_error,
    solve_transient,
)

__all__ = [
    "Bordered",
    "LinearProblem",
    "NewtonFailure",
    "NewtonOptions",
    "Snapshot",
    "Stats",
    "System",
    "TimeOptions",
    "_Stepper",
    "_bdf_coefficients",
    "_conserved_rows",
    "_conserving",
    "_damping",
    "_free_dofs",
    "_local_error",
    "_model_preconditioner",
    "_predict",
    "_pseudo_transient",
    "_scaled_inverse",
    "_scaled_jacobian",
    "_weighted_error",
    "_with_identity_rows",
    "consistent_initial_state",
    "newton",
    "solve_steady",
    "solve_transient",
]
