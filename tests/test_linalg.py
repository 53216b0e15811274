"""The linear-algebra layer and the declared model interface, piece by piece:
the names femflux.linalg keeps, the System defaults and the hooks
LinearSolver.for_system calls, consistent_initial_state with both kinds of
LinearProblem, the mass-stiffness Schur preconditioner and the V-cycle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from femflux import errors, linalg, solver
from femflux.errors import SolverError
from femflux.linalg import Field, LinearSolver, MassStiffnessSchur, VCycle, gmres
from femflux.solver import LinearProblem, System, consistent_initial_state


def test_the_linear_algebra_names_stay_importable():
    names = ["BorderedMatrix", "Field", "FixedMultigrid", "LinearSolver", "MassStiffnessSchur",
             "NewtonFailure", "VCycle", "_Direct", "_NodeBlocks", "fixed_solver", "gmres",
             "node_permutation", "norm", "row_view", "scale_in_place"]
    for name in names:
        assert getattr(linalg, name) is not None, name
    assert linalg.NewtonFailure is errors.NewtonFailure is solver.NewtonFailure


class Chain(System):
    """-x_{i-1} + 2 x_i - x_{i+1} = 0 on n unknowns, x_0 = 2 prescribed."""

    def __init__(self, n=4, problem=None):
        self.n, self.dim = n, 1
        self.x_scale = self.r_scale = np.ones(n)
        self.problem = problem

    def initial_state(self):
        return np.zeros(self.n)

    def dirichlet(self, t):
        return np.array([0]), np.array([2.0])

    def storage(self, x, t=0.0):
        return x.copy(), sp.identity(self.n, format="csr")

    def flux(self, x, t):
        K = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(self.n, self.n), format="csr")
        return K @ x, K

    def equilibrium(self, x, t):
        return self.problem(x) if self.problem is not None else None


def test_system_defaults_declare_nothing_special():
    model = Chain()
    x, dx = np.ones(4), np.arange(4.0)
    assert model.conserved().shape == (0, 4)
    assert model.constraints(x, True) is None
    assert model.damp_update(x, dx) is dx
    assert model.time_error(x, dx, 1e-3) is None
    assert model.time_step_limit(x, 1e-3) is None
    assert model.node_blocks() is None and model.field_split() is None
    assert model.preconditioner(sp.identity(4), x) is None
    assert model.equilibrium(x, 0.0) is None
    assert not model.symmetric and not model.linear
    for method, args in [("initial_state", ()), ("dirichlet", (0.0,)), ("storage", (x,)),
                         ("flux", (x, 0.0))]:
        with pytest.raises(NotImplementedError):
            getattr(System(), method)(*args)


def test_for_system_prefers_the_field_split_to_node_blocks():
    class Blocked(Chain):
        def node_blocks(self):
            return np.array([0, 2, 1, 3]), 2

    class Split(Blocked):
        def field_split(self):
            return [Field(slice(0, 2)), Field(slice(2, 4), kind="diagonal")]

    blocked = LinearSolver.for_system(Blocked(), border=1)
    assert blocked.blocks[1] == 2 and blocked.fields is None and blocked.border == 1
    split = LinearSolver.for_system(Split())
    assert split.blocks is None and len(split.fields) == 2
    assert split.near_nullspace is None


def _finish(x):
    def finish(y):
        out = x.copy()
        out[1:] = y[:3]
        return out

    return finish


def test_consistent_initial_state_sets_dirichlet_values_without_an_equilibrium():
    np.testing.assert_array_equal(consistent_initial_state(Chain()), [2.0, 0.0, 0.0, 0.0])


def test_consistent_initial_state_solves_a_bordered_matrix_problem():
    """Case (a): x_1..x_3 = y with [[I, 1], [1^T, 0]] [y; lam] = [b; 6]."""
    A = sp.bmat([[sp.identity(3), np.ones((3, 1))], [np.ones((1, 3)), None]], format="csr")

    def problem(x):
        assert x[0] == 2.0  # the Dirichlet values are set first
        return LinearProblem(matrix=A, rhs=np.array([1.0, 2.0, 3.0, 6.0]), border=1,
                             rtol=1e-12, finish=_finish(x))

    x = consistent_initial_state(Chain(problem=problem), "direct")
    np.testing.assert_allclose(x, [2.0, 1.0, 2.0, 3.0])


def test_consistent_initial_state_uses_the_models_operator():
    class Halve:
        def solve(self, rhs, rtol):
            assert rtol == 1e-6
            return 0.5 * rhs

    def problem(x):
        return LinearProblem(operator=Halve(), rhs=np.array([2.0, 4.0, 6.0]), rtol=1e-6,
                             finish=_finish(x))

    x = consistent_initial_state(Chain(problem=problem))
    np.testing.assert_allclose(x, [2.0, 1.0, 2.0, 3.0])


def test_a_failed_equilibrium_solve_is_a_solver_error():
    class Fail:
        def solve(self, rhs, rtol):
            raise linalg.NewtonFailure("forced failure")

    def problem(x):
        return LinearProblem(operator=Fail(), rhs=np.zeros(3), finish=_finish(x))

    with pytest.raises(SolverError, match="equilibrium at t = 0 s could not be solved: forced"):
        consistent_initial_state(Chain(problem=problem))


def test_a_linear_problem_has_a_matrix_or_an_operator():
    with pytest.raises(ValueError):
        LinearProblem(rhs=np.zeros(2), finish=lambda y: y)
    with pytest.raises(ValueError):
        LinearProblem(matrix=sp.identity(2), operator=object(), rhs=np.zeros(2),
                      finish=lambda y: y)


def _grid_laplacian(m: int) -> sp.csr_matrix:
    """The 5-point stiffness of an m x m grid (Neumann: rows sum to zero)."""
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(m, m)).tolil()
    T[0, 0] = T[-1, -1] = 1.0
    eye = sp.identity(m)
    return (sp.kron(T, eye) + sp.kron(eye, T)).tocsr()


@pytest.mark.parametrize(("curvature", "a0"), [(0.0, 1e2), (5.0, 1e2), (-1.0, 1e4)])
def test_mass_stiffness_schur_preconditions_the_cahn_hilliard_jacobian(curvature, a0):
    """J = [[a0 D, L K], [-(f'' D + kappa K), D]]: GMRES with the block
    preconditioner converges in a few iterations (also inside the spinodal,
    f'' < 0, at steps short enough for J to be well posed)."""
    m = 40
    K = _grid_laplacian(m)
    n = m * m
    D = np.full(n, 1.0 / n)
    L, kappa = 1.0, 1e-3
    J = sp.bmat([[sp.diags(a0 * D), L * K],
                 [-(sp.diags(curvature * D) + kappa * K), sp.diags(D)]], format="csr")
    apply = MassStiffnessSchur(K, D, L, kappa)(J, max(curvature, 0.0))
    b = np.random.default_rng(0).standard_normal(2 * n)

    class Count:
        krylov_iterations = 0

    y = gmres(J, b, apply, 1e-8, Count, maxiter=40, cycles=1, give_up=False)
    assert y is not None
    assert np.linalg.norm(J @ y - b) <= 1e-7 * np.linalg.norm(b)
    assert Count.krylov_iterations <= 25


def test_v_cycle_is_pyamgs_own_cycle():
    import pyamg

    A = _grid_laplacian(30) + sp.identity(900) * 1e-2
    ml = pyamg.smoothed_aggregation_solver(A.tocsr(), max_coarse=50)
    assert len(ml.levels) > 2
    b = np.random.default_rng(1).standard_normal(900)
    np.testing.assert_allclose(VCycle(ml)(b), ml.aspreconditioner(cycle="V") @ b,
                               rtol=1e-10, atol=1e-12)


def test_gmres_with_and_without_blas_products(monkeypatch):
    """GMRES's Gram-Schmidt by BLAS (single-threaded BLAS) or by einsum: the
    same iterations, a true residual below rtol on a non-symmetric
    convection-diffusion matrix and SuperLU's solution."""
    from scipy.sparse.linalg import spsolve

    from femflux.linalg import krylov

    m = 30
    T = sp.diags([-1.3, 2.0, -0.7], [-1, 0, 1], shape=(m, m))
    A = (sp.kron(T, sp.identity(m)) + sp.kron(sp.identity(m), _grid_laplacian(m)[:m, :m])
         ).tocsr()
    b = np.random.default_rng(2).standard_normal(m * m)
    d = A.diagonal()
    exact = spsolve(A.tocsc(), b)
    counts = []
    for blas in (False, True):
        monkeypatch.setattr(krylov, "_SERIAL", blas)

        class Count:
            krylov_iterations = 0

        y = krylov.gmres(A, b, lambda r: r / d, 1e-10, Count, maxiter=60, cycles=5,
                         give_up=False, flexible=False)
        assert np.linalg.norm(A @ y - b) <= 1e-9 * np.linalg.norm(b)
        np.testing.assert_allclose(y, exact, rtol=1e-6, atol=1e-8)
        counts.append(Count.krylov_iterations)
    assert counts[0] == counts[1] and counts[0] >= 20
