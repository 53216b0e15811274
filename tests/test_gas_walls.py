"""``sieverts``/``henry`` walls (issue #17): the wall concentration in
equilibrium with a gas, c = K_S sqrt(p) or K_H p, p a given pressure or the
unknown pressure of an ``[[enclosure]]`` (the wall's rows tied to p, their
reaction carried by multipliers into the gas balance).  References: the
closed forms of a quasi-steady membrane between an enclosure and vacuum
(sqrt(p) linear in t for Sieverts, p exponential for Henry); the equilibrium
of an enclosure with a closed slab (quadratic in sqrt(p)) and its exact
hydrogen balance; steady permeation D K sqrt(p)/L; the same case in
atoms/m^3; finite differences of the Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import jacobian_error
from scipy.constants import R

import femflux

AVOGADRO = 6.02214076e23
L, D, V, TG, P0 = 1e-4, 1e-8, 1e-3, 300.0, 1e4  # m, m^2/s, m (1 L per m^2), K, Pa


def membrane(law="sieverts", K=1e-3, cells=40, closed=False, t_end=1000.0, f=1.0,
             unit="mol/m^3", kind="diffusion"):
    """A membrane of thickness L between an enclosure (at xmin) and vacuum
    (c = 0 at xmax, or a closed face), concentrations in f x mol/m^3."""
    data = {
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": kind, "temperature": 600.0, "concentration_unit": unit},
        "species": [{"name": "H", "diffusivity": D, "initial": 0.0}],
        "enclosure": [{"name": "chamber", "volume": V, "temperature": TG, "pressure": P0,
                       "boundaries": ["xmin"]}],
        "boundary": [{"name": "xmin", law: {"K": K * f, "pressure": "chamber"}}],
        "solver": {"steady": False, "t_end": t_end, "dt": 0.01, "time_rtol": 1e-5},
    }
    if not closed:
        data["boundary"].append({"name": "xmax", "concentration": {"H": 0.0}})
    return data


def _pressure(result):
    h = result.history
    return np.asarray(h["t"]), np.asarray(h["enclosures.chamber.pressure"])


def test_sieverts_membrane_empties_an_enclosure_with_sqrt_p_linear_in_t():
    """Quasi-steady (L^2/D = 1 s, the gas lasts 1600 s): the wall takes
    J = D K sqrt(p)/L atoms and the gas loses J/2 molecules,
    V/(R T_g) dp/dt = -D K sqrt(p)/(2 L): sqrt(p) = sqrt(p0) - a t/2,
    a = R T_g D K/(2 V L); the hydrogen balance 2 gas + dissolved + permeated."""
    K = 1e-3
    result = femflux.solve(femflux.load_case(membrane(K=K)))
    t, p = _pressure(result)
    a = R * TG * D * K / (2 * V * L)
    late = t >= 10.0  # after the membrane's own transient (L^2/D = 1 s)
    exact = (np.sqrt(P0) - a * t[late] / 2) ** 2
    assert p[late] == pytest.approx(exact, rel=1e-2)
    assert p[late] == pytest.approx(exact, rel=1e-3)  # measured 4e-4
    assert exact[-1] < 0.15 * P0
    # the wall's outward flux is the multipliers' sum: -D K sqrt(p)/L (quasi-steady)
    wall = result.summary["boundaries"]["xmin"]
    assert wall["flux"]["H"] == pytest.approx(-D * K * np.sqrt(p[-1]) / L, rel=2e-3)
    assert wall["enclosure_pressure"] == pytest.approx(p[-1])
    h = result.history
    out = np.asarray(h["boundaries.xmax.flux.H"])
    permeated = np.sum(0.5 * (out[1:] + out[:-1]) * np.diff(t))
    dissolved = np.asarray(h["amount.H"])
    gas = 2 * p * V / (R * TG)
    assert gas[-1] + dissolved[-1] + permeated == pytest.approx(gas[0] + dissolved[0], rel=1e-3)


def test_henry_membrane_empties_an_enclosure_exponentially():
    """Henry: J = D K p/L molecules, p = p0 exp(-t/tau), tau = V L/(R T_g D K)."""
    K = 1e-5
    result = femflux.solve(femflux.load_case(membrane("henry", K=K)))
    t, p = _pressure(result)
    tau = V * L / (R * TG * D * K)
    late = t >= 10.0
    assert p[late] == pytest.approx(P0 * np.exp(-t[late] / tau), rel=1e-2)
    assert p[late] == pytest.approx(P0 * np.exp(-t[late] / tau), rel=3e-3)
    assert np.exp(-1000.0 / tau) < 0.1


def test_enclosure_and_closed_slab_conserve_hydrogen_and_reach_sieverts_equilibrium():
    """A closed slab loading from the enclosure: 2 n_gas + dissolved is
    constant at every step (the wall's rows are tied to p, their reaction
    carried into the gas balance), and the end state is uniform c = K sqrt(p)
    with 2 p V/(R T_g) + K sqrt(p) L = the initial total (a quadratic in sqrt(p))."""
    K = 0.1
    result = femflux.solve(femflux.load_case(membrane(K=K, closed=True, t_end=50.0,
                                                      cells=20)))
    t, p = _pressure(result)
    total = 2 * p * V / (R * TG) + np.asarray(result.history["amount.H"])
    assert np.abs(total / total[0] - 1).max() < 1e-8
    a, b = 2 * V / (R * TG), K * L
    root = (-b + np.sqrt(b * b + 4 * a * total[0])) / (2 * a)
    assert p[-1] == pytest.approx(root**2, rel=1e-6)
    assert np.asarray(result.fields["H"]) == pytest.approx(K * root, rel=1e-6)
    assert p[-1] < 0.9 * P0  # the slab took a tenth of the gas


def test_the_enclosure_case_in_atoms_per_m3_takes_the_same_steps():
    """concentration_unit = "atoms/m^3" with K x N_A (the gas then holds N_A p
    V/(R T_g) molecules in the case's unit): the same steps and Newton
    iterations, the same p(t) (at the same t: the adaptive times differ by
    round-off, 1e-5 s), fluxes x N_A."""
    mol = femflux.solve(femflux.load_case(membrane(t_end=300.0)))
    atoms = femflux.solve(femflux.load_case(membrane(t_end=300.0, f=AVOGADRO,
                                                     unit="atoms/m^3")))
    assert (atoms.summary["steps"], atoms.summary["newton_iterations"]) == \
        (mol.summary["steps"], mol.summary["newton_iterations"])
    assert np.array_equal(atoms.history["newton_iterations"], mol.history["newton_iterations"])
    (t_mol, p_mol), (t_atoms, p_atoms) = _pressure(mol), _pressure(atoms)
    assert np.interp(t_mol, t_atoms, p_atoms) == pytest.approx(p_mol, rel=1e-6)
    assert atoms.summary["enclosures"]["chamber"] == pytest.approx(
        mol.summary["enclosures"]["chamber"], rel=1e-9)
    for side in ("xmin", "xmax"):
        assert atoms.summary["boundaries"][side]["flux"]["H"] == pytest.approx(
            AVOGADRO * mol.summary["boundaries"][side]["flux"]["H"], rel=1e-6)


@pytest.mark.parametrize("law, K, exact", [
    ("sieverts", {"pre": 2e-2, "energy": 10e3}, lambda K, p: K * np.sqrt(p)),
    ("henry", 3e-6, lambda K, p: K * p),
])
def test_given_pressure_sets_the_wall_concentration(law, K, exact):
    """Steady permeation from a wall at p = 1e4 Pa (a given number): c(0) =
    K sqrt(p) (Arrhenius K at T) resp. K p, flux D c(0)/L."""
    data = membrane(law, K=1.0)
    del data["enclosure"]
    data["boundary"][0] = {"name": "xmin", law: {"K": K, "pressure": 1e4}}
    data["solver"] = {"steady": True}
    result = femflux.solve(femflux.load_case(data))
    k = K["pre"] * np.exp(-K["energy"] / (R * 600.0)) if isinstance(K, dict) else K
    c0 = exact(k, 1e4)
    assert result.summary["boundaries"]["xmax"]["flux"]["H"] == pytest.approx(D * c0 / L,
                                                                              rel=1e-10)
    assert result.summary["boundaries"]["xmin"]["flux"]["H"] == pytest.approx(-D * c0 / L,
                                                                              rel=1e-10)


@pytest.mark.parametrize("change, message", [
    ({"henry": {"K": 1.0, "pressure": 1.0}}, "henry and sieverts exclude each other"),
    ({"concentration": {"H": 1.0}}, "sieverts species 'H' has another condition"),
    ({"sieverts": {"K": 1.0}}, "sieverts.pressure is required"),
    ({"sieverts": {"K": 0.0, "pressure": 1.0}}, "sieverts.K must be > 0"),
    ({"sieverts": {"K": 1.0, "pressure": 5.0}}, "sieverts.pressure must be 'chamber'"),
])
def test_bad_gas_walls_are_named(change, message):
    data = membrane()
    data["boundary"][0].update(change)
    if "pressure" not in data["boundary"][0]["sieverts"] or "henry" in change \
            or "concentration" in change or data["boundary"][0]["sieverts"]["K"] == 0.0:
        data["enclosure"][0]["boundaries"] = []
    with pytest.raises(femflux.CaseError, match=message):
        femflux.solve(femflux.load_case(data))


@pytest.mark.parametrize("law", ["sieverts", "henry"])
def test_jacobian_with_an_enclosed_wall(law):
    from femflux.simulation import prepare

    _, model = prepare(femflux.load_case(membrane(law, cells=4)))
    rng = np.random.default_rng(3)
    x = model.initial_state() + model.x_scale * rng.random(model.n)
    assert jacobian_error(model, x) < 1e-6


# -- under stress (kind stress-diffusion): c = c_eq(p) exp(Omega sigma_h/RT) ------------

OMEGA, E_MOD, NU = 2e-6, 200e9, 0.3  # m^3/mol, Pa, -


def stressed(traction=0.0, **changes):
    """The closed slab of the enclosure test in kind stress-diffusion, pulled
    by +-traction on its faces (1D: uniaxial strain, sigma_h = (1 + nu)/(3 (1 - nu)) T)."""
    data = membrane(K=0.1, closed=True, t_end=50.0, cells=20, kind="stress-diffusion")
    data["species"][0]["partial_molar_volume"] = OMEGA
    data["elasticity"] = {"youngs_modulus": E_MOD, "poisson_ratio": NU,
                          "chemical_expansion": False}
    data["boundary"][0]["traction"] = [-traction]
    data["boundary"].append({"name": "xmax", "traction": [traction]})
    data.update(changes)
    return data


def test_stress_diffusion_without_stress_is_the_diffusion_result():
    """Enclosure + closed slab in kind stress-diffusion, traction-free: the
    same steps and p(t), c as kind diffusion."""
    plain = femflux.solve(femflux.load_case(membrane(K=0.1, closed=True, t_end=50.0,
                                                     cells=20)))
    stress = femflux.solve(femflux.load_case(stressed()))
    assert stress.summary["steps"] == plain.summary["steps"]
    assert _pressure(stress)[1] == pytest.approx(_pressure(plain)[1], rel=1e-8)
    assert np.asarray(stress.fields["H"]) == pytest.approx(np.asarray(plain.fields["H"]),
                                                           rel=1e-8)


def test_uniform_tension_raises_the_sieverts_equilibrium_by_exp_omega_sigma_over_rt():
    """+-1 GPa on the faces: sigma_h = (1 + nu)/(3 (1 - nu)) 1 GPa = 0.62 GPa
    uniform; the slab loads from the enclosure to c = K sqrt(p) e, e =
    exp(Omega sigma_h/RT) = 1.28, with 2 p V/(R T_g) + c L = the initial total
    (quadratic in sqrt(p)); the hydrogen balance holds at every step."""
    result = femflux.solve(femflux.load_case(stressed(1e9)))
    sigma_h = np.asarray(result.fields["sigma_h"])
    assert sigma_h == pytest.approx((1 + NU) / (3 * (1 - NU)) * 1e9, rel=1e-9)
    e = np.exp(OMEGA * sigma_h[0] / (R * 600.0))
    t, p = _pressure(result)
    total = 2 * p * V / (R * TG) + np.asarray(result.history["amount.H"])
    assert np.abs(total / total[0] - 1).max() < 1e-8
    a, b = 2 * V / (R * TG), 0.1 * e * L
    root = (-b + np.sqrt(b * b + 4 * a * total[0])) / (2 * a)
    assert p[-1] == pytest.approx(root**2, rel=1e-6)
    assert np.asarray(result.fields["H"]) == pytest.approx(0.1 * e * root, rel=1e-6)
    assert e > 1.25


def test_given_pressure_wall_under_stress():
    """A sieverts wall at a given 1e4 Pa on a closed slab in uniform tension,
    steady: c = K sqrt(p) exp(Omega sigma_h/RT) everywhere (no enclosure: the
    wall's multipliers alone)."""
    data = stressed(1e9, solver={"steady": True})
    del data["enclosure"]
    data["boundary"][0]["sieverts"] = {"K": 0.1, "pressure": 1e4}
    result = femflux.solve(femflux.load_case(data))
    sigma_h = (1 + NU) / (3 * (1 - NU)) * 1e9
    assert np.asarray(result.fields["H"]) == pytest.approx(
        0.1 * 100.0 * np.exp(OMEGA * sigma_h / (R * 600.0)), rel=1e-9)


def test_jacobian_with_a_stressed_enclosure_wall():
    from femflux.simulation import prepare

    _, model = prepare(femflux.load_case(stressed(1e9, mesh={"generate": {
        "shape": "interval", "length": [L], "cells": [4]}})))
    rng = np.random.default_rng(4)
    x = model.initial_state() + model.x_scale * rng.random(model.n)
    assert jacobian_error(model, x) < 1e-6


def test_two_tied_walls_may_not_meet():
    """Two enclosure walls of H at the corner of a square share a node (its
    row can be tied to one pressure only): exit 2 naming both."""
    data = membrane()
    data["mesh"] = {"generate": {"shape": "rectangle", "length": [L, L], "cells": [2, 2]}}
    data["enclosure"][0]["boundaries"] = ["xmin", "ymin"]
    data["boundary"] = [{"name": name, "sieverts": {"K": 1e-3, "pressure": "chamber"}}
                        for name in ("xmin", "ymin")]
    with pytest.raises(femflux.CaseError, match="boundary 'ymin': its 'H' wall shares nodes "
                       "with boundary 'xmin'"):
        femflux.solve(femflux.load_case(data))
