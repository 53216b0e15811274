"""Newton and the time stepper (femflux.solver) on toy systems with closed-form
answers, independent of any physics model: quadratic convergence, the line
search, failure, exact linear solves, the order of BDF1 and BDF2, adaptive
error control, output times, step rejection after a failed Newton iteration
and Dirichlet values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from femflux.linalg import LinearSolver, NewtonFailure
from femflux.solver import (
    NewtonOptions,
    Stats,
    TimeOptions,
    newton,
    solve_steady,
    solve_transient,
)

# -- toy systems ---------------------------------------------------------------------------


class Toy:
    """dS(x)/dt + F(x, t) = 0 with S(x) = x, F(x, t) = A x - b(t), optional
    Dirichlet dofs; every hook of the solver's System defined (all neutral)."""

    dim = 1
    symmetric = False
    linear = True

    def __init__(self, A, b=None, x0=None, fixed=(), values=()):
        self.A = sp.csr_matrix(A)
        self.n = self.A.shape[0]
        self.b = (lambda t: np.zeros(self.n)) if b is None else b
        self.x0 = np.ones(self.n) if x0 is None else np.asarray(x0, dtype=float)
        self.fixed = np.asarray(fixed, dtype=int)
        self.values = values  # array, or a function of t
        self.x_scale = np.ones(self.n)
        self.r_scale = np.ones(self.n)

    def initial_state(self):
        return self.x0.copy()

    def dirichlet(self, t):
        values = self.values(t) if callable(self.values) else self.values
        return self.fixed, np.asarray(values, dtype=float)

    def storage(self, x, t=0.0):
        return x.copy(), sp.identity(self.n, format="csr")

    def flux(self, x, t):
        return self.A @ x - self.b(t), self.A.copy()

    def conserved(self):
        return np.zeros((0, self.n))

    def constraints(self, x, steady):
        return None

    def damp_update(self, x, dx):
        return dx

    def time_error(self, x, e, atol_fraction):
        return None

    def time_step_limit(self, x, rtol):
        return None

    def node_blocks(self):
        return None

    def field_split(self):
        return None

    def preconditioner(self, J, x):
        return None

    def equilibrium(self, x, t):
        return None


def decay(k=1.0, y0=1.0):
    """dy/dt = -k y: y = y0 exp(-k t)."""
    return Toy([[k]], x0=[y0])


class PositiveGrowth(Toy):
    """dy/dt = k y, defined for y > 0 only (the flux is NaN elsewhere, as a
    logarithm of a concentration would be).  Implicit Euler gives
    y_new = y_old / (1 - k dt): negative, so unreachable, once k dt > 1."""

    def __init__(self, k):
        super().__init__([[-k]])
        self.k = k

    def flux(self, x, t):
        F, dF = super().flux(x, t)
        return np.where(x > 0, F, np.nan), dF


def assembler(residual, jacobian, calls=None):
    """assemble(x) -> (R, J sparse) of Newton, recording the points it is called at."""
    def assemble(x):
        if calls is not None:
            calls.append(x.copy())
        return residual(x), sp.csr_matrix(jacobian(x))

    return assemble


def run_newton(assemble, x0, options=None, stats=None):
    x0 = np.asarray(x0, dtype=float)
    n = len(x0)
    return newton(assemble, x0, np.arange(n), np.ones(n), np.ones(n),
                  LinearSolver("direct", dim=1), options or NewtonOptions(), stats or Stats())


# -- Newton --------------------------------------------------------------------------------


def test_newton_converges_quadratically():
    """x_i^2 = a_i component-wise from x = 1: e_{k+1} / e_k^2 -> 1/(2 sqrt(a_i))
    (Newton's constant f''/(2 f')), bounded; every iterate a full step."""
    a = np.array([2.0, 3.0, 5.0, 0.5])
    calls = []
    assemble = assembler(lambda x: x * x - a, lambda x: sp.diags(2 * x), calls)
    stats = Stats()
    x = run_newton(assemble, np.ones(4), NewtonOptions(rtol=1e-14, atol=1e-15), stats)
    root = np.sqrt(a)
    np.testing.assert_allclose(x, root, rtol=1e-14)
    iterates = np.array(calls)  # the initial guess, then one point per full step
    assert len(iterates) == stats.newton_iterations + 1 <= 7
    for i in range(len(a)):
        # the exact Newton map from x = 1 (independent of the solver)
        expected, xi = [], 1.0
        for _ in range(len(iterates)):
            expected.append(xi)
            xi = 0.5 * (xi + a[i] / xi)
        np.testing.assert_allclose(iterates[:, i], expected, rtol=1e-13)
        e = np.abs(iterates[:, i] - root[i])
        ratios = [e[k + 1] / e[k] ** 2 for k in range(len(e) - 1) if e[k] > 1e-7 and e[k + 1] > 0]
        assert len(ratios) >= 2
        assert max(ratios) <= 0.5 / min(1.0, root[i]) + 1e-9  # f''/(2 f') at the worst point
        assert ratios[-1] == pytest.approx(1 / (2 * root[i]), rel=0.05)


def test_line_search_rescues_an_overshooting_newton_step():
    """arctan(x) = 0 from x0 = 3: undamped Newton (x <- x - (1 + x^2) arctan x)
    diverges from any |x0| > 1.39; the backtracking line search converges to 0."""
    x, undamped = 3.0, [3.0]
    for _ in range(5):
        x = x - (1 + x * x) * math.atan(x)
        undamped.append(x)
    assert all(abs(b) > 3 * abs(a) for a, b in zip(undamped, undamped[1:], strict=False))
    calls = []
    assemble = assembler(np.arctan, lambda x: sp.diags(1 / (1 + x * x)), calls)
    stats = Stats()
    root = run_newton(assemble, [3.0], stats=stats)
    assert abs(root[0]) < 1e-12
    # the full first step (to 3 - 10 arctan 3 = -9.49) was tried and rejected
    assert calls[1][0] == pytest.approx(undamped[1], rel=1e-12)
    assert abs(calls[2][0]) < abs(calls[1][0])
    assert stats.newton_iterations < 20


def test_newton_without_a_root_fails_after_max_iterations():
    """exp(x) = 0 has no root: every Newton step is x <- x - 1 (a full step, the
    residual falls by e each time); rtol 1e-10 is never met in 20 iterations."""
    options = NewtonOptions(rtol=1e-10, atol=1e-30, max_iterations=20)
    calls = []
    assemble = assembler(np.exp, lambda x: sp.diags(np.exp(x)), calls)
    stats = Stats()
    with pytest.raises(NewtonFailure, match="20 Newton iterations"):
        run_newton(assemble, [0.0], options, stats)
    assert stats.newton_iterations == 20
    np.testing.assert_allclose(np.array(calls)[:, 0], -np.arange(21.0), atol=1e-12)


def test_newton_fails_on_x_squared_plus_one():
    """x^2 + 1 = 0 has no real root: Newton gives up with NewtonFailure (the
    line search or the iteration limit), never a wrong root."""
    assemble = assembler(lambda x: x * x + 1, lambda x: sp.diags(2 * x))
    with pytest.raises(NewtonFailure):
        run_newton(assemble, [0.7], NewtonOptions(max_iterations=50))


# -- steady --------------------------------------------------------------------------------


def test_solve_steady_linear_system_is_exact_and_keeps_dirichlet_values():
    """F = A x - b = 0 on the free dofs, x = g on the Dirichlet dofs: the dense
    solve of the reduced system."""
    rng = np.random.default_rng(7)
    n = 12
    A = sp.random(n, n, density=0.3, random_state=rng) + sp.diags(4.0 + rng.random(n))
    b = rng.standard_normal(n)
    fixed, g = np.array([0, 5, 11]), np.array([1.5, -2.0, 0.25])
    toy = Toy(A, lambda t: b, x0=np.zeros(n), fixed=fixed, values=g)
    stats = Stats()
    snap = solve_steady(toy, NewtonOptions(), "direct", stats)
    free = np.setdiff1d(np.arange(n), fixed)
    dense = A.toarray()
    exact = np.empty(n)
    exact[fixed] = g
    exact[free] = np.linalg.solve(dense[np.ix_(free, free)],
                                  b[free] - dense[np.ix_(free, fixed)] @ g)
    np.testing.assert_allclose(snap.x, exact, rtol=1e-12, atol=1e-12 * np.abs(exact).max())
    assert np.array_equal(snap.x[fixed], g)  # exactly
    assert stats.newton_iterations == 1  # linear: one Newton step
    assert np.all(snap.rate == 0.0) and snap.t == 0.0


# -- fixed-step BDF ------------------------------------------------------------------------


def _final(system, **time_options):
    snaps = []
    stats = Stats()
    last = solve_transient(system, TimeOptions(**time_options), NewtonOptions(), "direct",
                           on_step=snaps.append, stats=stats)
    return last, snaps, stats


K, T_END = 1.5, 1.0


def test_bdf1_fixed_step_is_implicit_euler_of_first_order():
    """dy/dt = -k y, fixed dt: y_N = y0 (1 + k dt)^-N exactly (implicit Euler),
    and the error against exp(-k t) halves with dt (within 10 %)."""
    errors = []
    for n_steps in (20, 40, 80):
        dt = T_END / n_steps
        last, snaps, stats = _final(decay(K), t_end=T_END, dt=dt, scheme="bdf1",
                                    adaptive=False)
        assert stats.steps == n_steps and stats.rejected_steps == 0
        assert last.t == pytest.approx(T_END, rel=1e-14)
        assert all(s.dt == pytest.approx(dt, rel=1e-9) for s in snaps)
        assert last.x[0] == pytest.approx((1 + K * dt) ** -n_steps, rel=1e-12)
        errors.append(abs(last.x[0] - math.exp(-K * T_END)))
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert coarse / fine == pytest.approx(2.0, rel=0.1)


def test_bdf2_fixed_step_is_second_order():
    """dy/dt = -k y, fixed dt, BDF2 (its first step BDF1): the error against
    exp(-k t) falls by 4 per halving of dt (within 10 %)."""
    errors = []
    for n_steps in (20, 40, 80):
        dt = T_END / n_steps
        last, _, stats = _final(decay(K), t_end=T_END, dt=dt, scheme="bdf2", adaptive=False)
        assert stats.steps == n_steps
        errors.append(abs(last.x[0] - math.exp(-K * T_END)))
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert coarse / fine == pytest.approx(4.0, rel=0.1)
    # and the BDF2 recurrence, (3 y_n+1 - 4 y_n + y_n-1) / (2 dt) = -k y_n+1
    dt, n_steps = T_END / 80, 80
    y = [1.0, 1.0 / (1 + K * dt)]
    for _ in range(n_steps - 1):
        y.append((4 * y[-1] - y[-2]) / (3 + 2 * K * dt))
    assert errors[-1] == pytest.approx(abs(y[-1] - math.exp(-K * T_END)), rel=1e-9)


# -- adaptive BDF2 ------------------------------------------------------------------------


def _step_errors(snaps, rate, y0=1.0):
    """Relative error each accepted step adds to y' = rate y: for a linear
    problem the global relative error is the product of these."""
    y = np.array([y0] + [s.x[0] for s in snaps])
    dts = np.array([s.dt for s in snaps])
    return (y[1:] / y[:-1]) / np.exp(rate * dts) - 1


@pytest.mark.parametrize("rtol", [1e-3, 1e-5])
def test_adaptive_bdf2_error_at_t_end_is_the_tolerance(rtol):
    """dy/dt = -k y to t = 4 (y falls 400x), adaptive BDF2 from a first step of
    1e-3: t_end is reached exactly; time_rtol is the relative error at t_end
    (README Numerics): the steps' relative errors add up undamped here, and
    the drift control keeps their sum between 0.5 and 3 rtol (measured 1.70
    and 2.71 rtol; the former per-step control: 49 rtol at 1e-3), each step
    well below rtol."""
    t_end = 4.0
    last, snaps, stats = _final(decay(K), t_end=t_end, dt=1e-3, scheme="bdf2",
                                adaptive=True, rtol=rtol)
    assert last.t == t_end
    local = np.abs(_step_errors(snaps, -K))
    assert local.max() < 1.5 * rtol
    error = abs(last.x[0] / math.exp(-K * t_end) - 1)
    assert 0.5 * rtol < error < 3 * rtol  # accurate, and the steps not needlessly small
    assert error == pytest.approx(local.sum(), rel=0.15)  # no cancellation: one sign
    dts = [s.dt for s in snaps]
    assert max(dts) > 10 * dts[0]
    for s in snaps:  # every accepted step is on the curve, not only the last
        assert abs(s.x[0] / math.exp(-K * s.t) - 1) <= 1.05 * local.sum()


def test_adaptive_steps_tighten_with_the_tolerance():
    """BDF2's error at t_end ~ dt^2 under the drift control: 100x tighter
    rtol needs about 10x more steps (between 5x and 15x; measured 7.8x: at
    1e-5 the drift's steps meet their floor, a tenth of the local
    criterion's), and the error falls with rtol (more than 30x; measured 83x)."""
    runs = {}
    for rtol in (1e-3, 1e-5):
        last, _, stats = _final(decay(K), t_end=4.0, dt=1e-2, scheme="bdf2", adaptive=True,
                                rtol=rtol)
        runs[rtol] = (stats.steps, abs(last.x[0] / math.exp(-K * 4.0) - 1))
    assert 5 < runs[1e-5][0] / runs[1e-3][0] < 15
    assert runs[1e-5][1] < runs[1e-3][1] / 30


@pytest.mark.parametrize("scheme, adaptive", [("bdf1", False), ("bdf2", False),
                                              ("bdf2", True)])
def test_output_times_are_hit_exactly(scheme, adaptive):
    times = [0.1, 0.3, 1 / 3, 0.7, 1.234]
    last, snaps, _ = _final(decay(K), t_end=2.0, dt=0.07, scheme=scheme, adaptive=adaptive,
                            output_times=times)
    ts = [s.t for s in snaps]
    for t in times:
        assert t in ts, (t, [s for s in ts if abs(s - t) < 1e-6])
    assert last.t == 2.0 and ts == sorted(ts)
    # the state is that of the requested time, not just its label: BDF1 is
    # implicit Euler over the steps taken; BDF2 within 0.5 % (adaptive: 1 %) of exp(-k t)
    y = 1.0
    for s in snaps:
        y /= 1 + K * s.dt
        if scheme == "bdf1":
            assert s.x[0] == pytest.approx(y, rel=1e-12)
        elif s.t in times:
            assert s.x[0] == pytest.approx(math.exp(-K * s.t), rel=1e-2 if adaptive else 5e-3)


# -- step rejection ---------------------------------------------------------------------------


def test_a_step_whose_newton_fails_is_retried_smaller():
    """Growth dy/dt = k y, k dt = 1.6 > 1: implicit Euler's step would end at
    y < 0 where the flux is NaN, Newton fails, the step is rejected and
    retried with a quarter of dt; the result is implicit Euler over the
    accepted steps only, y_N = prod 1 / (1 - k dt_i)."""
    k, dt = 1.0, 1.6
    last, snaps, stats = _final(PositiveGrowth(k), t_end=3.0, dt=dt, scheme="bdf1",
                                adaptive=False)
    assert stats.rejected_steps >= 1
    assert last.t == pytest.approx(3.0, rel=1e-14)
    dts = np.array([s.dt for s in snaps])
    assert np.all(k * dts < 1) and dts[0] == pytest.approx(dt / 4)
    assert dts.sum() == pytest.approx(3.0, rel=1e-12)
    assert last.x[0] == pytest.approx(np.prod(1 / (1 - k * dts)), rel=1e-10)
    y, t = 1.0, 0.0  # the snapshots chain the accepted steps
    for s in snaps:
        y /= 1 - k * s.dt
        t += s.dt
        assert s.x[0] == pytest.approx(y, rel=1e-10) and s.t == pytest.approx(t, rel=1e-12)


def test_adaptive_first_step_that_fails_is_retried():
    """The same with adaptive BDF2: a first step of k dt = 1.6 cannot be solved;
    the run still reaches t_end, each accepted step within 1.5 rtol of exp(k dt)."""
    k, rtol = 1.0, 1e-4
    last, snaps, stats = _final(PositiveGrowth(k), t_end=3.0, dt=1.6, scheme="bdf2",
                                adaptive=True, rtol=rtol)
    assert stats.rejected_steps >= 1
    assert last.t == 3.0
    assert snaps[0].dt < 1.6 / 4 + 1e-12
    local = np.abs(_step_errors(snaps, k))
    assert local.max() < 1.5 * rtol
    assert last.x[0] == pytest.approx(math.exp(k * 3.0), rel=stats.steps * rtol)
    assert all(np.isfinite(s.x).all() and s.x[0] > 0 for s in snaps)


# -- Dirichlet values ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme, adaptive", [("bdf1", False), ("bdf2", True)])
def test_dirichlet_dofs_keep_their_values_in_time(scheme, adaptive):
    """y0 prescribed g(t) = 2 + sin(t); y1' = -k (y1 - y0), y2' = -k y2 + y0.
    The prescribed dof equals g(t) exactly at every step; with g constant the
    free ones follow y1 = g + (y1(0) - g) e^{-kt} (BDF1 closed form:
    y1_new = (y1 + k dt g) / (1 + k dt))."""
    k = 2.0
    A = [[0.0, 0.0, 0.0], [-k, k, 0.0], [-1.0, 0.0, k]]
    toy = Toy(A, x0=[0.0, 5.0, 0.0], fixed=[0], values=lambda t: [2.0 + math.sin(t)])
    _, snaps, _ = _final(toy, t_end=1.0, dt=0.05, scheme=scheme, adaptive=adaptive)
    for s in snaps:
        assert s.x[0] == 2.0 + math.sin(s.t)
    # constant g: the free dofs see the prescribed value
    g = 3.0
    toy = Toy(A, x0=[0.0, 5.0, 0.0], fixed=[0], values=[g])
    last, snaps, _ = _final(toy, t_end=1.0, dt=0.05, scheme="bdf1", adaptive=False)
    y1 = 5.0
    for s in snaps:
        y1 = (y1 + k * s.dt * g) / (1 + k * s.dt)
        assert s.x[0] == g
        assert s.x[1] == pytest.approx(y1, rel=1e-12)
    assert last.x[1] == pytest.approx(g + 2.0 * math.exp(-k), rel=0.02)
    assert last.x[2] == pytest.approx(g / k * (1 - math.exp(-k)), rel=0.03)
