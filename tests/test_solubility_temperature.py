"""Arrhenius region solubilities under a temperature program (SPEC 6:
`solubility = { law, K = { pre, energy } }` with `[model] temperature` an
expression of t): c/K(T(t)) stays continuous at every interface (p
continuous) while T changes, and mass is conserved.  References: the
equilibrium of a closed two-layer box at the final temperature of a ramp and
hold (closed forms), finite differences of the Jacobian at a temperature
away from T(0)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error, write_line_mesh

import femflux
from femflux.physics.constants import GAS_CONSTANT
from femflux.simulation import prepare

L = 1e-3  # m, each layer
E_A, E_B = 20e3, 50e3  # J/mol
PRE_A, PRE_B = 1.0, 4054.0  # K_B/K_A: 0.024 at 300 K, 0.5 at 400 K
RAMP = "300 + 100*min(t/1000, 1)"  # K: 300 -> 400 K in 1000 s, then held


def K(pre, energy, T):
    return pre * np.exp(-energy / (GAS_CONSTANT * T))


def bilayer(path, law_b, energy_b=E_B, pre_b=PRE_B, temperature=RAMP, cells=20, **solver):
    write_line_mesh(path, [("A", L, cells), ("B", L, cells)])
    return femflux.load_case({
        "mesh": {"file": str(path)},
        "model": {"kind": "diffusion", "temperature": temperature},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 0.0}],
        "region": [{"name": "A", "solubility": {"law": "sieverts",
                                                "K": {"pre": PRE_A, "energy": E_A}},
                    "initial": {"H": 1.0}},
                   {"name": "B", "solubility": {"law": law_b,
                                                "K": {"pre": pre_b, "energy": energy_b}},
                    "diffusivity": {"H": 3e-9}}],
        "solver": dict({"steady": False, "t_end": 2e4, "dt": 1.0}, **solver),
    })


def _amounts(result):
    regions = result.summary["regions"]
    return regions["A"]["amount"]["H"] / L, regions["B"]["amount"]["H"] / L


def test_sieverts_layers_of_different_energies_follow_the_ramp(tmp_path):
    """Closed, A full and B empty, heated 300 -> 400 K: at the end
    c_B/c_A = K_B(400 K)/K_A(400 K) (0.5; 0.024 at 300 K), c_A + c_B = 1 at
    every step."""
    result = femflux.solve(bilayer(tmp_path / "m.msh", "sieverts"))
    c_A, c_B = _amounts(result)
    assert c_B / c_A == pytest.approx(K(PRE_B, E_B, 400) / K(PRE_A, E_A, 400), rel=1e-4)
    assert c_A + c_B == pytest.approx(1.0, rel=1e-10)
    history = result.history
    total = np.asarray(history["regions.A.amount.H"]) + np.asarray(history["regions.B.amount.H"])
    assert np.max(np.abs(total / L - 1.0)) < 1e-10


def test_sieverts_henry_layers_follow_the_ramp(tmp_path):
    """A Sieverts, B Henry (K_B in mol/(m^3 Pa)): at 400 K one pressure,
    c_A = K_A sqrt(p), c_B = K_B p, and c_A + c_B = 1."""
    pre_b = 2e-3 / K(1.0, E_B, 400)  # K_B(400 K) = 2e-3
    result = femflux.solve(bilayer(tmp_path / "m.msh", "henry", pre_b=pre_b))
    c_A, c_B = _amounts(result)
    K_A, K_B = K(PRE_A, E_A, 400), K(pre_b, E_B, 400)
    a = K_B / K_A**2  # c_A + a c_A^2 = 1
    expected = (-1.0 + np.sqrt(1.0 + 4.0 * a)) / (2.0 * a)
    assert c_A == pytest.approx(expected, rel=1e-4)
    assert c_B == pytest.approx(K_B * (c_A / K_A) ** 2, rel=1e-4)
    assert c_A + c_B == pytest.approx(1.0, rel=1e-10)


def test_equal_energies_keep_the_ratio_and_one_unknown_per_node(tmp_path):
    """Both layers with E_A: K_B/K_A = PRE_B/PRE_A at every T, no broken dofs."""
    case = bilayer(tmp_path / "m.msh", "sieverts", energy_b=E_A, pre_b=0.25)
    _, model = prepare(case)
    assert model.ties is None
    c_A, c_B = _amounts(femflux.solve(case))
    assert c_B / c_A == pytest.approx(0.25, rel=1e-6)


@pytest.mark.parametrize("law_b", ["sieverts", "henry"])
def test_jacobian_matches_finite_differences_away_from_the_start(tmp_path, law_b):
    _, model = prepare(bilayer(tmp_path / "m.msh", law_b, cells=4))
    rng = np.random.default_rng(3)
    x = model.initial_state() + 0.3 * model.x_scale * rng.random(model.n)
    assert model.ties is not None and model.ties.follows_temperature
    assert jacobian_error(model, x, t=700.0) < 1e-6




# -- under a temperature field T(x, y, z, t): gamma = K_ref(T0)/K(T(x, t)) -----------

def test_steady_permeation_through_a_bilayer_under_a_temperature_gradient(tmp_path):
    """c = 1 at x = 0, 0 at x = 2L, T = 300 -> 600 K across: Fick in each
    layer (c linear, no Soret term), c/K(T) continuous at the interface
    (T_i = 450 K): D_A (1 - c_Ai)/L = D_B c_Bi/L, c_Bi = c_Ai K_B(T_i)/K_A(T_i)."""
    write_line_mesh(tmp_path / "m.msh", [("A", L, 100), ("B", L, 100)])
    T = f"300 + {300 / (2 * L)}*x"
    case = femflux.load_case({
        "mesh": {"file": str(tmp_path / "m.msh")},
        "model": {"kind": "diffusion", "temperature": T},
        "species": [{"name": "H", "diffusivity": 1e-9}],
        "region": [{"name": "A", "solubility": {"law": "sieverts",
                                                "K": {"pre": PRE_A, "energy": E_A}}},
                   {"name": "B", "solubility": {"law": "sieverts",
                                                "K": {"pre": PRE_B, "energy": E_B}},
                    "diffusivity": {"H": 3e-9}}],
        "boundary": [{"name": "left", "concentration": {"H": 1.0}},
                     {"name": "right", "concentration": {"H": 0.0}}],
        "solver": {"steady": True}})
    result = femflux.solve(case)
    ratio = K(PRE_B, E_B, 450.0) / K(PRE_A, E_A, 450.0)
    c_Ai = 1e-9 / (1e-9 + 3e-9 * ratio)
    flux = 1e-9 * (1.0 - c_Ai) / L
    assert result.summary["boundaries"]["right"]["flux"]["H"] == pytest.approx(flux, rel=1e-3)
    x = result.mesh.mesh.p[0]
    c = np.asarray(result.fields["H"])
    inside_A = x < L * (1 - 1e-9)
    np.testing.assert_allclose(c[inside_A], 1.0 - (1.0 - c_Ai) * x[inside_A] / L, atol=2e-3)


def test_closed_slab_under_a_temperature_gradient_stays_uniform(tmp_path):
    """One Sieverts region (E_S = 50 kJ/mol; K varies 2e4-fold between 300
    and 600 K), closed: Fick's law leaves c = 1 everywhere (the mu law
    J = -(D c/RT) grad mu would give c ~ K(T(x)))."""
    write_line_mesh(tmp_path / "m.msh", [("A", L, 40)])
    case = femflux.load_case({
        "mesh": {"file": str(tmp_path / "m.msh")},
        "model": {"kind": "diffusion", "temperature": f"300 + {300 / L}*x"},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0}],
        "region": [{"name": "A", "solubility": {"law": "sieverts",
                                                "K": {"pre": 1.0, "energy": E_B}}}],
        "solver": {"steady": True}})
    c = np.asarray(femflux.solve(case).fields["H"])
    np.testing.assert_allclose(c, 1.0, rtol=1e-3)  # O(h^2): measured 6e-5


def test_a_temperature_field_that_ramps_matches_the_program(tmp_path):
    """T = 300 + 100 min(t/1000, 1) + 1e-9 x (a field, 2e-12 K across): the gamma(x, t)
    path against the ties of the program path (an independent
    implementation): the same end state, mass conserved at every step."""
    program = femflux.solve(bilayer(tmp_path / "p.msh", "sieverts", t_end=5e3))
    field = femflux.solve(bilayer(tmp_path / "f.msh", "sieverts", t_end=5e3,
                                  temperature=RAMP + " + 1e-9*x"))
    for region in ("A", "B"):
        assert field.summary["regions"][region]["amount"]["H"] == pytest.approx(
            program.summary["regions"][region]["amount"]["H"], rel=2e-3)
    history = field.history
    total = np.asarray(history["regions.A.amount.H"]) + np.asarray(history["regions.B.amount.H"])
    assert np.max(np.abs(total / L - 1.0)) < 1e-9


def test_jacobian_under_a_temperature_field(tmp_path):
    _, model = prepare(bilayer(tmp_path / "m.msh", "henry", cells=4,
                               temperature="300 + 1e5*x + t"))
    rng = np.random.default_rng(4)
    x = model.initial_state() + 0.3 * model.x_scale * rng.random(model.n)
    assert jacobian_error(model, x, t=50.0) < 1e-6


def test_case_monoblock():
    """cases/monoblock.toml (W / Cu / CuCrZr under T(x, y), atoms/m^3): at
    every node of the W/Cu and Cu/CuCrZr interfaces c_2/c_1 = K_2(T)/K_1(T)
    at that node's T; the hydrogen held at 1 day equals what entered minus
    what left (history, trapezoid: measured 0.3 %); the coolant flux at half
    its 1-day value after 18 h."""
    from pathlib import Path

    cases = Path(__file__).resolve().parents[1] / "cases"
    case = femflux.load_case(cases / "monoblock.toml")
    result = femflux.solve(case)
    assert result.summary["converged"]
    _, model = prepare(case)
    x = result.state
    side = {name: model.region_point_fields(x, name)["H"] for name in ("W", "Cu", "CuCrZr")}
    p = result.mesh.mesh.p
    T = 373 + 600 * np.log(np.hypot(p[0], p[1]) / 6e-3) / np.log(14 / 6)
    solubility = {"W": (1.87e24, 100.34e3), "Cu": (3.14e24, 55.19e3),
                  "CuCrZr": (4.28e23, 37.34e3)}
    for a, b in (("W", "Cu"), ("Cu", "CuCrZr")):
        both = np.isfinite(side[a]) & np.isfinite(side[b]) & (side[a] > 1e15)
        assert both.sum() > 20
        expected = K(*solubility[b], T[both]) / K(*solubility[a], T[both])
        np.testing.assert_allclose(side[b][both] / side[a][both], expected, rtol=1e-6)
    h = result.history
    t = np.asarray(h["t"])
    outflow = np.asarray(h["boundaries.plasma.flux.H"]) + np.asarray(h["boundaries.coolant.flux.H"])
    held = sum(result.summary["regions"][r]["amount"]["H"] for r in solubility)
    entered = -np.trapezoid(outflow, t)
    assert held == pytest.approx(entered, rel=1e-2)
    coolant = np.asarray(h["boundaries.coolant.flux.H"])
    t_half = t[np.argmax(coolant > 0.5 * coolant[-1])]
    assert 5e4 < t_half < 8e4
