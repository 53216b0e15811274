"""Region solubilities (SPEC 6: `[[region]] solubility = { law, K }`):
c = K sqrt(p) (Sieverts) or c = K p (Henry), p continuous at interfaces,
mass conserved.  References: the equilibrium of a closed two-layer box
(closed form), steady permeation through a Sieverts-Henry bilayer (flux
continuity solved with brentq), finite differences of the Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error, write_line_mesh
from scipy.optimize import brentq

import femflux
from femflux.simulation import prepare

L = 1e-3  # m, each layer
K_A, K_B = 2.0, 0.05  # Sieverts mol/(m^3 Pa^0.5); B: the same or Henry mol/(m^3 Pa)


def bilayer(path, law_b, steady=False, left=None, right=None, cells=20, f=1.0, **solver):
    write_line_mesh(path, [("A", L, cells), ("B", L, cells)])
    boundary = []
    if left is not None:
        boundary.append({"name": "left", "concentration": {"H": left * f}})
    if right is not None:
        boundary.append({"name": "right", "concentration": {"H": right * f}})
    return femflux.load_case({
        "mesh": {"file": str(path)}, "model": {"kind": "diffusion"},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 0.0}],
        "region": [{"name": "A", "solubility": {"law": "sieverts", "K": K_A * f},
                    "initial": {"H": 0.0 if steady else f}},
                   {"name": "B", "solubility": {"law": law_b, "K": K_B * f},
                    "diffusivity": {"H": 3e-9}}],
        "boundary": boundary,
        "solver": dict({"steady": steady, "t_end": 5e4, "dt": 1.0}, **solver),
    })


@pytest.mark.parametrize("law_b", ["sieverts", "henry"])
def test_closed_bilayer_settles_at_one_pressure_and_keeps_its_amount(tmp_path, law_b):
    """Layer A starts at c = 1, B empty: at equilibrium both at one p with
    c_A L + c_B L = 1 mol/m^3 x L; Sieverts-Sieverts c_B/c_A = K_B/K_A."""
    result = femflux.solve(bilayer(tmp_path / "m.msh", law_b))
    amount = result.summary["regions"]
    c_A, c_B = amount["A"]["amount"]["H"] / L, amount["B"]["amount"]["H"] / L
    steady = bilayer(tmp_path / "s.msh", law_b)
    steady.solver.steady = True  # the closed steady state with the initial amount
    amount = femflux.solve(steady).summary["regions"]
    assert amount["A"]["amount"]["H"] / L == pytest.approx(c_A, rel=1e-6)
    assert amount["B"]["amount"]["H"] / L == pytest.approx(c_B, rel=1e-6)
    assert c_A + c_B == pytest.approx(1.0, rel=1e-10)
    if law_b == "sieverts":
        assert c_B / c_A == pytest.approx(K_B / K_A, rel=1e-6)
        p = (1.0 / (1.0 + K_B / K_A) / K_A) ** 2
    else:  # c_A + K_B (c_A/K_A)^2 = 1
        a = K_B / K_A**2
        p = ((-1.0 + np.sqrt(1.0 + 4.0 * a)) / (2.0 * a) / K_A) ** 2
        assert c_B == pytest.approx(K_B * p, rel=1e-6)
    assert (c_A / K_A) ** 2 == pytest.approx(p, rel=1e-6)


def test_steady_permeation_through_a_sieverts_henry_bilayer(tmp_path):
    """c = 1 at A's face, 0 at B's: D_A (1 - c_Ai)/L = D_B c_Bi/L with
    c_Bi = K_B (c_Ai/K_A)^2 (the linear profiles are exact for P1)."""
    result = femflux.solve(bilayer(tmp_path / "m.msh", "henry", steady=True, left=1.0,
                                   right=0.0))
    c_Ai = brentq(lambda c: 1e-9 * (1.0 - c) - 3e-9 * K_B * (c / K_A) ** 2, 0.0, 1.0)
    flux = 1e-9 * (1.0 - c_Ai) / L
    assert result.summary["boundaries"]["right"]["flux"]["H"] == pytest.approx(flux, rel=1e-8)
    assert result.summary["boundaries"]["left"]["flux"]["H"] == pytest.approx(-flux, rel=1e-8)
    amounts = result.summary["regions"]
    assert amounts["A"]["amount"]["H"] == pytest.approx((1.0 + c_Ai) / 2 * L, rel=1e-8)
    c_Bi = K_B * (c_Ai / K_A) ** 2
    assert amounts["B"]["amount"]["H"] == pytest.approx(c_Bi / 2 * L, rel=1e-8)


def test_sieverts_henry_in_atoms_per_m3_takes_the_same_steps(tmp_path):
    """Concentrations and K x 1e24 (the same pressures): the same steps and
    Newton iterations, amounts x 1e24."""
    runs = [femflux.solve(bilayer(tmp_path / f"m{f}.msh", "henry", left=1.0, f=f,
                                  t_end=2e3)).summary for f in (1.0, 1e24)]
    assert (runs[1]["steps"], runs[1]["newton_iterations"]) \
        == (runs[0]["steps"], runs[0]["newton_iterations"])
    assert runs[1]["regions"]["B"]["amount"]["H"] == pytest.approx(
        1e24 * runs[0]["regions"]["B"]["amount"]["H"], rel=1e-6)


def test_sieverts_henry_jacobian_matches_finite_differences(tmp_path):
    _, model = prepare(bilayer(tmp_path / "m.msh", "henry", left=1.0, cells=4))
    rng = np.random.default_rng(1)
    x = model.initial_state() + 0.3 * model.x_scale * rng.random(model.n)
    assert model.ties.mixed is not None and len(model.ties.mixed[0]) == 1
    assert jacobian_error(model, x) < 1e-6


def test_inconsistent_start_at_the_interface_keeps_the_amount(tmp_path):
    """A full, B empty: the interface node starts at the pressure that keeps
    its amount (the tie holds at t = 0); refined and with a tight time
    tolerance the run still converges."""
    _, model = prepare(bilayer(tmp_path / "m.msh", "henry"))
    x = model.initial_state()
    _, h, s, q = model.ties.mixed
    assert x[h] == pytest.approx(q * x[s] ** 2, rel=1e-12)
    result = femflux.solve(bilayer(tmp_path / "f.msh", "henry", cells=200, time_rtol=1e-5,
                                   t_end=1e3))
    assert result.summary["converged"]


@pytest.mark.parametrize("region_b, message", [
    ({"name": "B"}, "region 'B': solubility of species 'H' is required"),
    ({"name": "B", "solubility": {"law": "raoult", "K": 1.0}}, "law"),
    ({"name": "B", "solubility": {"law": "henry", "K": 0.0}}, "must be > 0"),
    ({"name": "B", "solubility": {"law": "henry", "K": 1.0}, "activity_coefficient": {"H": 2.0}},
     "cannot combine"),
])
def test_bad_solubility_is_named(tmp_path, region_b, message):
    write_line_mesh(tmp_path / "m.msh", [("A", L, 4), ("B", L, 4)])
    data = {"mesh": {"file": str(tmp_path / "m.msh")}, "model": {"kind": "diffusion"},
            "species": [{"name": "H", "diffusivity": 1e-9}],
            "region": [{"name": "A", "solubility": {"law": "sieverts", "K": 1.0}}, region_b],
            "solver": {"steady": False}}
    with pytest.raises(femflux.CaseError, match=message):
        femflux.solve(femflux.load_case(data))


def _graded(steady, boundary, cells=200):
    """A 1 mm slab whose activity coefficient grows as exp(x/L) (its solubility
    falls): hydrogen drifts down the solubility gradient."""
    return femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "activity_coefficient": "exp(x/1e-3)"}],
        "boundary": boundary,
        "solver": {"steady": steady, "t_end": 1e4, "dt": 1.0},
    })


def test_graded_activity_coefficient_closed_slab_settles_at_a_uniform_activity():
    """Closed: gamma c uniform at the end, so c = exp(-x/L)/<exp(-x/L)>
    (amount 1 mol/m^3 x L kept)."""
    result = femflux.solve(_graded(False, []))
    x = result.mesh.mesh.p[0]
    mean = (1.0 - np.exp(-1.0))  # <exp(-x/L)> over [0, L]
    assert result.fields["H"] == pytest.approx(np.exp(-x / L) / mean, rel=1e-4)
    assert result.summary["regions"]["domain"]["amount"]["H"] == pytest.approx(L, rel=1e-10)


def test_graded_activity_coefficient_steady_flux():
    """c = 1 at x = 0, 0 at x = L: J = -(D/gamma) d(gamma c)/dx is uniform, so
    J = gamma(0) c(0) / int_0^L gamma/D dx = D/(L (e - 1))."""
    result = femflux.solve(_graded(True, [{"name": "xmin", "concentration": {"H": 1.0}},
                                          {"name": "xmax", "concentration": {"H": 0.0}}]))
    assert result.summary["boundaries"]["xmax"]["flux"]["H"] == pytest.approx(
        1e-9 / (L * (np.e - 1.0)), rel=1e-4)


def test_graded_activity_coefficient_must_be_positive():
    with pytest.raises(femflux.CaseError, match="must be > 0"):
        femflux.solve(femflux.load_case({
            "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [4]}},
            "model": {"kind": "diffusion"},
            "species": [{"name": "H", "diffusivity": 1e-9, "activity_coefficient": "x - 1e-4"}],
            "solver": {"steady": False}}))
