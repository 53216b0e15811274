"""A temperature field T(x, y, z) with drift terms (SPEC 6: `[model]
temperature` an expression of x, y, z in kinds nernst-planck-poisson and
stress-diffusion): J = -D (grad c + c (z F grad phi - Omega grad sigma_h)/(R T(x))),
the local Nernst-Einstein mobility, no Soret term.  References: the
constant-field (Goldman) flux through a membrane with a linear T profile and
the Boltzmann-like equilibrium of a closed bent rod with a linear T profile,
both closed forms from the integrating factor (T0 + b x)^m; invariance under
a shift of phi; finite differences of the Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error
from scipy.constants import R, physical_constants

import femflux
from femflux.simulation import prepare, solve

FARADAY = physical_constants["Faraday constant"][0]
L = 1e-9  # m, membrane
T_IN, T_OUT = 300.0, 500.0  # K at x = 0 and x = L
B = (T_OUT - T_IN) / L  # K/m
D = 1e-9
SIDES = {"K": (100.0, 20.0), "Cl": (60.0, 300.0)}  # mol/m^3 at x = 0 and x = L
CHARGE = {"K": 1, "Cl": -1}


def _membrane(V, shift=0.0, cells=100):
    """A 1 nm membrane with a huge permittivity (lambda_D >> L: constant
    field), phi = shift at x = 0 and shift - V at x = L, T = 300 -> 500 K."""
    species = [{"name": k, "charge": CHARGE[k], "diffusivity": D,
                "initial": 0.5 * sum(v)} for k, v in SIDES.items()]
    return femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": "nernst-planck-poisson", "temperature": f"{T_IN} + {B}*x"},
        "species": species, "electrostatics": {"relative_permittivity": 1e7},
        "boundary": [{"name": "xmin", "potential": shift,
                      "concentration": {k: v[0] for k, v in SIDES.items()}},
                     {"name": "xmax", "potential": shift - V,
                      "concentration": {k: v[1] for k, v in SIDES.items()}}]})


def _constant_field_flux(z, c0, cL, V):
    """J (mol/m^2/s, in +x) of c' + c z F E/(R T(x)) = -J/D, E = -V/L,
    T = T_IN + B x: with m = z F E/(R B), (c T^m)' = -(J/D) T^m."""
    m = z * FARADAY * (-V / L) / (R * B)
    return D * B * (m + 1) * (c0 * T_IN**m - cL * T_OUT**m) / (T_OUT ** (m + 1)
                                                                  - T_IN ** (m + 1))


def test_constant_field_flux_with_a_temperature_gradient():
    V = 0.05
    result = solve(_membrane(V))
    for name, (c0, cL) in SIDES.items():
        expected = _constant_field_flux(CHARGE[name], c0, cL, V)
        flux = result.summary["boundaries"]["xmax"]["flux"][name]  # outward at x = L
        assert flux == pytest.approx(expected, rel=2e-3), name
        # at the temperature of either face the flux would be off by > 10 %
        for T in (T_IN, T_OUT):
            u = CHARGE[name] * V / (R * T / FARADAY)
            uniform = D / L * u * (c0 - cL * np.exp(-u)) / (1 - np.exp(-u))
            assert abs(uniform / expected - 1) > 0.05


def test_a_shift_of_phi_changes_nothing():
    base = solve(_membrane(0.05)).summary["boundaries"]["xmax"]["flux"]
    shifted = solve(_membrane(0.05, shift=1.0)).summary["boundaries"]["xmax"]["flux"]
    for name in SIDES:
        assert shifted[name] == pytest.approx(base[name], rel=1e-9)


def test_npp_jacobian_under_a_temperature_field():
    _, model = prepare(_membrane(0.05, cells=6))
    rng = np.random.default_rng(5)
    x = model.initial_state() * (1.0 + 0.2 * rng.random(model.n)) \
        + 0.01 * model.x_scale * rng.random(model.n)
    assert jacobian_error(model, x) < 1e-6


# -- stress-diffusion: the closed bent rod, sigma_h = k x/3 (plane stress) ---------

A_ROD, L_ROD = 1e-3, 4e-3  # half-width (x) and length (y), m
K_BEND = 1e12  # Pa/m: sigma_yy = +-1 GPa at the faces
OMEGA = 2.0e-6  # m^3/mol
B_ROD = 1e5  # K/m: T = 300 K at x = -a, 500 K at x = +a


def test_bent_rod_equilibrium_under_a_temperature_gradient():
    """Closed, steady: J = 0 gives d ln c/dx = Omega sigma_h'/(R T(x)), so
    c ~ T(x)^(Omega k/(3 R b)) (exponent 0.80): with the local T the ratio
    of the faces is 1.50; a uniform T of 300 K would give 1.71."""
    data = {
        "mesh": {"generate": {"shape": "rectangle", "length": [2 * A_ROD, L_ROD],
                              "cells": [24, 8], "origin": [-A_ROD, 0.0]}},
        "model": {"kind": "stress-diffusion", "temperature": f"300 + {B_ROD}*(x + {A_ROD})"},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "partial_molar_volume": OMEGA}],
        "boundary": [{"name": "ymax", "traction": [0.0, f"{K_BEND}*x"]},
                     {"name": "ymin", "traction": [0.0, f"-{K_BEND}*x"]}],
        "elasticity": {"youngs_modulus": 200e9, "poisson_ratio": 0.3, "plane": "stress",
                       "chemical_expansion": False},
        "solver": {"steady": True, "displacement_degree": 2}}
    result = solve(femflux.load_case(data))
    assert result.summary["converged"]
    x, y = result.mesh.mesh.p
    T = 300 + B_ROD * (x + A_ROD)
    m = OMEGA * K_BEND / 3 / (R * B_ROD)
    shape = T**m
    c = np.asarray(result.fields["H"])
    interior = (np.abs(x) < A_ROD * (1 - 1e-9)) & (y > 1e-9 * L_ROD) & (y < L_ROD * (1 - 1e-9))
    ratio = c[interior] / shape[interior]
    assert np.ptp(ratio) / ratio.mean() < 1e-3  # c / T^m uniform
    amount = result.summary["regions"]["domain"]["amount"]["H"]
    assert amount == pytest.approx(2 * A_ROD * L_ROD, rel=1e-8)  # closed: kept


# -- Butler-Volmer at the local T of the electrode --------------------------------------

def _electrode(temperature, i0=1e-4):
    """The FcMeOH couple in excess KCl, the electrode at x = 100 um (eta =
    20 mV), a slow exchange current: the current is kinetic, at the bulk
    concentrations."""
    from test_electrochemistry import BULK, _couple
    return _couple(bv={"exchange_current": i0}, electrode={"name": "xmax"},
                   other={"name": "xmin", "potential": 0.0, "concentration": BULK},
                   model={"kind": "nernst-planck-poisson", "temperature": temperature})


def test_butler_volmer_takes_the_temperature_of_its_electrode():
    """i = i0 [(c_R/c_ref) e^((1-alpha) f eta) - (c_O/c_ref) e^(-alpha f eta)],
    f = F/(R T) with T = 500 K at the electrode (300 K at x = 0)."""
    from test_electrochemistry import BULK, REDOX
    result = solve(_electrode("300 + 2e6*x"))
    i = result.summary["boundaries"]["xmax"]["current"]
    c_ref, alpha, eta = 1000.0, REDOX["alpha"], 0.12 - REDOX["equilibrium_potential"]

    def kinetic(T):
        f = FARADAY / (R * T)
        return 1e-4 * (BULK["Red"] / c_ref * np.exp((1 - alpha) * f * eta)
                       - BULK["Ox"] / c_ref * np.exp(-alpha * f * eta))

    assert abs(i) == pytest.approx(kinetic(500.0), rel=1e-3)
    assert abs(kinetic(300.0) / kinetic(500.0) - 1) > 0.1
    _, model = prepare(_electrode("300 + 2e6*x", i0=10.0))
    rng = np.random.default_rng(2)
    x = model.initial_state() + 0.1 * rng.random(model.n) * model.x_scale
    assert jacobian_error(model, x) < 1e-5
