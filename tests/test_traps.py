"""Traps (McNabb-Foster, SPEC 6 `[[trap]]`): a permeation membrane with one
trap against the effective-diffusivity time lag (low occupancy) and against an
independent method-of-lines solve (saturating traps), plus the case keys.

dc_t/dt = k c_m (N - c_t) - p c_t;  dc_m/dt = D d2c_m/dx2 - dc_t/dt."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.integrate import solve_ivp

import femflux

L, D, N, K, P = 1e-3, 1e-9, 10.0, 1e-1, 1e-2  # m, m^2/s, mol/m^3, m^3/(mol s), 1/s


def membrane(c0, t_end, cells=100, **trap):
    return femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [cells]}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "H", "diffusivity": D, "initial": 0.0}],
        "trap": [dict({"species": "H", "density": N, "trapping": K, "detrapping": P}, **trap)],
        "boundary": [{"name": "xmin", "concentration": {"H": c0}},
                     {"name": "xmax", "concentration": {"H": 0.0}}],
        "solver": {"steady": False, "t_end": t_end, "dt": 1.0, "time_rtol": 1e-4},
    })


def exit_flux(result):
    h = result.history
    return np.asarray(h["t"]), np.asarray(h["boundaries.xmax.flux.H"])


def test_low_occupancy_permeation_has_the_effective_diffusivity_time_lag():
    """c_m << p/k: local equilibrium with D_eff = D/(1 + N k/p), time lag
    t_L = L^2/(6 D_eff) from the asymptote of the permeated amount."""
    c0 = 1e-4  # k c0/p = 1e-3
    t_lag = L**2 * (1 + N * K / P) / (6 * D)
    result = femflux.solve(membrane(c0, 9 * t_lag))
    t, J = exit_flux(result)
    Q = np.concatenate([[0.0], np.cumsum(0.5 * (J[1:] + J[:-1]) * np.diff(t))])
    late = t > 6 * t_lag
    slope, intercept = np.polyfit(t[late], Q[late], 1)
    assert slope == pytest.approx(D * c0 / L, rel=1e-3)  # the steady flux
    assert -intercept / slope == pytest.approx(t_lag, rel=1e-2)
    trapped = result.summary["regions"]["domain"]["amount"]["H_trap1"]
    # at steady state c_t = N k c/(k c + p) on the linear profile c = c0 (1 - x/L)
    assert trapped == pytest.approx(N * K * c0 / P * L / 2, rel=2e-3)


def test_equilibrium_traps_are_the_fast_exchange_limit():
    """Oriani (`equilibrium = true`): the same time lag, and the same exit
    flux as kinetic traps whose rates are 1000x faster (same k/p)."""
    c0 = 1e-4
    t_lag = L**2 * (1 + N * K / P) / (6 * D)
    oriani = femflux.solve(membrane(c0, 9 * t_lag, equilibrium=True))
    t, J = exit_flux(oriani)
    Q = np.concatenate([[0.0], np.cumsum(0.5 * (J[1:] + J[:-1]) * np.diff(t))])
    late = t > 6 * t_lag
    slope, intercept = np.polyfit(t[late], Q[late], 1)
    assert -intercept / slope == pytest.approx(t_lag, rel=1e-2)
    fast = femflux.solve(membrane(c0, 4 * t_lag, trapping=1e3 * K, detrapping=1e3 * P))
    tf, Jf = exit_flux(fast)
    times = np.linspace(0.5, 3.5, 7) * t_lag
    assert np.max(np.abs(np.interp(times, t, J) - np.interp(times, tf, Jf))) \
        < 5e-3 * D * c0 / L


def _method_of_lines(c0, times, n=400):
    """An independent finite-difference solve: c_m, c_t at n + 1 nodes."""
    h = L / n
    lap = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n - 1, n - 1)) * D / h**2

    def rhs(_, y):
        c, ct = y[: n + 1].copy(), y[n + 1:]
        c[0], c[-1] = c0, 0.0
        v = K * c * (N - ct) - P * ct
        dc = np.zeros(n + 1)
        dc[1:-1] = lap @ c[1:-1] - v[1:-1]
        dc[1] += D * c0 / h**2
        return np.concatenate([dc, v])

    y0 = np.zeros(2 * (n + 1))
    y0[0] = c0
    sol = solve_ivp(rhs, (0, times[-1]), y0, method="BDF", t_eval=times, rtol=1e-8,
                    atol=1e-12 * c0)
    c = sol.y[: n + 1]
    # the exit flux: the diffusive flux into the last node less what its half
    # cell traps (as femflux's weak-form reaction at the Dirichlet node)
    trapping = np.array([rhs(t, y)[-1] for t, y in zip(sol.t, sol.y.T, strict=True)])
    return D * (c[-2] - c[-1]) / h - 0.5 * h * trapping


def test_saturating_traps_delay_breakthrough_like_an_independent_solve():
    """k c0/p = 10: the traps fill behind a front; the exit flux follows a
    method-of-lines reference (scipy BDF on a 4x finer grid) within 0.5 % of
    the steady flux (without traps it would break through 10x earlier)."""
    c0 = 1.0
    result = femflux.solve(membrane(c0, 6e3))
    t, J = exit_flux(result)
    steady = D * c0 / L
    times = np.array([1500.0, 2500.0, 3500.0, 4500.0, 6000.0])
    reference = _method_of_lines(c0, times)
    mine = np.interp(times, t, J)
    assert reference[-1] > 0.5 * steady  # the curve is resolved through breakthrough
    assert np.max(np.abs(mine - reference)) < 5e-3 * steady  # measured 1e-3


def test_trap_keys_arrhenius_names_and_bad_input():
    case = membrane(1.0, 10.0, trapping={"pre": 2e-1, "energy": 1000.0}, name="deep")
    trap = case.traps[0]
    assert trap.name == "deep" and trap.trapping.energy == 1000.0
    assert trap.trapping.at(298.15) == pytest.approx(2e-1 * np.exp(-1000 / (8.314462618 * 298.15)))
    with pytest.raises(femflux.CaseError, match="trap 0"):
        membrane(1.0, 10.0, species="X")
    with pytest.raises(femflux.CaseError, match="already a species"):
        membrane(1.0, 10.0, name="H")
    with pytest.raises(femflux.CaseError, match="trapping"):
        membrane(1.0, 10.0, trapping=-1.0)
    over = femflux.load_case(membrane(1.0, 10.0).raw, overrides={"trap.0.density": 5.0})
    assert over.traps[0].density == 5.0


# -- surface kinetics: H2 <=> 2 H at the faces -----------------------------------------


def _steady_permeation_flux(Kd, Kr, p):
    """J with J = Kd p - Kr c1^2 = D (c1 - c2)/L = Kr c2^2 (exit at p = 0),
    solved independently for the entry concentration c1."""
    from scipy.optimize import brentq

    def gap(c1):
        J = Kd * p - Kr * c1**2
        c2 = np.sqrt(max(J, 0.0) / Kr)
        return D * (c1 - c2) / L - J

    c1 = brentq(gap, 0.0, np.sqrt(Kd * p / Kr))
    return Kd * p - Kr * c1**2, c1


@pytest.mark.parametrize("Kr, p, regime", [(1e-6, 1e5, "mixed"), (1e-2, 1e5, "diffusion-limited"),
                                           (1e-10, 1.0, "surface-limited")])
def test_surface_kinetics_steady_permeation(Kr, p, regime):
    """Steady flux through a membrane with dissociation/recombination on
    both faces (p at the entry, 0 at the exit) against the closed-form balance;
    diffusion-limited: D sqrt(Kd p/Kr)/L (Sieverts at the entry);
    surface-limited: Kd p / 2 (both faces recombine alike)."""
    Kd = 1e-5
    case = femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [L], "cells": [50]}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "H", "diffusivity": D, "initial": 0.0}],
        "boundary": [{"name": "xmin", "surface_kinetics": {
            "dissociation": Kd, "recombination": Kr, "pressure": p}},
                     {"name": "xmax", "surface_kinetics": {
            "dissociation": {"pre": Kd, "energy": 0.0}, "recombination": Kr}}],
    })
    result = femflux.solve(case)
    J, c1 = _steady_permeation_flux(Kd, Kr, p)
    out = result.summary["boundaries"]["xmax"]["flux"]["H"]
    assert out == pytest.approx(J, rel=1e-6)
    assert result.summary["boundaries"]["xmin"]["flux"]["H"] == pytest.approx(-J, rel=1e-6)
    assert result.fields["H"][0] == pytest.approx(c1, rel=1e-6)
    if regime == "diffusion-limited":
        assert J == pytest.approx(D * np.sqrt(Kd * p / Kr) / L, rel=0.05)
    if regime == "surface-limited":
        assert J == pytest.approx(Kd * p / 2, rel=0.05)


# -- thermal desorption: a temperature ramp -------------------------------------------


def test_thermal_desorption_peak_matches_an_independent_solve():
    """TDS of a uniformly loaded slab (traps full, both faces c = 0) under a
    1 K/s ramp, `[model] temperature = "300 + t"`, Arrhenius D, k and p: the
    desorption flux against a method-of-lines solve of the same equations
    (scipy BDF on a 2x finer grid): peak temperature within 1 K, peak flux
    within 2 %, the history's temperature column is the ramp."""
    R = 8.314462618
    Lz, Nz = 1e-4, 1.0
    D0, ED, k0, Ek, p0, Ep = 1e-7, 2.0e4, 1e-1, 2.0e4, 1e13, 1.0e5
    case = femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [Lz], "cells": [100]}},
        "model": {"kind": "diffusion", "temperature": "300 + t"},
        "species": [{"name": "H", "diffusivity": {"pre": D0, "energy": ED}, "initial": 0.0}],
        "trap": [{"species": "H", "density": Nz, "initial": Nz,
                  "trapping": {"pre": k0, "energy": Ek},
                  "detrapping": {"pre": p0, "energy": Ep}}],
        "boundary": [{"name": "xmin", "concentration": {"H": 0.0}},
                     {"name": "xmax", "concentration": {"H": 0.0}}],
        "solver": {"steady": False, "t_end": 300.0, "dt": 0.1, "time_rtol": 1e-4},
    })
    h = femflux.solve(case).history
    T = np.asarray(h["temperature"])
    assert np.allclose(T, 300.0 + np.asarray(h["t"]))
    flux = np.asarray(h["boundaries.xmin.flux.H"]) + np.asarray(h["boundaries.xmax.flux.H"])

    n = 200
    dx = Lz / n

    def rhs(t, y):
        temp = 300.0 + t
        D = D0 * np.exp(-ED / (R * temp))
        k, p = k0 * np.exp(-Ek / (R * temp)), p0 * np.exp(-Ep / (R * temp))
        c, ct = y[: n + 1].copy(), y[n + 1:]
        c[0] = c[-1] = 0.0
        v = k * c * (Nz - ct) - p * ct
        dc = np.zeros(n + 1)
        dc[1:-1] = D * (c[2:] - 2 * c[1:-1] + c[:-2]) / dx**2 - v[1:-1]
        return np.concatenate([dc, v])

    y0 = np.concatenate([np.zeros(n + 1), np.full(n + 1, Nz)])
    times = np.linspace(0.0, 300.0, 1201)
    sol = solve_ivp(rhs, (0.0, 300.0), y0, method="BDF", t_eval=times, rtol=1e-7,
                    atol=1e-12)
    D = D0 * np.exp(-ED / (R * (300.0 + sol.t)))
    c = sol.y[: n + 1]
    trapping = np.array([rhs(t, y)[n + 1:] for t, y in zip(sol.t, sol.y.T, strict=True)]).T
    # outward fluxes at both faces, half cells included (as femflux's reactions)
    reference = D * (c[1] + c[-2]) / dx - 0.5 * dx * (trapping[0] + trapping[-1])
    peak, ref_peak = np.argmax(flux), np.argmax(reference)
    assert T[peak] == pytest.approx(300.0 + sol.t[ref_peak], abs=1.0)
    assert flux[peak] == pytest.approx(reference[ref_peak], rel=2e-2)
    # all of it comes out: the amount released is the amount loaded
    released = np.sum(0.5 * (flux[1:] + flux[:-1]) * np.diff(np.asarray(h["t"])))
    assert released == pytest.approx(Nz * Lz, rel=1e-2)


def test_case_tds_tungsten():
    """cases/tds_tungsten.toml: one desorption peak per trap type, where
    README says, and everything loaded comes out."""
    from pathlib import Path

    from scipy.signal import find_peaks

    case = femflux.load_case(Path(__file__).parents[1] / "cases" / "tds_tungsten.toml")
    h = femflux.solve(case).history
    T, t = np.asarray(h["temperature"]), np.asarray(h["t"])
    flux = np.asarray(h["boundaries.xmin.flux.H"]) + np.asarray(h["boundaries.xmax.flux.H"])
    peaks, _ = find_peaks(flux, prominence=0.05 * flux.max())
    # each peak at the vertex of the parabola through its three samples
    vertices = [np.polyfit(T[k - 1:k + 2], flux[k - 1:k + 2], 2) for k in peaks]
    assert [-c[1] / (2 * c[0]) for c in vertices] == pytest.approx([397.5, 646.1], abs=1.0)
    loaded = (1.05 + 0.525) * 1e-5  # mol/m^2: both traps full
    released = np.sum(0.5 * (flux[1:] + flux[:-1]) * np.diff(t))
    assert released == pytest.approx(loaded, rel=2e-3)
