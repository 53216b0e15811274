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


def _diagonal(n=100):
    """A y = b whose solution is dominated by the mode of a tiny eigenvalue
    (1e-6) that b barely excites: a small residual, a large error."""
    d = np.ones(n)
    d[0] = 1e-6
    b = np.ones(n)
    b[0] = 3e-3
    return sp.csr_matrix(sp.diags(d)), b, b / d


def _tridiagonal(n=200):
    """A diagonally dominant system: a small residual, a small error."""
    A = sp.csr_matrix(sp.diags([-1.1 * np.ones(n - 1), 4.0 * np.ones(n), -0.9 * np.ones(n - 1)],
                               [-1, 0, 1]))
    b = np.random.default_rng(1).standard_normal(n)
    return A, b, spla.spsolve(A.tocsc(), b)


def _krylov(A):
    """Unpreconditioned GMRES: (rhs, rtol) -> solution."""
    return lambda rhs, rtol: gmres(A, rhs, lambda v: v, rtol, maxiter=A.shape[0],
                                   give_up=False)


def _relative(A, b, y, exact):
    """(relative residual, relative error) of y."""
    return (np.linalg.norm(b - A @ y) / np.linalg.norm(b),
            np.linalg.norm(y - exact) / np.linalg.norm(exact))


@pytest.mark.parametrize("system, trusted", [(_diagonal, False), (_tridiagonal, True)])
def test_growth_rule_continues_a_longer_inexact_correction(system, trusted):
    A, b, exact = system()
    solve = _krylov(A)
    forcing = Forcing()
    eta = forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    assert eta == LOOSE
    y = solve(b, eta)
    residual, error = _relative(A, b, y, exact)
    assert residual <= eta
    assert (error < 0.05) if trusted else (error > 0.5)
    # the first correction: nothing to compare with, kept as it is
    assert forcing.checked(A, b, y, True, solve) is y
    # a longer one than the last: continued to eta / 100; eta_max follows
    # only when that moved it by more than TRUST of its length
    forcing.last = 0.5 * np.linalg.norm(y)
    refined = forcing.checked(A, b, y, True, solve)
    residual, refined_error = _relative(A, b, refined, exact)
    assert residual <= 1e-2 * eta and refined_error < 0.1 * error
    assert forcing.eta == pytest.approx(1e-2 * eta)
    assert forcing.cap == (LOOSE if trusted else pytest.approx(1e-2 * eta))
    # a shorter one is kept
    shorter = forcing.checked(A, b, 0.9 * refined, True, solve)
    assert np.array_equal(shorter, 0.9 * refined)
    # a direct (exact) correction is never re-solved, whatever its length
    direct = Forcing(last=1e-3 * np.linalg.norm(exact))
    direct.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    assert direct.checked(A, b, exact, False, solve) is exact and direct.cap == LOOSE


def test_stall_rule_and_floor():
    A, b, exact = _diagonal()
    solve = _krylov(A)
    forcing = Forcing(cap=1e-5)
    assert forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False) == 1e-5
    forcing.checked(A, b, solve(b, 1e-5), True, solve)
    forcing.stepped(1.0)
    assert not forcing.doubt  # a full step: no doubt
    forcing.stepped(0.5)
    assert forcing.doubt  # a shortened inexact step: the next correction is checked
    forcing.term(r=1.0, r0=1.0, goal=1e-10, linear=False)
    shorter = solve(b, 1e-5)
    shorter[0] *= 1e-3  # off along the tiny mode, shorter than the last
    assert np.linalg.norm(shorter) < forcing.last
    checked = forcing.checked(A, b, shorter, True, solve)
    assert _relative(A, b, checked, exact)[1] < 1e-3
    assert forcing.cap == TIGHT and not forcing.doubt  # never tighter than TIGHT
    # a linear system asks for the goal, whatever the cap
    assert forcing.term(r=1.0, r0=1.0, goal=1e-3, linear=True) == pytest.approx(5e-4)
