"""``linear = "auto"``: the cost model's decisions (issue 16) and its fill
estimate against SuperLU's actual factors (not timed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import scipy.sparse as sp

import femflux
from femflux.linalg import LinearSolver
from femflux.linalg.cost import MAX_FILL, solve_cost
from femflux.linalg.direct import _Direct


def pnp(dim: int) -> LinearSolver:
    """The solver of a PNP model: c+, c- and phi blocked per node."""
    return LinearSolver("auto", dim, symmetric=False, blocks=(None, 3))


@pytest.mark.parametrize("dim, n, nnz, expected", [
    (2, 15_453, 187_557, "direct"),  # PNP-BENCH 2D 1e4 cells
    # 1e5 cells: SuperLU within 3x of the Schur-split GMRES by the model (a
    # steady run measured 3x faster by the split, a transient one 1.75x slower)
    (2, 151_209, 1_855_401, "direct"),
    (2, 362_592, 4_435_628, "iterative"),  # the conical nanopore at 10x density
    (2, 1_504_503, 18_500_000, "iterative"),  # 1e6 cells: never SuperLU (issue 16)
    (3, 7_623, 173_187, "direct"),  # 3D 1e4 tets
    (3, 71_415, 1_730_835, "iterative"),  # 3D 1e5 tets
    (1, 2_000_000, 10_000_000, "direct"),  # 1D: no fill
])
def test_auto_picks_by_cost(dim, n, nnz, expected):
    assert pnp(dim).choose(n, nnz) == expected
    assert pnp(dim).choose(n) == expected  # the entries estimated


def test_auto_weighs_coupling_and_symmetry():
    # a scalar 2D diffusion system of 5e5 unknowns (1e6 triangles) goes to AMG-CG
    assert LinearSolver("auto", 2, symmetric=True).choose(502_681) == "iterative"
    assert LinearSolver("auto", 2, symmetric=True).choose(90_601) == "direct"
    # 3 unknowns per node: a third of the nodes, three times the entries per
    # row; SuperLU gains on AMG and the 3D limit grows with the coupling
    one = solve_cost(20_000, 3, 1)
    three = solve_cost(20_000, 3, 3)
    assert three.direct_s / three.iterative_s < 0.5 * one.direct_s / one.iterative_s
    assert one.method == "iterative" and three.method == "direct"
    # a 2D system whose factors would not fit goes iterative whatever the times
    huge = solve_cost(3_000_000, 2, 1, symmetric=True)
    assert huge.fill > MAX_FILL and huge.method == "iterative"
    # an explicit choice is kept
    assert LinearSolver("direct", 2).choose(10**7) == "direct"
    assert LinearSolver("iterative", 1).choose(100) == "iterative"


class _Captured(Exception):
    pass


def _pnp_jacobian(cells, monkeypatch) -> sp.csr_matrix:
    """Newton's first (scaled) Jacobian of PNP-BENCH on a generated mesh."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_pnp import case_dict

    seen = {}

    def grab(self, A, b, reuse_key=None, rtol=1e-9):
        seen["A"] = A
        raise _Captured

    monkeypatch.setattr(LinearSolver, "solve", grab)
    shape = "rectangle" if len(cells) == 2 else "box"
    with pytest.raises(_Captured):
        femflux.solve(femflux.load_case(case_dict(shape, cells)))
    monkeypatch.undo()
    return seen["A"]


@pytest.mark.parametrize("cells", [((70, 35), (200, 100)), ((14, 7, 7), (26, 13, 13))])
def test_fill_estimate_matches_superlu(cells, monkeypatch):
    """The model's LU entries within 35 % of SuperLU's own factors of PNP
    Jacobians (3 unknowns per node, the ordering the solver uses), and their
    growth with n within 20 %: a wrong exponent of m (1.0 or 1.5 in 2D, 1.33
    or 2 in 3D) fails."""
    measured, predicted = [], []
    for c in cells:
        A = _pnp_jacobian(c, monkeypatch)
        lu = _Direct(A).lu
        measured.append(lu.L.nnz + lu.U.nnz)
        predicted.append(solve_cost(A.shape[0], len(c), 3, A.nnz).fill)
    for m, p in zip(measured, predicted, strict=True):
        assert p == pytest.approx(m, rel=0.35)
    growth = (predicted[1] / predicted[0]) / (measured[1] / measured[0])
    assert growth == pytest.approx(1.0, rel=0.2)


def test_a_failed_krylov_solve_hands_over_to_superlu_for_good(monkeypatch):
    """After one failed AMG-Krylov solve, SuperLU solves that one and the
    next matrices (no more failing Krylov runs, each up to 270 iterations)."""
    import numpy as np

    from femflux.errors import NewtonFailure
    from femflux.linalg.amg import _AlgebraicMultigrid

    n = 400
    A = sp.diags([-np.ones(n - 1), 2.5 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsr()
    b = np.linspace(1.0, 2.0, n)
    attempts = []

    def failing(self, rhs, rtol=1e-9):
        attempts.append(rtol)
        raise NewtonFailure("the AMG Krylov solve did not converge")

    monkeypatch.setattr(_AlgebraicMultigrid, "solve", failing)
    solver = LinearSolver("iterative", 2, symmetric=True)
    for k in (1.0, 2.0, 3.0):
        x = solver.solve(k * A, b)
        assert np.linalg.norm(k * A @ x - b) < 1e-12 * np.linalg.norm(b)
    assert len(attempts) == 1 and solver.fell_back
