"""The declared interface between a model and the solver.

- :class:`System`: everything the solver and the linear algebra may ask of
  a model, with the defaults of the optional hooks (a model subclasses it
  and overrides what it has);
- :class:`LinearProblem`: a linear system a model hands over to be solved
  (e.g. the initial mechanical equilibrium), instead of solving it itself;
- :class:`Snapshot`: a converged state, what the solver hands back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..linalg import Field


class System:
    """A model as the solver sees it: the conservation law in discrete form

        dS(x)/dt + F(x, t) = 0       (n equations in the n unknowns x)

    with Dirichlet values, exact Jacobians and the scales that make it
    nondimensional.  The solver never looks at physics, and asks nothing of
    a model beyond what is declared here.

    Attributes the model sets:

    - ``n``: number of unknowns;
    - ``dim``: spatial dimension (1, 2, 3): picks direct or iterative solves;
    - ``x_scale``: (n,) typical magnitude of each unknown (Newton works on
      ``x / x_scale``);
    - ``r_scale``: (n,) typical magnitude of each residual row (Newton
      measures ``R / r_scale``);
    - ``symmetric``: the Jacobian is symmetric (AMG may precondition CG);
    - ``linear``: F affine and S linear in x, so the Jacobian does not
      depend on x (factorisations are reused across iterations and steps).

    Required methods: :meth:`initial_state`, :meth:`dirichlet`,
    :meth:`storage`, :meth:`flux`.  Optional hooks, whose defaults here mean
    "nothing special": :meth:`conserved`, :meth:`constraints`,
    :meth:`damp_update`, :meth:`time_error`, :meth:`time_step_limit`,
    :meth:`node_blocks`, :meth:`field_split`, :meth:`preconditioner`,
    :meth:`equilibrium`.

    Jacobians are sparse (n, n) matrices owned by the solver once returned:
    it may scale their values in place, so every call returns a fresh one.
    """

    n: int
    dim: int
    x_scale: np.ndarray
    r_scale: np.ndarray
    symmetric: bool = False
    linear: bool = False

    # -- required ---------------------------------------------------------------

    def initial_state(self) -> np.ndarray:
        """(n,) the state at t = 0 (the first guess of a steady run), a fresh
        array; its Dirichlet dofs are then set from ``dirichlet(0)``."""
        raise NotImplementedError

    def dirichlet(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(dofs, values): the prescribed unknowns at time t (s) and their
        values; their rows are left out of Newton's equations."""
        raise NotImplementedError

    def storage(self, x: np.ndarray, t: float = 0.0) -> tuple[np.ndarray, sp.spmatrix]:
        """(S, dS/dx): the (n,) stored amounts whose rate enters the law, and
        their Jacobian, at time t (s) (a storage may change in time, e.g. a
        solubility that follows a temperature field: the time derivative is
        then that of S(x(t), t), mass conserved)."""
        raise NotImplementedError

    def flux(self, x: np.ndarray, t: float) -> tuple[np.ndarray, sp.spmatrix]:
        """(F, dF/dx): the (n,) residual of fluxes, sources and algebraic
        equations at time t (s), and its exact Jacobian."""
        raise NotImplementedError

    # -- optional hooks -----------------------------------------------------------

    def conserved(self) -> np.ndarray:
        """(k, n) rows C with C @ F(x) = 0 for every x (the conserved
        combinations of closed species).  Steady runs hold the amounts
        C S(x) at their initial values with bordered Lagrange multipliers;
        transient Newton keeps them conserved to round-off.  May raise
        :class:`~femflux.errors.CaseError` when prescribed inflows cannot
        balance (bad input for a steady run; transient runs then ignore the
        rows).  Default: no rows."""
        return np.zeros((0, self.n))

    def constraints(self, x: np.ndarray, steady: bool
                    ) -> tuple[np.ndarray, sp.spmatrix | np.ndarray, np.ndarray] | None:
        """(g, G, scale): extra scalar equations g(x) = 0 (k,), their Jacobian
        G = dg/dx (k, n) and the typical size of each g (k,) (e.g. the gauge
        "mean potential 0"), imposed with Lagrange multipliers; k is the same
        for every x.  ``steady``: for a steady or a transient run.  Default:
        None (no constraints)."""
        return None

    def damp_update(self, x: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """The Newton update dx from x, possibly shortened for some unknowns
        (e.g. potentials limited to a few thermal voltages per iteration)
        before the line search.  Default: dx unchanged."""
        return dx

    def time_error(self, x: np.ndarray, e: np.ndarray, atol_fraction: float) -> float | None:
        """The relative size of a local-error estimate e (n,) (zero on the
        Dirichlet dofs) at the state x, 1 = as large as the state's own scale
        (the solver divides by rtol); ``atol_fraction``: absolute tolerance as
        a fraction of ``x_scale``.  Default: None, the solver's RMS of
        e / max(|x|, atol_fraction x_scale)."""
        return None

    def time_step_limit(self, x: np.ndarray, rtol: float) -> float | None:
        """The longest time step (s) to take from the state x in adaptive runs
        at local-error tolerance rtol.  Default: None (no limit)."""
        return None

    def node_blocks(self) -> tuple[np.ndarray, int] | None:
        """(perm, size): the permutation to node-wise order of coupled fields
        and the unknowns per node, for AMG to aggregate nodes rather than
        unknowns.  Used when :meth:`field_split` is None.  Default: None."""
        return None

    def field_split(self) -> list[Field] | None:
        """The fields of a block Gauss-Seidel preconditioner for iterative
        solves (:class:`~femflux.linalg.Field`, in elimination order).
        Default: None (AMG on the whole Jacobian)."""
        return None

    def preconditioner(self, J: sp.spmatrix, x: np.ndarray
                       ) -> Callable[[np.ndarray], np.ndarray] | None:
        """An approximate inverse r -> z of the (unscaled) Jacobian J at x,
        preconditioning GMRES instead of the generic linear solver on large
        nonlinear transient systems.  A callable may keep J (the solver
        scales a copy); None keeps nothing.  Default: None."""
        return None

    def equilibrium(self, x: np.ndarray, t: float) -> LinearProblem | None:
        """The linear problem whose solution completes x into a consistent
        state at time t (e.g. displacement and stress in quasi-static
        equilibrium with the initial species), solved by the solver layer
        (:func:`~femflux.solver.consistent_initial_state`).  Default: None
        (x is consistent as it is)."""
        return None


@dataclass(kw_only=True)
class LinearProblem:
    """A linear system a model needs solved, returned from
    :meth:`System.equilibrium`; the solver layer solves it.  Either

    (a) ``matrix``: the sparse system (already scaled), which may carry
        ``border`` trailing Lagrange-multiplier rows and columns, with
        ``fields`` (the block preconditioner of iterative solves, or None),
        solved by a :class:`~femflux.linalg.LinearSolver`; or
    (b) ``operator``: an object with ``.solve(rhs, rtol)`` that the model got
        from the linear-algebra layer (e.g. a
        :func:`~femflux.linalg.fixed_solver`).

    ``rhs``: the right-hand side; ``rtol``: the relative residual of
    iterative solves; ``finish(y)``: the full state x from the solution y.
    """

    rhs: np.ndarray
    finish: Callable[[np.ndarray], np.ndarray]
    matrix: sp.spmatrix | None = None
    fields: list[Field] | None = None
    border: int = 0
    operator: object | None = None
    rtol: float = 1e-10

    def __post_init__(self) -> None:
        if (self.matrix is None) == (self.operator is None):
            raise ValueError("a LinearProblem has either a matrix or an operator")


@dataclass
class Snapshot:
    """A converged state: ``rate`` is dS/dt there (0 when steady), for fluxes."""

    t: float
    x: np.ndarray
    rate: np.ndarray
    dt: float = 0.0
    newton_iterations: int = 0
    #: R(x) = rate + F(x, t) of the step (None: not known), whose rows at the
    #: prescribed dofs are the boundary reactions: fluxes without re-assembly
    residual: np.ndarray | None = None
