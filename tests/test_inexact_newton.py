"""Inexact Newton's forcing safeguard (femflux/solver/forcing.py): the
conical nanopore of cases/ at +2 V with ``linear = "iterative"`` (before:
Newton stalled at residual 2e-2 and pseudo-transient continuation took
2,419 Newton iterations) against the SuperLU run, and the rule itself on a
linear system against an exact solve."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import femflux
from femflux.linalg import gmres
from femflux.solver.forcing import LOOSE, TIGHT, Forcing

ROOT = Path(__file__).resolve().parents[1]


def _cone(linear: str, volts: float) -> dict:
    with open(ROOT / "cases" / "conical_nanopore.toml", "rb") as f:
        data = tomllib.load(f)
    data.pop("sweep")
    data["mesh"]["file"] = str(ROOT / "meshes" / "conical_nanopore.msh")
    data["solver"]["linear"] = linear
    [top] = [b for b in data["boundary"] if b["name"] == "top"]
    top["potential"] = volts
    return femflux.solve(femflux.load_case(data)).summary


def test_conical_nanopore_iterative_converges_like_superlu():
    direct = _cone("direct", 2.0)
    iterative = _cone("iterative", 2.0)
    assert iterative["converged"] and iterative["continuation_steps"] == 0
    assert not any("pseudo-transient" in m for m in iterative["solver_messages"])
    # measured: 8 and 8 (main before the safeguard: a stall, then 2,419)
    assert iterative["newton_iterations"] <= 1.5 * direct["newton_iterations"]
    assert direct["newton_iterations"] <= 10
    current = iterative["boundaries"]["bottom"]["current"]
    assert current == pytest.approx(direct["boundaries"]["bottom"]["current"], rel=1e-6)
    assert current == pytest.approx(0.80e-9, rel=1e-2)  # README: 0.80 nA at +2 V


def _system(n=400, seed=1):
    """A non-symmetric, badly scaled tridiagonal system and its exact solution."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-3, 0, n)
    A = sp.diags([-np.ones(n - 1), 2.05 * np.ones(n), -0.9 * np.ones(n - 1)], [-1, 0, 1])
    A = sp.csr_matrix(sp.diags(scale) @ A)
    b = rng.standard_normal(n)
    return A, b, spla.spsolve(A.tocsc(), b)


def _krylov(A):
    """GMRES with a Jacobi preconditioner: (rhs, rtol) -> solution."""
    inv_diag = 1.0 / A.diagonal()
    return lambda rhs, rtol: gmres(A, rhs, lambda v: inv_diag * v, rtol, maxiter=400,
                                   give_up=False)


def _relative_residual(A, b, y):
    return np.linalg.norm(b - A @ y) / np.linalg.norm(b)


def test_growth_rule_continues_a_longer_inexact_correction():
    A, b, exact = _system()
    solve = _krylov(A)
    forcing = Forcing()
    eta = forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    assert eta == LOOSE
    y = solve(b, eta)
    assert _relative_residual(A, b, y) <= eta
    loose_error = np.linalg.norm(y - exact) / np.linalg.norm(exact)
    # the first correction: nothing to compare with, kept as it is
    assert forcing.checked(A, b, y, True, solve) is y
    # a longer one than the last: continued to eta / 100, the cap follows
    forcing.last = 0.5 * np.linalg.norm(y)
    refined = forcing.checked(A, b, y, True, solve)
    assert _relative_residual(A, b, refined) <= 1e-2 * eta
    assert np.linalg.norm(refined - exact) / np.linalg.norm(exact) < 0.1 * loose_error
    assert forcing.cap == pytest.approx(1e-2 * eta) and forcing.eta == forcing.cap
    assert forcing.term(r=0.5, r0=1.0, goal=1e-10, linear=False) == forcing.cap
    # a direct (exact) correction is never re-solved
    direct = Forcing(last=1e-3 * np.linalg.norm(exact))
    direct.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    assert direct.checked(A, b, exact, False, solve) is exact and direct.cap == LOOSE


def test_stall_rule_and_floor():
    forcing = Forcing()
    forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    forcing.inexact = True
    forcing.stepped(1.0)
    assert forcing.cap == LOOSE  # full steps: loose
    forcing.stepped(0.5)
    assert forcing.cap == pytest.approx(1e-2 * LOOSE)
    for _ in range(5):
        forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
        forcing.inexact = True
        forcing.stepped(0.25)
    assert forcing.cap == TIGHT
    # a linear system asks for the goal, whatever the cap
    assert forcing.term(r=1.0, r0=1.0, goal=1e-3, linear=True) == pytest.approx(5e-4)
