"""Temperature programs with nernst-planck-poisson (issue #17): the drift
z F phi/(R T(t)), Arrhenius D(T(t)), Butler-Volmer f = F/(R T(t)) and the
Donnan ties follow the program; Poisson is unchanged.  References: a
method-of-lines solve during a ramp, the Boltzmann closed form after it, the
Butler-Volmer law at T(t), finite differences of the Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error, write_line_mesh
from scipy.constants import R
from scipy.constants import physical_constants as constants

import femflux

F = constants["Faraday constant"][0]
RAMP = "300 + 100*min(t/100, 1)"  # K: 1 K/s from 300 to 400 K, then held


def _temperature(t):
    return 300.0 + 100.0 * np.minimum(np.asarray(t) / 100.0, 1.0)


L, V, D0, E_D, C0 = 1e-4, 0.05, 1e-11, 40e3, 1e-9  # m, V, m^2/s at 300 K, J/mol, mol/m^3


def _diffusivity(T):
    return D0 * np.exp(-E_D / R * (1.0 / T - 1.0 / 300.0))


def _method_of_lines(times, n=400):
    """Amount (mol/m^2) of the trace cation in the left half of the closed
    cell at ``times``: cell-centred finite volumes with Scharfetter-Gummel
    fluxes in the linear potential V x/L, solve_ivp (BDF)."""
    import scipy.sparse as sp
    from scipy.integrate import solve_ivp

    h = L / n

    def rhs(t, c):
        T = _temperature(t)
        beta = F * V / (R * T) * h / L  # potential step per cell in RT/F
        bern = lambda s: s / np.expm1(s)  # noqa: E731
        flux = _diffusivity(T) / h * (bern(beta) * c[:-1] - bern(-beta) * c[1:])
        flux = np.concatenate([[0.0], flux, [0.0]])
        return -np.diff(flux) / h

    pattern = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n, n))
    sol = solve_ivp(rhs, (0.0, times[-1]), np.full(n, C0), method="BDF", t_eval=times,
                    rtol=1e-9, atol=1e-21, jac_sparsity=pattern)
    return sol.y[: n // 2].sum(axis=0) * h


def test_closed_cell_follows_a_ramp_and_settles_at_the_boltzmann_law_of_the_hold(tmp_path):
    """A trace cation (1e-9 mol/m^3, eps_r = 1e6: Poisson's own charge bends
    phi = V x/L by 1e-8 V) in a closed 0.1 mm cell at 50 mV, Arrhenius D (40 kJ/mol),
    T = 300 K -> 400 K in 100 s, then held: the amount in the left half
    during the ramp against a method-of-lines solve, and at the end the
    Boltzmann distribution of 400 K, c = c0 b exp(-b x/L)/(1 - exp(-b)),
    b = F V/(R T_end) (at 300 K it would be 33 % steeper)."""
    write_line_mesh(tmp_path / "cell.msh", [("A", L / 2, 50), ("B", L / 2, 50)])
    result = femflux.solve(femflux.load_case({
        "mesh": {"file": str(tmp_path / "cell.msh")},
        "model": {"kind": "nernst-planck-poisson", "temperature": RAMP},
        "species": [{"name": "K", "charge": 1, "initial": C0,
                     "diffusivity": {"pre": D0 * np.exp(E_D / (R * 300.0)), "energy": E_D}}],
        "electrostatics": {"relative_permittivity": 1e6},
        "boundary": [{"name": "left", "potential": 0.0}, {"name": "right", "potential": V}],
        "solver": {"steady": False, "t_end": 300.0, "dt": 0.01, "time_rtol": 1e-5},
        "output": {"times": [40.0, 70.0, 100.0]},
    }))
    h = result.history
    t = np.asarray(h["t"])
    times = np.array([40.0, 70.0, 100.0])
    picked = [int(np.argmin(np.abs(t - s))) for s in times]
    assert t[picked] == pytest.approx(times, abs=1e-9)
    amount = np.asarray(h["regions.A.amount.K"])[picked]
    reference = _method_of_lines(times)
    assert amount == pytest.approx(reference, rel=1e-3, abs=0)  # measured 1.1e-4
    assert reference[-1] > reference[0] > 1.2 * C0 * L / 2  # it moved during the ramp
    x = result.mesh.mesh.p[0]
    b = F * V / (R * 400.0)
    closed = C0 * b * np.exp(-b * x / L) / (-np.expm1(-b))
    c, phi = result.fields["K"], result.fields["phi"]
    assert c == pytest.approx(closed, rel=5e-5, abs=0)  # measured 1.8e-5
    assert np.ptp(np.log(c) + F * phi / (R * 400.0)) < 1e-8
    assert h["temperature"][-1] == pytest.approx(400.0)


@pytest.mark.parametrize("energy", [0.0, 40e3])
def test_butler_volmer_follows_the_temperature_program(energy):
    """A galvanostatic redox electrode (Ox + e- <=> Red in excess KCl,
    electroneutral, the bulk held 0.1 mm away, Arrhenius D of Ox) under the
    ramp: at every step the applied current density equals
    i0 [(c_R/c_ref) exp((1 - a) f eta) - (c_O/c_ref) exp(-a f eta)] with
    f = F/(R T(t)), eta = phi_M - phi - E_eq from the surface values (probe);
    with energy > 0 the exchange current is Arrhenius { pre, energy },
    i0(T(t)) = pre exp(-energy/(R T(t))) (10 A/m^2 at 300 K)."""
    i0, alpha, E_eq, current = 10.0, 0.4, 0.1, -0.3
    exchange = {"pre": i0 * np.exp(energy / (R * 300.0)), "energy": energy} if energy else i0
    bulk = {"Ox": 1.0, "Red": 2.0, "K": 100.0, "Cl": 101.0}
    species = [{"name": "Ox", "charge": 1, "initial": 1.0,
                "diffusivity": {"pre": 7.8e-10 * np.exp(15e3 / (R * 300.0)), "energy": 15e3}},
               {"name": "Red", "charge": 0, "diffusivity": 7.0e-10, "initial": 2.0},
               {"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": 100.0},
               {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": 101.0}]
    result = femflux.solve(femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [1e-4], "cells": [40]}},
        "model": {"kind": "nernst-planck-poisson", "temperature": RAMP},
        "species": species,
        "electrostatics": {"electroneutral": True},
        "boundary": [{"name": "xmin", "applied_current": current, "butler_volmer": {
                          "species": "Ox", "reduced": "Red", "electrons": 1,
                          "exchange_current": exchange, "alpha": alpha,
                          "equilibrium_potential": E_eq}},
                     {"name": "xmax", "potential": 0.0, "concentration": bulk}],
        "solver": {"steady": False, "t_end": 150.0, "dt": 0.01},
        "output": {"probes": {"electrode": [0.0]}},
    }))
    h = result.history
    T = _temperature(np.asarray(h["t"][1:]))
    f = F / (R * T)
    eta = (np.asarray(h["boundaries.xmin.potential"][1:])
           - np.asarray(h["probes.electrode.phi"][1:]) - E_eq)
    c_o, c_r = (np.asarray(h[f"probes.electrode.{k}"][1:]) / 1000.0 for k in ("Ox", "Red"))
    i0_t = i0 * np.exp(-energy / R * (1 / T - 1 / 300.0))  # i0 at T(t)
    i = i0_t * (c_r * np.exp((1 - alpha) * f * eta) - c_o * np.exp(-alpha * f * eta))
    assert i == pytest.approx(np.full_like(i, current), rel=1e-7)
    if energy:  # the law with i0 held at 300 K misses by far
        assert abs(i[-1] / i0_t[-1] * i0 / current - 1) > 0.5
    f_start = F / (R * 300.0)  # the same law at 300 K misses by far
    i_start = i0_t * (c_r * np.exp((1 - alpha) * f_start * eta)
                    - c_o * np.exp(-alpha * f_start * eta))
    assert abs(i_start[-1] / current - 1) > 0.1


def test_donnan_ties_follow_the_temperature_program(tmp_path):
    """A closed electroneutral bilayer: a membrane with fixed charge -5
    mol/m^3 next to a KCl solution, T ramped to 400 K: at the end each ion
    satisfies the Donnan law of 400 K, c_B/c_A = exp(-z F (phi_B - phi_A)/(R T))."""
    write_line_mesh(tmp_path / "bilayer.msh", [("A", 1e-6, 20), ("B", 1e-6, 20)])
    result = femflux.solve(femflux.load_case({
        "mesh": {"file": str(tmp_path / "bilayer.msh")},
        "model": {"kind": "nernst-planck-poisson", "temperature": RAMP},
        "species": [{"name": "K", "charge": 1, "diffusivity": 1e-11, "initial": 10.0},
                    {"name": "Cl", "charge": -1, "diffusivity": 1e-11, "initial": 10.0}],
        "electrostatics": {"electroneutral": True},
        "region": [{"name": "B", "fixed_charge": -5.0, "initial": {"K": 12.5, "Cl": 7.5}}],
        "solver": {"steady": False, "t_end": 200.0, "dt": 0.01},
    }))
    x = result.mesh.mesh.p[0]
    a, b = int(np.argmin(x)), int(np.argmax(x))
    jump = result.fields["phi"][b] - result.fields["phi"][a]
    for name, z in (("K", 1), ("Cl", -1)):
        c = result.fields[name]
        assert c[b] / c[a] == pytest.approx(np.exp(-z * F * jump / (R * 400.0)), rel=1e-8)
    assert abs(jump) > 0.005


@pytest.mark.parametrize("variant", ["poisson", "donnan"])
def test_jacobian_under_a_temperature_program(tmp_path, variant):
    """The Jacobian at t = 50 s of the ramp (drift, Arrhenius D, Butler-Volmer
    with a Stern layer, or Donnan ties) against finite differences."""
    from femflux.simulation import prepare

    write_line_mesh(tmp_path / "m.msh", [("A", 1e-8, 3), ("B", 1e-8, 3)])
    species = [{"name": "K", "charge": 1, "initial": "10 + 1e9*x",
                "diffusivity": {"pre": 1e-7, "energy": 15e3}},
               {"name": "Cl", "charge": -1, "diffusivity": 2e-9, "initial": 10.0}]
    electrode = {"name": "left", "applied_current": -1e-3, "butler_volmer": {
        "species": "K", "electrons": 1, "exchange_current": 5.0, "alpha": 0.4,
        "equilibrium_potential": 0.0}}
    data = {"mesh": {"file": str(tmp_path / "m.msh")},
            "model": {"kind": "nernst-planck-poisson", "temperature": RAMP},
            "species": species,
            "boundary": [electrode, {"name": "right", "potential": 0.0}],
            "solver": {"steady": False, "t_end": 1.0}}
    if variant == "poisson":
        data["electrostatics"] = {"relative_permittivity": 78.5}
        electrode["stern_capacitance"] = 0.2
    else:
        data["electrostatics"] = {"electroneutral": True}
        data["region"] = [{"name": "B", "fixed_charge": -5.0}]
    _, model = prepare(femflux.load_case(data))
    rng = np.random.default_rng(5)
    x = model.initial_state() + 0.1 * rng.random(model.n) * model.x_scale
    assert jacobian_error(model, x, 50.0) < 1e-5


def test_temperature_program_is_refused_with_onsager():
    with pytest.raises(femflux.CaseError, match=r"\[model\] temperature.*'onsager'"):
        femflux.load_case({
            "mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
            "model": {"kind": "onsager", "temperature": "300 + t"},
            "species": [{"name": "A", "diffusivity": 1e-9, "initial": 1.0}],
            "transport": {"onsager": "einstein"}})
