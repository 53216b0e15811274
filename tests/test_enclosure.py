"""`[[enclosure]]` (SPEC 6): a gas volume emptying through a membrane, its
pressure an unknown with V/(R T_g) dp/dt = -(1/2) int (K_d p - K_r c^2) dA.
Reference: an independent method-of-lines solve (finite volumes, 400 cells,
scipy solve_ivp) of the same lumped gas + membrane model; the hydrogen
balance gas + dissolved + permeated."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.constants import R
from scipy.integrate import solve_ivp

import femflux
from femflux.results.history import unit

L, D, KD, KR, V, TG, P0 = 1e-4, 1e-9, 1e-8, 1e-6, 1e-3, 300.0, 1e3
T_END = 2e4


def chamber_case(cells=50, **changes) -> dict:
    data = {
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": "diffusion", "temperature": 600.0},
        "species": [{"name": "H", "diffusivity": D, "initial": 0.0}],
        "enclosure": [{"name": "chamber", "volume": V, "temperature": TG, "pressure": P0,
                       "boundaries": ["xmin"]}],
        "boundary": [{"name": "xmin", "surface_kinetics": {"dissociation": KD,
                                                           "recombination": KR}},
                     {"name": "xmax", "concentration": {"H": 0.0}}],
        "solver": {"steady": False, "t_end": T_END, "dt": 1.0, "time_rtol": 1e-4},
    }
    data.update(changes)
    return data


def _method_of_lines(times, n=400):
    """c at n + 1 nodes (finite volumes, half cells at the ends) and p."""
    h = L / n
    lap = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n + 1, n + 1)).tolil()
    lap[0, :2] = [-1.0, 1.0]  # the wall's half cell: only the flux to node 1
    lap = (D / h**2 * lap).tocsr()
    volume = np.full(n + 1, 1.0)
    volume[0] = 0.5

    def rhs(_, y):
        c, p = y[:-1].copy(), y[-1]
        c[-1] = 0.0
        inflow = KD * p - KR * c[0] ** 2
        dc = lap @ c / volume
        dc[0] += inflow / (0.5 * h)
        dc[-1] = 0.0
        return np.concatenate([dc, [-0.5 * inflow * R * TG / V]])

    y0 = np.zeros(n + 2)
    y0[-1] = P0
    pattern = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n + 2, n + 2)).tolil()
    pattern[0, n + 1] = pattern[n + 1, 0] = 1
    sol = solve_ivp(rhs, (0.0, times[-1]), y0, method="BDF", t_eval=times, rtol=1e-8,
                    jac_sparsity=pattern.tocsr(),
                    atol=np.concatenate([np.full(n + 1, 1e-10), [1e-6]]))
    return sol.y[-1]


def test_enclosure_empties_like_the_method_of_lines_solve():
    result = femflux.solve(femflux.load_case(chamber_case()))
    h = result.history
    t, p = np.asarray(h["t"]), np.asarray(h["boundaries.xmin.enclosure_pressure"])
    times = np.array([50.0, 500.0, 2000.0, 5000.0, 8000.0])
    reference = _method_of_lines(times)
    assert np.interp(times, t, p) == pytest.approx(reference, rel=5e-3, abs=1e-4 * P0)
    assert p[-1] < 1e-3 * P0  # emptied
    # hydrogen balance: 2 x gas + dissolved + permeated = 2 x initial gas (mol/m^2)
    flux_out = np.asarray(h["boundaries.xmax.flux.H"])
    permeated = np.sum(0.5 * (flux_out[1:] + flux_out[:-1]) * np.diff(t))
    dissolved = result.summary["regions"]["domain"]["amount"]["H"]
    gas = p[-1] * V / (R * TG)
    assert 2 * gas + dissolved + permeated == pytest.approx(2 * P0 * V / (R * TG), rel=2e-3)
    assert result.summary["boundaries"]["xmin"]["enclosure_pressure"] == pytest.approx(p[-1])
    # the enclosure's own columns: pressure as at its wall, amount p V/(R T_g)
    assert np.array_equal(np.asarray(h["enclosures.chamber.pressure"]), p)
    amount = np.asarray(h["enclosures.chamber.amount"])
    assert amount == pytest.approx(p * V / (R * TG), rel=1e-12)
    assert result.summary["enclosures"]["chamber"] == pytest.approx(
        {"pressure": p[-1], "amount": amount[-1]}, rel=1e-12)
    assert (unit("enclosures.chamber.pressure"), unit("enclosures.chamber.amount")) == \
        ("Pa", "mol")
    # d(amount)/dt = -(1/2) x the inward wall flux = (1/2) x the outward one
    wall = np.asarray(h["boundaries.xmin.flux.H"])
    lost = 0.5 * np.cumsum(0.5 * (wall[1:] + wall[:-1]) * np.diff(t))
    assert amount[1:] - amount[0] == pytest.approx(lost, abs=1e-3 * amount[0])


def test_a_wall_may_name_the_enclosure_as_its_pressure():
    """surface_kinetics.pressure = "chamber" joins the enclosure's walls."""
    data = chamber_case()
    data["enclosure"][0]["boundaries"] = []
    data["boundary"][0]["surface_kinetics"]["pressure"] = "chamber"
    data["solver"]["t_end"] = 200.0
    by_name = femflux.solve(femflux.load_case(data)).history
    listed = femflux.solve(femflux.load_case(chamber_case(
        solver={"steady": False, "t_end": 200.0, "dt": 1.0, "time_rtol": 1e-4}))).history
    assert by_name["boundaries.xmin.enclosure_pressure"][-1] == pytest.approx(
        listed["boundaries.xmin.enclosure_pressure"][-1], rel=1e-12)


@pytest.mark.parametrize("change, message", [
    ({"enclosure": [{"name": "chamber", "volume": V, "temperature": TG, "pressure": P0,
                     "boundaries": ["xmax"]}]}, "'xmax' needs a \\[\\[boundary\\]\\] entry with"),
    ({"enclosure": [{"name": "chamber", "volume": 0.0, "temperature": TG, "pressure": P0,
                     "boundaries": ["xmin"]}]}, "volume"),
    ({"solver": {"steady": True}}, "needs a transient run"),
])
def test_bad_enclosures_are_named(change, message):
    with pytest.raises(femflux.CaseError, match=message):
        femflux.solve(femflux.load_case(chamber_case(**change)))


def test_enclosure_jacobian_matches_finite_differences():
    from conftest import jacobian_error

    from femflux.simulation import prepare

    _, model = prepare(femflux.load_case(chamber_case(cells=4)))
    rng = np.random.default_rng(2)
    x = model.initial_state() + model.x_scale * rng.random(model.n)
    assert jacobian_error(model, x) < 1e-6
