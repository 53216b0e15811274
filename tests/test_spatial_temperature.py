"""Temperature as an expression of x, y, z and t (issue #17): every Arrhenius
value is taken with the local T where it is used (D at the quadrature points,
trap and reaction rates at the cell points, surface kinetics at the boundary
points); the transport law is FESTIM's J = -D(T) grad c (no Soret term).
References: the closed form of steady conduction-like diffusion through a slab
with D(T(x)) (quad), its order of convergence; local Oriani equilibrium of
kinetic traps with p(T(x)); A => B with k(T(x, t)) at every node (quad);
surface kinetics at two faces of different temperature (brentq)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import R
from scipy.integrate import quad
from scipy.optimize import brentq

import femflux

L, E, D0 = 1e-2, 40e3, 1e-9  # m, J/mol, m^2/s (pre-factor)


def _T(x):
    return 300.0 + 3e4 * np.asarray(x)  # 300 K at x = 0, 600 K at x = L


def _D(x):
    return D0 * np.exp(-E / (R * _T(x)))


def _slab(cells: int, **changes) -> dict:
    data = {
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": "diffusion", "temperature": "300 + 3e4*x"},
        "species": [{"name": "H", "diffusivity": {"pre": D0, "energy": E}, "initial": 0.0}],
        "boundary": [{"name": "xmin", "concentration": {"H": 1.0}},
                     {"name": "xmax", "concentration": {"H": 0.0}}],
        "solver": {"steady": True},
    }
    data.update(changes)
    return data


def _resistance(a, b):
    return quad(lambda s: 1.0 / _D(s), a, b, epsabs=0.0, epsrel=1e-12)[0]


def test_steady_slab_with_a_temperature_gradient_follows_the_closed_form():
    """T = 300 -> 600 K across the slab, D = D0 exp(-E/RT(x)) (D varies 3000x):
    the flux J = (c0 - cL)/int dx/D is uniform and c(x) = c0 - J int_0^x
    dx'/D(T(x')); second order in h.  (T taken anywhere uniform would give
    a linear profile, 0.4 off.)"""
    J = 1.0 / _resistance(0.0, L)
    errors = []
    for cells in (40, 80):
        result = femflux.solve(femflux.load_case(_slab(cells)))
        x = result.mesh.mesh.p[0]
        reference = np.array([1.0 - J * _resistance(0.0, xi) for xi in x])
        c = np.asarray(result.fields["H"])
        errors.append(np.abs(c - reference).max())
        flux = result.summary["boundaries"]
        assert flux["xmax"]["flux"]["H"] == pytest.approx(J, rel=12.0 / cells**2)
        assert flux["xmin"]["flux"]["H"] == pytest.approx(-J, rel=12.0 / cells**2)
    assert errors[1] < 3e-4
    assert np.log2(errors[0] / errors[1]) == pytest.approx(2.0, abs=0.1)
    linear = 1.0 - x / L
    assert np.abs(linear - reference).max() > 0.3  # what a uniform T would give


def test_two_materials_and_a_mobility_follow_the_local_temperature(tmp_path):
    """Layer A (0 < x < L/2: D = D0 exp(-E/RT), 40 kJ/mol) and layer B (the
    region's own 20 kJ/mol), T(x) linear: the flux (c0 - cL)/int dx/D with
    D(x) piecewise, c(x) the same closed form; a species given by its
    mobility M instead (D = M R T(x)) against int dx/(M R T(x)), and by an
    Arrhenius mobility M0 exp(-E/RT)."""
    from conftest import write_line_mesh

    E_B = 20e3
    D_A = _D
    D_B = lambda x: D0 * np.exp(-E_B / (R * _T(x)))  # noqa: E731
    D_of = lambda x: D_A(x) if x < L / 2 else D_B(x)  # noqa: E731
    mesh = write_line_mesh(tmp_path / "ab.msh", [("A", L / 2, 40), ("B", L / 2, 40)])
    data = _slab(80, mesh={"file": str(mesh)},
                 region=[{"name": "B", "diffusivity": {"H": {"pre": D0, "energy": E_B}}}])
    data["boundary"] = [{"name": "left", "concentration": {"H": 1.0}},
                        {"name": "right", "concentration": {"H": 0.0}}]
    result = femflux.solve(femflux.load_case(data))
    resistance = lambda a, b: quad(lambda s: 1.0 / D_of(s), a, b, points=[L / 2],  # noqa: E731
                                   epsabs=0.0, epsrel=1e-12, limit=200)[0]
    J = 1.0 / resistance(0.0, L)
    assert result.summary["boundaries"]["right"]["flux"]["H"] == pytest.approx(J, rel=5e-3)
    x = result.mesh.mesh.p[0]
    reference = np.array([1.0 - J * resistance(0.0, xi) for xi in x])
    assert np.asarray(result.fields["H"]) == pytest.approx(reference, abs=5e-4)
    # mobility: D = M R T(x), J = 1/int dx/(M R T)
    M = 1e-12
    data = _slab(80)
    data["species"] = [{"name": "H", "mobility": M, "initial": 0.0}]
    result = femflux.solve(femflux.load_case(data))
    J = 1.0 / quad(lambda s: 1.0 / (M * R * _T(s)), 0.0, L, epsrel=1e-12)[0]
    assert result.summary["boundaries"]["xmax"]["flux"]["H"] == pytest.approx(J, rel=1e-4)
    assert J / (M * R * 300.0 / L) > 1.3  # T(x) matters
    # an Arrhenius mobility M = M0 exp(-E/RT): D = M0 exp(-E/RT) R T(x)
    M0, E_M = 1e-9, 20e3
    data["species"] = [{"name": "H", "mobility": {"pre": M0, "energy": E_M}, "initial": 0.0}]
    result = femflux.solve(femflux.load_case(data))
    J = 1.0 / quad(lambda s: 1.0 / (M0 * np.exp(-E_M / (R * _T(s))) * R * _T(s)), 0.0, L,
                   epsrel=1e-12)[0]
    # D varies 10-fold across: O(h^2) of the quadrature-point D, measured 6.8e-4
    assert result.summary["boundaries"]["xmax"]["flux"]["H"] == pytest.approx(J, rel=2e-3)


def test_kinetic_traps_reach_the_local_oriani_equilibrium():
    """c_m = c0 held on both faces, a kinetic trap with Arrhenius detrapping
    p(T(x)): at steady state c_t/(N - c_t) = (k/p(T(x))) c0 at every node
    (p varies 300x across the slab)."""
    c0, N, k, p0, E_p = 1.0, 5.0, 1.0, 1e8, 60e3
    data = _slab(20, trap=[{"species": "H", "density": N, "trapping": k,
                            "detrapping": {"pre": p0, "energy": E_p}}])
    data["boundary"] = [{"name": "xmin", "concentration": {"H": c0}},
                        {"name": "xmax", "concentration": {"H": c0}}]
    result = femflux.solve(femflux.load_case(data))
    x = result.mesh.mesh.p[0]
    p = p0 * np.exp(-E_p / (R * _T(x)))
    c_t = np.asarray(result.fields["H_trap1"])
    assert c_t == pytest.approx(N * k * c0 / (k * c0 + p), rel=1e-8)
    assert c_t.max() / c_t.min() > 2.0  # the local T matters


def test_reaction_follows_a_temperature_of_x_and_t():
    """Immobile A => B, k = k0 exp(-E/RT), T = 300 + 3e4 x + t: at every node
    A(t) = exp(-int_0^t k(T(x, s)) ds) (quad); history.temperature is the
    volume mean 300 + 3e4 L/2 + t."""
    k0, E_k, t_end = 8.0, 20e3, 20.0
    data = _slab(10, model={"kind": "diffusion", "temperature": "300 + 3e4*x + t"})
    data["species"] = [{"name": "A", "diffusivity": 0.0, "initial": 1.0},
                       {"name": "B", "diffusivity": 0.0, "initial": 0.0}]
    data["reaction"] = [{"equation": "A => B", "forward": {"pre": k0, "energy": E_k}}]
    data["boundary"] = []
    data["solver"] = {"steady": False, "t_end": t_end, "dt": 0.01, "time_rtol": 1e-6}
    result = femflux.solve(femflux.load_case(data))
    x = result.mesh.mesh.p[0]
    rate = lambda s, xi: k0 * np.exp(-E_k / (R * (_T(xi) + s)))  # noqa: E731
    exact = np.array([np.exp(-quad(rate, 0.0, t_end, args=(xi,), epsrel=1e-12)[0]) for xi in x])
    assert np.asarray(result.fields["A"]) == pytest.approx(exact, rel=1e-3)
    assert exact.max() - exact.min() > 0.5  # T(x) matters
    h = result.history
    assert np.asarray(h["temperature"]) == pytest.approx(
        300.0 + 3e4 * L / 2 + np.asarray(h["t"]), rel=1e-12)


def test_surface_kinetics_at_faces_of_different_temperature():
    """Surface kinetics on both faces (gas at p on the cold face, vacuum on
    the hot one) with Arrhenius K_d, K_r and D(T(x)), steady: J = K_d(T0) p
    - K_r(T0) c1^2 = (c1 - c2)/int dx/D = K_r(T_L) c2^2 (brentq)."""
    p, kd, ed, kr, er = 1e4, 1e-3, 20e3, 1e-2, 30e3
    sk = {"dissociation": {"pre": kd, "energy": ed}, "recombination": {"pre": kr, "energy": er}}
    data = _slab(80, boundary=[{"name": "xmin", "surface_kinetics": {**sk, "pressure": p}},
                               {"name": "xmax", "surface_kinetics": sk}])
    result = femflux.solve(femflux.load_case(data))
    Kd = lambda T: kd * np.exp(-ed / (R * T))  # noqa: E731
    Kr = lambda T: kr * np.exp(-er / (R * T))  # noqa: E731
    resistance = _resistance(0.0, L)

    def imbalance(c1):
        J = Kd(_T(0.0)) * p - Kr(_T(0.0)) * c1**2
        c2 = c1 - J * resistance
        return Kr(_T(L)) * np.sign(c2) * c2**2 - J

    c1 = brentq(imbalance, 0.0, np.sqrt(Kd(_T(0.0)) * p / Kr(_T(0.0))), xtol=1e-14)
    J = Kd(_T(0.0)) * p - Kr(_T(0.0)) * c1**2
    assert result.summary["boundaries"]["xmax"]["flux"]["H"] == pytest.approx(J, rel=2e-3)
    c = np.asarray(result.fields["H"])
    assert c[np.argmin(result.mesh.mesh.p[0])] == pytest.approx(c1, rel=2e-3)
    # the same K_r at both faces would make the exit concentration differ
    assert Kr(_T(L)) / Kr(_T(0.0)) > 10


@pytest.mark.parametrize("change, message", [
    ({"model": {"kind": "diffusion", "temperature": "300 - 1e5*x"}},
     "temperature = '300 - 1e5\\*x' must be finite and > 0 but is -700 K at x = \\[0.01\\] m"),
])
def test_bad_spatial_temperatures_are_named(change, message):
    with pytest.raises(femflux.CaseError, match=message):
        femflux.solve(femflux.load_case(_slab(4, **change)))
