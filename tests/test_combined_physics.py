"""Combined physics (SPEC 6): one species under charge, stress and gravity.

The law's terms add: mu = mu0 + RT ln(gamma c/c_ref) + z F phi - Omega sigma_h
- M g.x, so a closed body at equilibrium holds

    c = c_avg exp(-(z F phi - Omega sigma_h - M g.x)/RT) / <exp(...)>.

References: a bent rod (pure bending, sigma_h = k' x exactly) under a uniform
electric field (phi = V y/L exactly, the ions too dilute to perturb it) gives
a separable closed form; a closed column in gravity is barometric; a uniform
column in gravity sediments at J = D M g c/RT at t = 0.  The Jacobian of the
combined model is checked against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error
from scipy.constants import R, physical_constants

import femflux
from femflux.simulation import prepare, solve
from femflux.solver import consistent_initial_state

FARADAY = physical_constants["Faraday constant"][0]
T = 300.0
RT = R * T
OMEGA = 2.0e-6  # m^3/mol
E, NU = 200e9, 0.3
A_ROD, L_ROD = 1e-3, 4e-3  # half-width (x) and length (y), m
K_BEND = 1e9 / A_ROD  # sigma_yy = k x: +-1 GPa at the faces
V = 0.025  # V across the rod length


def charged_rod(cells=(24, 12), c_avg=1e-18, charge=1, kind="nernst-planck-poisson",
                two_way=False, steady=True):
    """Plane-stress rod bent by end tractions (no displacement condition: the
    rigid-body modes are removed), phi = 0 at y = 0 and V at y = L."""
    data = {
        "mesh": {"generate": {"shape": "rectangle", "length": [2 * A_ROD, L_ROD],
                              "cells": list(cells), "origin": [-A_ROD, 0.0]}},
        "model": {"kind": kind, "temperature": T},
        "species": [{"name": "Li", "charge": charge, "diffusivity": 1e-12, "initial": c_avg,
                     "partial_molar_volume": OMEGA}],
        "electrostatics": {"relative_permittivity": 10.0},
        "elasticity": {"youngs_modulus": E, "poisson_ratio": NU, "plane": "stress",
                       "chemical_expansion": two_way},
        "boundary": [{"name": "ymax", "traction": [0.0, f"{K_BEND}*x"], "potential": V},
                     {"name": "ymin", "traction": [0.0, f"-{K_BEND}*x"], "potential": 0.0}],
        "solver": {"steady": steady, "displacement_degree": 2},
    }
    return femflux.load_case(data)


def test_charged_species_in_a_bent_rod_reaches_the_combined_boltzmann_equilibrium():
    c_avg = 1e-18  # dilute: the ions do not perturb phi = V y / L (F c L^2/eps ~ 2e-8 V)
    result = solve(charged_rod(c_avg=c_avg))
    assert result.summary["converged"]
    p = result.mesh.mesh.p
    x, y = p
    sigma_h = K_BEND * x / 3.0  # plane stress pure bending
    assert np.allclose(result.fields["phi"], V * y / L_ROD, atol=1e-6 * V)
    a = OMEGA * K_BEND / 3.0 / RT  # 1/m: Omega d(sigma_h)/dx / RT
    b = FARADAY * V / L_ROD / RT  # 1/m: F d(phi)/dy / RT
    mean = np.sinh(a * A_ROD) / (a * A_ROD) * (-np.expm1(-b * L_ROD)) / (b * L_ROD)
    exact = c_avg * np.exp(a * x - b * y) / mean
    c = result.fields["Li"]
    interior = (np.abs(x) < A_ROD * (1 - 1e-9)) & (y > 1e-9 * L_ROD) & (y < L_ROD * (1 - 1e-9))
    assert np.allclose(result.fields["sigma_h"][interior], sigma_h[interior],
                       atol=1e-6 * K_BEND * A_ROD)
    # inside, the lumped sigma_h projection is exact for a linear field; on the
    # faces x = +-a it is O(h) off (see the bent-rod test of stress-diffusion)
    assert np.max(np.abs(c[interior] - exact[interior]) / exact[interior]) < 2e-3
    assert np.max(np.abs(c - exact) / exact) < 0.02
    amount = result.summary["regions"]["domain"]["amount"]["Li"]
    assert amount == pytest.approx(c_avg * 2 * A_ROD * L_ROD, rel=1e-8)
    # both terms are in mu: it is uniform at equilibrium
    assert np.ptp(result.fields["mu_Li"]) < 1e-6 * RT
    # the electric term alone would leave the x dependence, the mechanical alone the y one
    assert np.ptp(np.log(c[interior] / exact[interior])) < 4e-3


@pytest.mark.parametrize("kind", ["nernst-planck-poisson", "stress-diffusion"])
def test_both_kinds_compose_the_same_law(kind):
    """[electrostatics] + [elasticity] give the same answer from either preset."""
    result = solve(charged_rod(cells=(8, 6), kind=kind))
    reference = solve(charged_rod(cells=(8, 6)))
    assert np.allclose(result.fields["Li"], reference.fields["Li"], rtol=1e-8)
    assert np.allclose(result.fields["sigma_h"], reference.fields["sigma_h"], rtol=1e-8,
                       atol=1e-6)


def salt_rod(two_way=False, o_plus=1.0e-6, o_minus=5.0e-6, c_avg=100.0, cells=(24, 8)):
    """The bent rod holding a 1:1 salt, electroneutral (no potential reference:
    mean phi = 0)."""
    data = dict(charged_rod(cells=cells, kind="stress-diffusion", two_way=two_way).raw)
    data["species"] = [
        {"name": "Na", "charge": 1, "diffusivity": 1e-12, "initial": c_avg,
         "partial_molar_volume": o_plus},
        {"name": "Cl", "charge": -1, "diffusivity": 2e-12, "initial": c_avg,
         "partial_molar_volume": o_minus}]
    data["electrostatics"] = {"electroneutral": True}
    data["boundary"] = [{"name": "ymax", "traction": [0.0, f"{K_BEND}*x"]},
                        {"name": "ymin", "traction": [0.0, f"-{K_BEND}*x"]}]
    return femflux.load_case(data)


def test_two_way_coupling_of_a_swelling_salt_keeps_every_mu_uniform():
    """Chemical expansion of both ions: the salt drawn to the tensile side
    swells it (two-way), and at the closed
    equilibrium each ion's electrochemo-mechanical potential is uniform, the
    pair stays neutral and F phi - (O+ - O-) sigma_h / 2 is one constant, with
    the solved phi and sigma_h."""
    o_plus, o_minus = 1.0e-6, 5.0e-6
    one_way = solve(salt_rod(c_avg=1000.0, cells=(12, 6)))
    result = solve(salt_rod(two_way=True, c_avg=1000.0, cells=(12, 6)))
    assert result.summary["converged"]
    for name in ("Na", "Cl"):
        assert np.ptp(result.fields[f"mu_{name}"]) < 1e-6 * RT
    assert np.allclose(result.fields["Na"], result.fields["Cl"], rtol=1e-9)
    gap = FARADAY * result.fields["phi"] - (o_plus - o_minus) * result.fields["sigma_h"] / 2
    assert np.ptp(gap) < 1e-6 * RT
    # the swelling (Omega c/3 ~ 2e-3, graded across the rod) moves the rod by
    # a fair part of its elastic bending (sigma/E = 5e-3); a linear
    # eigenstrain is stress-free in a free body, so sigma_h barely changes
    u, u_one = result.fields["u"], one_way.fields["u"]
    assert np.max(np.abs(u - u_one)) > 0.05 * np.max(np.abs(u_one))


def test_combined_jacobian_matches_finite_differences():
    case = charged_rod(cells=(3, 3), c_avg=5.0, two_way=True)
    case.solver.displacement_degree = 1
    _, model = prepare(case)
    rng = np.random.default_rng(0)
    x = consistent_initial_state(model)
    x = x * (1 + 0.1 * rng.standard_normal(model.n)) + 0.01 * model.x_scale \
        * rng.standard_normal(model.n)
    x[model.by_name["Li"].slice] = np.abs(x[model.by_name["Li"].slice]) + 1.0
    assert jacobian_error(model, x) < 1e-5


def test_salt_in_a_bent_electroneutral_rod_moves_as_a_pair_and_sets_up_a_potential():
    """Two ions, electroneutral: c+ = c- = c and both mu uniform give
    c = c_avg exp((O+ + O-) sigma_h/(2RT)) / <.> and
    F phi = (O+ - O-) sigma_h / 2 (mean phi 0: no potential reference)."""
    o_plus, o_minus = 1.0e-6, 5.0e-6
    result = solve(salt_rod(o_plus=o_plus, o_minus=o_minus))
    assert result.summary["converged"]
    x, y = result.mesh.mesh.p
    sigma_h = K_BEND * x / 3.0
    a = (o_plus + o_minus) * K_BEND / 3.0 / (2 * RT)
    exact = 100.0 * np.exp(a * x) / (np.sinh(a * A_ROD) / (a * A_ROD))
    interior = (np.abs(x) < A_ROD * (1 - 1e-9)) & (y > 1e-9 * L_ROD) & (y < L_ROD * (1 - 1e-9))
    for name in ("Na", "Cl"):
        c = result.fields[name]
        assert np.max(np.abs(c[interior] - exact[interior]) / exact[interior]) < 1e-3
    phi = result.fields["phi"]
    expected = (o_plus - o_minus) * sigma_h / (2 * FARADAY)
    assert np.max(np.abs(phi - expected)[interior]) < 1e-3 * np.max(np.abs(expected))


def test_case_polymer_electrolyte_notch():
    """cases/polymer_electrolyte_notch.toml: the salt pair follows
    exp((O_Li + O_TFSI) sigma_h / (2RT)) and F phi - (O_Li - O_TFSI) sigma_h/2
    is uniform, with the solved sigma_h; README's numbers to 1 %."""
    from pathlib import Path

    case = femflux.load_case(Path(__file__).parents[1] / "cases" / "polymer_electrolyte_notch.toml")
    result = solve(case)
    assert result.summary["converged"]
    rt = R * 333.15
    c, anion = result.fields["Li"], result.fields["TFSI"]
    sh, phi = result.fields["sigma_h"], result.fields["phi"]
    assert np.allclose(c, anion, rtol=1e-9)
    assert np.ptp(result.fields["mu_Li"]) < 1e-9 * rt
    low = np.argmin(c)
    pair = np.log(c / c[low]) - (5e-6 + 1.5e-4) * (sh - sh[low]) / (2 * rt)
    assert np.max(np.abs(pair)) < 1e-8
    assert np.ptp(FARADAY * phi - (5e-6 - 1.5e-4) * sh / 2) < 1e-8 * rt
    peak = np.argmax(c)
    assert result.mesh.mesh.p[:, peak] == pytest.approx([5e-3, 0.0], abs=1e-9)  # notch root
    assert c[peak] / 1000.0 == pytest.approx(4.40, rel=1e-2)
    assert sh[peak] == pytest.approx(57.9e6, rel=1e-2)
    assert phi[peak] == pytest.approx(-0.0398, rel=1e-2)


# -- gravity --------------------------------------------------------------------------

H_COL = 0.01  # m
M_HEAVY = 50.0  # kg/mol: a heavy macromolecule (centrifuged at ~1000 g)
G = 9.81e3  # m/s^2


def column(steady=True, cells=40, dim=1, **solver):
    mesh = ({"generate": {"shape": "interval", "length": [H_COL], "cells": [cells]}}
            if dim == 1 else
            {"generate": {"shape": "rectangle", "length": [H_COL / 4, H_COL],
                          "cells": [4, cells]}})
    g = [-G] if dim == 1 else [0.0, -G]
    data = {"mesh": mesh, "model": {"kind": "diffusion", "temperature": T, "gravity": g},
            "species": [{"name": "P", "diffusivity": 1e-10, "initial": 2.0,
                         "molar_mass": M_HEAVY}],
            "solver": dict({"steady": steady}, **solver)}
    return femflux.load_case(data)


@pytest.mark.parametrize("dim", [1, 2])
def test_closed_column_is_barometric(dim):
    """c(z) = c_avg exp(-M g z/RT) / <exp(-M g z/RT)> with g pointing down."""
    result = solve(column(dim=dim))
    z = result.mesh.mesh.p[dim - 1]
    k = M_HEAVY * G / RT  # 1/m
    mean = -np.expm1(-k * H_COL) / (k * H_COL)
    exact = 2.0 * np.exp(-k * z) / mean
    c = result.fields["P"]
    # EAFE is exact for exponentials: the shape to round-off; the amount is
    # kept on the lumped (trapezoidal) quadrature, O((k h)^2 / 12) from the
    # exact integral (2e-4 here)
    ratio = c / exact
    assert np.ptp(ratio) < 1e-9
    assert ratio.mean() == pytest.approx(1.0, abs=5e-4)
    assert np.ptp(result.fields["mu_P"]) < 1e-8 * RT


def test_sedimentation_flux_at_t0():
    """Uniform c: J = D M g c / RT downwards, everywhere at t = 0."""
    _, model = prepare(column(steady=False, t_end=1.0, dt=1e-3))
    x0 = model.initial_state()
    J = model.cell_fields(x0)["J_P"]
    expected = -1e-10 * M_HEAVY * G * 2.0 / RT  # along z, downwards
    assert np.allclose(J[:, 0], expected, rtol=1e-10)
    # the column is closed: it piles up at the bottom, keeping its amount
    result = solve(column(steady=False, t_end=1.0, dt=1e-2))
    c = result.fields["P"]
    assert c[0] > 2.0 > c[-1]  # piled up at the bottom, depleted at the top
    amount = result.summary["regions"]["domain"]["amount"]["P"]
    assert amount == pytest.approx(2.0 * H_COL, rel=1e-9)
