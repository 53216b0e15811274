"""time_rtol is the accuracy at t_end (README, Numerics: time stepping).

Adaptive BDF2 on three problems with closed forms, each on a 1D mesh whose
spatial error is far below the tolerance (measured against a run with
time_rtol = 1e-6 on the same mesh: < 1.2e-5 relative): the relative error
at t_end is at most 3 time_rtol at time_rtol = 1e-3 and 1e-4.  With the
former purely local control the first-order decay was 49 and 112 time_rtol
off (its steps' relative errors add up undamped), so that test fails a
controller that does not bound the accumulated error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_case

from femflux import solve

D = 1e-9


def _amount(result) -> float:
    return result.summary["regions"]["domain"]["amount"]["A"]


def _release_fraction(tau: float) -> float:
    """F = 1 - sum_n 8/((2n+1)^2 pi^2) exp(-(2n+1)^2 pi^2 tau), tau = D t / L^2."""
    n = np.arange(200)
    k = (2 * n + 1) ** 2 * np.pi**2
    return float(1 - np.sum(8 / k * np.exp(-k * tau)))


@pytest.mark.parametrize("rtol", [1e-3, 1e-4])
def test_erfc_amount_at_t_end(rtol):
    """c = 1 at x = 0 into a semi-infinite medium (12 diffusion lengths):
    the amount taken up is 2 sqrt(D t / pi)."""
    t_end = 10.0
    length = 12 * math.sqrt(D * t_end)
    case = make_case(
        mesh={"generate": {"shape": "interval", "length": [length], "cells": [2000]}},
        species=[{"name": "A", "diffusivity": D, "initial": 0.0}],
        boundary=[{"name": "xmin", "concentration": {"A": 1.0}}],
        solver={"steady": False, "t_end": t_end, "dt": 1e-4, "time_rtol": rtol})
    exact = 2 * math.sqrt(D * t_end / math.pi)
    assert abs(_amount(solve(case)) / exact - 1) <= 3 * rtol


@pytest.mark.parametrize("rtol", [1e-3, 1e-4])
def test_first_order_decay_at_t_end(rtol):
    """A => B at k = 1.5 /s, uniform, to t = 4 s (A falls 400x): A = exp(-k t)."""
    k, t_end = 1.5, 4.0
    case = make_case(
        mesh={"generate": {"shape": "interval", "length": [1.0], "cells": [2]}},
        species=[{"name": "A", "diffusivity": D, "initial": 1.0},
                 {"name": "B", "diffusivity": D, "initial": 0.0}],
        reaction=[{"equation": "A => B", "forward": k}],
        solver={"steady": False, "t_end": t_end, "dt": 1e-3, "time_rtol": rtol})
    assert abs(_amount(solve(case)) / math.exp(-k * t_end) - 1) <= 3 * rtol


@pytest.mark.parametrize("rtol", [1e-3, 1e-4])
def test_release_fraction_at_t_end(rtol):
    """A slab of 1 mm, uniform c = 1, c = 0 on both faces from t = 0: the
    released fraction at D t / L^2 = 0.1 (F = 0.698)."""
    length, tau = 1e-3, 0.1
    t_end = tau * length**2 / D
    case = make_case(
        mesh={"generate": {"shape": "interval", "length": [length], "cells": [400]}},
        species=[{"name": "A", "diffusivity": D, "initial": 1.0}],
        boundary=[{"name": "xmin", "concentration": {"A": 0.0}},
                  {"name": "xmax", "concentration": {"A": 0.0}}],
        solver={"steady": False, "t_end": t_end, "dt": 1e-3 * t_end, "time_rtol": rtol})
    released = 1 - _amount(solve(case)) / length
    assert abs(released / _release_fraction(tau) - 1) <= 3 * rtol
