"""Transient electrochemistry and permeation against closed forms, read from
the history of each run (SPEC 6):

- soluble redox couples (``butler_volmer.reduced``): the case rules, Nernst
  with both activities, the closed-species logic (a redox electrode keeps
  O + R), the exact Jacobian and the reported fluxes of both species;
- chronoamperometry: Cottrell i = n F c sqrt(D/(pi t));
- cyclic voltammetry of a reversible soluble couple: Randles-Sevcik
  0.4463 n F c sqrt(n F v D/RT) and the peak separation 2.22 RT/(nF);
- linear sweep deposition of a metal: Berzins-Delahay
  0.6105 (n F)^1.5 c sqrt(D v/RT);
- Devanathan-Stachurski permeation: the exit-flux series and the time lag
  L^2/(6D);
- the cases ferrocenemethanol_cv and hydrogen_permeation (README numbers).

Excess supporting electrolyte is written out (electroneutral Nernst-Planck
with an inert 1:1 salt: butler_volmer needs phi); the migration correction is
measured against `diffusion` runs with the same boundary data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import jacobian_error
from scipy.constants import R, physical_constants

import femflux
from femflux.physics.closed import conserved_combinations
from femflux.simulation import prepare, solve

FARADAY = physical_constants["Faraday constant"][0]
T = 298.15
VT = R * T / FARADAY
CASES = Path(__file__).resolve().parents[1] / "cases"


def interval(length, cells):
    return {"generate": {"shape": "interval", "length": [length], "cells": [cells]}}


def npp(mesh, species, boundary, **sections):
    data = {"mesh": mesh, "model": {"kind": "nernst-planck-poisson", "temperature": T},
            "species": species, "boundary": boundary,
            "electrostatics": {"electroneutral": True}}
    data.update(sections)
    return femflux.load_case(data)


def transient(t_end, dt, rtol, times=()):
    return {"solver": {"steady": False, "t_end": t_end, "dt": dt, "time_rtol": rtol},
            "output": {"every": 10**6, "times": list(times)}}


def column(history, path):
    """One history quantity as an array: path = ("boundaries", "xmin", "current")."""
    out = []
    for entry in history:
        for key in path:
            entry = entry[key]
        out.append(entry)
    return np.array(out, dtype=float)


def peak(t, y, where):
    """The largest y on the steps ``where`` refined by the parabola through it
    and its two neighbours: (y_peak, t_peak)."""
    k = np.flatnonzero(where)[np.argmax(y[where])]
    p = np.polyfit(t[k - 1:k + 2] - t[k], y[k - 1:k + 2], 2)
    shift = -p[1] / (2 * p[0])
    return float(np.polyval(p, shift)), float(t[k] + shift)


# -- soluble redox couples: the case layer ---------------------------------------------

#: FcMeOH+ + e- <=> FcMeOH in KCl
COUPLE = [{"name": "Ox", "charge": 1, "diffusivity": 7.8e-10, "initial": 1.0},
          {"name": "Red", "charge": 0, "diffusivity": 7.0e-10, "initial": 2.0},
          {"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": 100.0},
          {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": 101.0}]
BULK = {"Ox": 1.0, "Red": 2.0, "K": 100.0, "Cl": 101.0}
REDOX = {"species": "Ox", "reduced": "Red", "electrons": 1, "exchange_current": 10.0,
         "alpha": 0.4, "equilibrium_potential": 0.1}


def _without_none(table):
    return {k: v for k, v in table.items() if v is not None}


def _couple(bv=None, electrode=None, other=None, species=COUPLE, cells=20, **sections):
    """The couple between the electrode (xmin) and the bulk (xmax); keys set
    to None in ``bv`` or ``electrode`` are left out."""
    kinetics = _without_none(dict(REDOX, **(bv or {})))
    electrode = _without_none({"name": "xmin", "potential": 0.12, "butler_volmer": kinetics,
                               **(electrode or {})})
    other = other or {"name": "xmax", "potential": 0.0, "concentration": BULK}
    return npp(interval(1e-4, cells), species, [electrode, other], **sections)


@pytest.mark.parametrize("bv, message", [
    ({"reduced": "Fe"}, "butler_volmer.reduced names unknown species 'Fe'"),
    ({"reduced": "Ox"}, "butler_volmer.reduced is the oxidised species 'Ox' itself"),
    ({"electrons": 2}, "electrons = 2 must equal the charge of species 'Ox' (1) minus that "
                       "of reduced 'Red' (0)"),
    ({"reduced": "Cl"}, "electrons = 1 must equal the charge of species 'Ox' (1) minus that "
                        "of reduced 'Cl' (-1)"),
    ({"reduced": 3}, "butler_volmer.reduced must be a string"),
])
def test_redox_couple_case_rules(bv, message):
    with pytest.raises(femflux.CaseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _couple(bv)


def test_redox_couple_reduced_species_takes_no_second_condition():
    with pytest.raises(femflux.CaseError, match="species 'Red' both concentration and "
                                                "butler_volmer"):
        _couple(electrode={"concentration": {"Red": 2.0}})


def test_redox_couple_case_reads_and_the_metal_rule_stays():
    case = _couple()
    bv = case.boundaries[0].butler_volmer
    assert (bv.species, bv.reduced, bv.electrons) == ("Ox", "Red", 1)
    # without reduced: O^z + n e- <=> M(s), z = n
    with pytest.raises(femflux.CaseError, match="must equal the charge of species 'Ox' \\(1\\): "
                                                "O\\^z \\+ n e- <=> M\\(s\\)"):
        _couple({"reduced": None, "electrons": 2})
    assert _couple({"reduced": None}).boundaries[0].butler_volmer.reduced is None


def test_a_redox_electrode_keeps_o_plus_r_and_a_metal_electrode_exchanges_o():
    """Closed-species logic (SPEC 4.0): the redox electrode converts O into R,
    like a reaction; the supporting ions stay closed."""
    blocking = {"name": "xmax", "potential": 0.0}
    m = conserved_combinations(_couple(other=blocking))
    index = {s["name"]: k for k, s in enumerate(COUPLE)}
    assert m.shape == (3, 4)
    # the combinations span O + R, K and Cl, and nothing with O - R
    o_plus_r = np.zeros(4)
    o_plus_r[[index["Ox"], index["Red"]]] = 1.0
    o_minus_r = np.zeros(4)
    o_minus_r[index["Ox"]], o_minus_r[index["Red"]] = 1.0, -1.0
    projector = m.T @ np.linalg.pinv(m.T)
    assert np.allclose(projector @ o_plus_r, o_plus_r)
    assert np.allclose(projector @ o_minus_r, 0.0)
    # a metal electrode (no reduced) exchanges O with the metal; R stays closed
    metal = conserved_combinations(_couple({"reduced": None}, other=blocking))
    assert np.allclose(np.abs(metal[:, index["Ox"]]), 0.0)
    assert metal.shape == (3, 4)


# -- soluble redox couples: the physics ------------------------------------------------


@pytest.mark.parametrize("variant", ["poisson", "galvanostatic", "electroneutral"])
def test_redox_jacobian_matches_finite_differences(variant):
    """d/d(a_O, a_R, phi, phi_M) of the kinetics in the rows of O, R and phi_M."""
    species = [dict(s) for s in COUPLE]
    species[0]["initial"] = "1 + 1e8*x"
    species[3]["initial"] = "101 + 1e8*x"
    electrode = {"name": "xmin", "potential": 0.12, "stern_capacitance": 0.2,
                 "butler_volmer": REDOX}
    extra = {"electrostatics": {"relative_permittivity": 78.5}}
    if variant == "galvanostatic":
        del electrode["potential"]
        electrode["applied_current"] = -1e-9
    elif variant == "electroneutral":
        del electrode["stern_capacitance"]
        species = COUPLE
        extra = {}
    case = npp({"generate": {"shape": "rectangle", "length": [1e-8, 1e-8], "cells": [3, 2]}},
               species, [electrode, {"name": "xmax", "potential": 0.0, "concentration": BULK}],
               **extra)
    _, model = prepare(case)
    rng = np.random.default_rng(1)
    x = model.initial_state() + 0.1 * rng.random(model.n) * model.x_scale
    assert jacobian_error(model, x) < 1e-5


def test_redox_open_circuit_is_nernst_with_both_activities():
    """i = 0: phi_M - phi = E_eq + (RT/nF) ln(gamma_O c_O/(gamma_R c_R))."""
    species = [dict(s) for s in COUPLE]
    species[0]["activity_coefficient"] = 0.8
    species[1]["activity_coefficient"] = 1.3
    case = _couple(electrode={"potential": None, "applied_current": 0.0}, species=species)
    b = solve(case).summary["boundaries"]["xmin"]
    expected = REDOX["equilibrium_potential"] + VT * np.log(0.8 * 1.0 / (1.3 * 2.0))
    assert b["potential"] == pytest.approx(expected, abs=1e-9)
    assert b["electrode_potential"] == b["potential"]
    assert abs(b["current"]) < 1e-12
    assert b["flux"]["Ox"] == pytest.approx(-b["flux"]["Red"], abs=1e-20)


def test_galvanostatic_redox_electrode_reports_both_fluxes():
    """R is produced at i/(nF) where O is consumed: the reported outward fluxes
    are +-I/(nF) and the current is the applied one (out of the domain: -I)."""
    current = -0.3  # A/m^2 into the solution: cathodic, O -> R (limit F D c/L = 0.75)
    case = _couple(electrode={"potential": None, "applied_current": current})
    s = solve(case).summary["boundaries"]
    assert s["xmin"]["current"] == pytest.approx(-current, rel=1e-9)
    assert s["xmin"]["flux"]["Ox"] == pytest.approx(-current / FARADAY, rel=1e-9)
    assert s["xmin"]["flux"]["Red"] == pytest.approx(current / FARADAY, rel=1e-9)
    assert s["xmax"]["flux"]["Red"] == pytest.approx(-current / FARADAY, rel=1e-6)


def test_closed_thin_layer_cell_between_two_redox_electrodes():
    """Steady generator-collector cell closed to matter: O + R keeps its amount,
    O alone too (electroneutrality with the closed K and Cl), each electrode
    converts what the other produces, and with fast kinetics both surfaces are
    Nernstian."""
    L = 1e-5
    bv = {"exchange_current": 1e8}  # k0 = i0/(F c_ref) = 1 m/s
    case = npp(interval(L, 100), COUPLE,
               [{"name": "xmin", "potential": 0.15, "butler_volmer": dict(REDOX, **bv)},
                {"name": "xmax", "potential": 0.05, "butler_volmer": dict(REDOX, **bv)}],
               solver={"newton_rtol": 1e-14})  # from a first residual of ~1e7 A/m^2
    result = solve(case)
    s = result.summary
    b, amount = s["boundaries"], s["regions"]["domain"]["amount"]
    assert amount["Ox"] + amount["Red"] == pytest.approx(3.0 * L, rel=1e-10)
    assert amount["Ox"] == pytest.approx(1.0 * L, rel=1e-8)
    assert b["xmin"]["flux"]["Ox"] == pytest.approx(-b["xmax"]["flux"]["Ox"], rel=1e-8)
    assert b["xmin"]["flux"]["Red"] == pytest.approx(-b["xmin"]["flux"]["Ox"], rel=1e-12)
    assert b["xmin"]["current"] < -1.0  # anodic at xmin
    x = result.mesh.mesh.p[0]
    for name, end in (("xmin", np.argmin(x)), ("xmax", np.argmax(x))):
        ratio = result.fields["Ox"][end] / result.fields["Red"][end]
        eta = b[name]["electrode_potential"] - b[name]["potential"] - 0.1
        # i/(F k0 c) ~ 2e-4: the surface ratio is Nernstian to ~1e-3 RT/F
        assert VT * np.log(ratio) == pytest.approx(eta, abs=1e-3 * VT)


# -- chronoamperometry: Cottrell -------------------------------------------------------

D_O, C_O = 7.8e-10, 1.0


def _cottrell_runs():
    """Potential step to the diffusion limit, c_O = 0 at the electrode from
    t = 0, 0.5 mm of solution: (diffusion run, electroneutral run with 100
    KCl per O+)."""
    mesh, steps = interval(5e-4, 1000), transient(10.0, 1e-6, 1e-4)
    pure = femflux.load_case({
        "mesh": mesh, "model": {"kind": "diffusion"},
        "species": [{"name": "O", "diffusivity": D_O, "initial": C_O}],
        "boundary": [{"name": "xmin", "concentration": {"O": 0.0}}], **steps})
    # electroneutral: O+ and its Cl- counter-ions start at the boundary value
    # at the electrode node (a step of one ion alone there would need the
    # others to jump at once: the algebraic constraint's initial data)
    step = f"{C_O}*min(1, x/1e-12)"
    salt = 100.0
    ions = [{"name": "O", "charge": 1, "diffusivity": D_O, "initial": step},
            {"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": salt},
            {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": f"{salt} + {step}"}]
    supported = npp(mesh, ions,
                    [{"name": "xmin", "concentration": {"O": 0.0}},
                     {"name": "xmax", "potential": 0.0,
                      "concentration": {"O": C_O, "K": salt, "Cl": salt + C_O}}], **steps)
    return solve(pure), solve(supported)


def test_cottrell_chronoamperometry():
    """i = n F c sqrt(D/(pi t)) (n = 1) in the resolved range: sqrt(D t) from
    10 element sizes (h = 0.5 um) to a fifth of the 0.5 mm of solution."""
    pure, supported = _cottrell_runs()
    h = pure.summary["history"]
    t = column(h, ["t"])[1:]
    resolved = (t >= 100 * 0.5e-6**2 / D_O) & (t <= (5e-4 / 5) ** 2 / D_O)
    cottrell = FARADAY * C_O * np.sqrt(D_O / (np.pi * t))
    i_pure = FARADAY * column(h, ["boundaries", "xmin", "flux", "O"])[1:]
    assert resolved.sum() > 50 and t[resolved][0] < 0.04 and t[resolved][-1] == 10.0
    assert np.max(np.abs(i_pure[resolved] / cottrell[resolved] - 1)) < 0.02  # measured 0.3 %
    # excess supporting electrolyte: the current read from history
    hs = supported.summary["history"]
    ts = column(hs, ["t"])[1:]
    i_supported = column(hs, ["boundaries", "xmin", "current"])[1:]
    cottrell_s = FARADAY * C_O * np.sqrt(D_O / (np.pi * ts))
    within = (ts >= t[resolved][0]) & (ts <= 10.0)
    assert np.max(np.abs(i_supported[within] / cottrell_s[within] - 1)) < 0.02  # measured 0.1 %
    # migration correction at 100:1 (the diffusion run interpolated in log t)
    pure_at = np.exp(np.interp(np.log(ts[within]), np.log(t), np.log(i_pure)))
    migration = i_supported[within] / pure_at - 1
    assert np.all(np.abs(migration) < 5e-3)  # measured +0.2 to +0.3 %


# -- cyclic voltammetry: Randles-Sevcik ------------------------------------------------

D_FC, V_SCAN = 7.8e-10, 0.1  # m^2/s, V/s
E_FORMAL, WINDOW = 0.2, 0.3  # V: sweep E0' - 0.3 -> E0' + 0.3 -> E0' - 0.3
SWITCH = 2 * WINDOW / V_SCAN  # s: the time of the vertex; the run ends at 2 SWITCH


def _cv_case(salt, exchange_current=9.65e6, cells=1200):
    """1 mM of the reduced form of a one-electron couple (D_O = D_R) with
    ``salt`` mol/m^3 of KCl, oxidised by a triangular sweep; the oxidised
    form starts in equilibrium with the starting potential (no current)."""
    trace = float(np.exp(-WINDOW / VT))  # mol/m^3 of Ox in equilibrium at E0' - 0.3 V
    species = [{"name": "Red", "charge": 0, "diffusivity": D_FC, "initial": 1.0},
               {"name": "Ox", "charge": 1, "diffusivity": D_FC, "initial": trace},
               {"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": salt},
               {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": salt + trace}]
    start = E_FORMAL - WINDOW
    potential = f"{start} + {V_SCAN}*({SWITCH} - abs(t - {SWITCH}))"
    bv = {"species": "Ox", "reduced": "Red", "electrons": 1, "alpha": 0.5,
          "exchange_current": exchange_current, "equilibrium_potential": E_FORMAL}
    return npp(interval(6e-4, cells), species,
               [{"name": "xmin", "potential": potential, "butler_volmer": bv},
                {"name": "xmax", "potential": 0.0,
                 "concentration": {"Red": 1.0, "Ox": trace, "K": salt, "Cl": salt + trace}}],
               **transient(2 * SWITCH, 1e-4, 1e-4, [SWITCH]))


def _cv_peaks(t, current, potential):
    """(anodic peak, its potential, cathodic peak (positive), its potential)
    of a voltammogram with the anodic current density ``current``."""
    forward = t < SWITCH
    ia, ta = peak(t, current, forward)
    ic, tc = peak(t, -current, ~forward)
    return ia, float(np.interp(ta, t, potential)), ic, float(np.interp(tc, t, potential))


def test_reversible_voltammogram_randles_sevcik_and_peak_separation():
    """1 mM couple in 1 M KCl (k0 = 10 cm/s: Lambda = k0/sqrt(D F v/RT) = 1800,
    reversible), read from history: the anodic current density is minus
    boundaries.xmin.current, the electrode potential electrode_potential minus
    the electrolyte's potential there (both < 0.1 mV apart at 1 M)."""
    result = solve(_cv_case(salt=1000.0))
    h = result.summary["history"]
    t = column(h, ["t"])
    current = -column(h, ["boundaries", "xmin", "current"])
    applied = column(h, ["boundaries", "xmin", "electrode_potential"])
    electrode = applied - column(h, ["boundaries", "xmin", "potential"])
    assert applied == pytest.approx(E_FORMAL - WINDOW + V_SCAN * (SWITCH - np.abs(t - SWITCH)),
                                    abs=1e-12)
    ia, ea, ic, ec = _cv_peaks(t, current, electrode)
    randles_sevcik = 0.4463 * FARADAY * 1.0 * np.sqrt(FARADAY * V_SCAN * D_FC / (R * T))
    assert ia == pytest.approx(randles_sevcik, rel=0.02)  # measured +0.05 %
    separation = 2.22 * VT  # 57.0 mV; 57.7 mV for this switching potential
    assert abs((ea - ec) - separation) < 3e-3  # measured 57.8 mV
    assert ea - E_FORMAL == pytest.approx(1.109 * VT, abs=1e-3)  # Nicholson-Shain, 28.5 mV
    # the soluble product: R flows in where O flows out, at every step
    flux_o = column(h, ["boundaries", "xmin", "flux", "Ox"])
    flux_r = column(h, ["boundaries", "xmin", "flux", "Red"])
    assert np.allclose(flux_r, -flux_o, rtol=0, atol=1e-12 * np.abs(flux_o).max())
    assert np.allclose(-FARADAY * flux_o, current, rtol=1e-12)
    for key in ("current", "electrode_potential", "potential"):
        assert h[-1]["boundaries"]["xmin"][key] == pytest.approx(
            result.summary["boundaries"]["xmin"][key], rel=1e-9, abs=1e-15)
    # steps: the peak is resolved by the error control alone (history ~4 mV apart there)
    assert result.summary["steps"] < 400

    # the migration correction at 1000:1 against pure diffusion with the same
    # (Nernst) surface ratio: c_R(0, t) = c/(1 + exp(F(E - E0')/RT))
    e_of_t = f"({E_FORMAL - WINDOW} + {V_SCAN}*({SWITCH} - abs(t - {SWITCH})))"
    reference = solve(femflux.load_case({
        "mesh": interval(6e-4, 1200), "model": {"kind": "diffusion", "temperature": T},
        "species": [{"name": "Red", "diffusivity": D_FC, "initial": 1.0}],
        "boundary": [{"name": "xmin", "concentration": {
            "Red": f"1/(1 + exp({1 / VT}*({e_of_t} - {E_FORMAL})))"}}],
        **transient(2 * SWITCH, 1e-4, 1e-4, [SWITCH])}))
    hr = reference.summary["history"]
    tr = column(hr, ["t"])
    ir = FARADAY * column(hr, ["boundaries", "xmin", "flux", "Red"])
    ra, rea, rc, rec = _cv_peaks(tr, ir, E_FORMAL - WINDOW + V_SCAN * (
        SWITCH - np.abs(tr - SWITCH)))
    assert ra == pytest.approx(randles_sevcik, rel=2e-3)  # the reference itself: +0.1 %
    assert ia == pytest.approx(ra, rel=3e-3)  # measured -0.06 % (cathodic: -0.12 %)
    assert ic == pytest.approx(rc, rel=3e-3)
    # measured +0.11 mV, -0.08 mV
    assert ea == pytest.approx(rea, abs=3e-4) and ec == pytest.approx(rec, abs=3e-4)


# -- linear sweep deposition: Berzins-Delahay ------------------------------------------


def test_metal_deposition_sweep_berzins_delahay():
    """Cu2+ + 2 e- <=> Cu(s), 1 mM Cu(NO3)2 in 1 M KNO3, swept cathodically at
    0.1 V/s from the Nernst potential of the bulk (no current at t = 0), fast
    kinetics: i_p = 0.6105 (n F)^1.5 c sqrt(D v/RT)."""
    n, c, D, v, e_eq = 2, 1.0, 7.2e-10, 0.1, 0.34
    start = float(e_eq + VT / n * np.log(c / 1000.0))  # c_ref = 1000 mol/m^3
    salt = 1000.0
    species = [{"name": "Cu", "charge": 2, "diffusivity": D, "initial": c},
               {"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": salt},
               {"name": "NO3", "charge": -1, "diffusivity": 1.9e-9, "initial": salt + 2 * c}]
    bv = {"species": "Cu", "electrons": n, "exchange_current": 1e5,
          "equilibrium_potential": e_eq}
    case = npp(interval(3e-4, 600), species,
               [{"name": "xmin", "potential": f"{start} - {v}*t", "butler_volmer": bv},
                {"name": "xmax", "potential": 0.0,
                 "concentration": {"Cu": c, "K": salt, "NO3": salt + 2 * c}}],
               **transient(3.0, 1e-4, 1e-4))
    h = solve(case).summary["history"]
    t = column(h, ["t"])
    current = column(h, ["boundaries", "xmin", "current"])  # cathodic: Cu2+ leaves
    assert abs(current[0]) < 1e-6
    ip, _ = peak(t, current, t > 0)
    berzins_delahay = 0.6105 * (n * FARADAY) ** 1.5 * c * np.sqrt(D * v / (R * T))
    assert ip == pytest.approx(berzins_delahay, rel=0.03)  # measured -0.2 %
    assert np.allclose(current, n * FARADAY * column(h, ["boundaries", "xmin", "flux", "Cu"]),
                       rtol=1e-12, atol=0)


# -- the cases ---------------------------------------------------------------------------


def _case_script(name):
    sys.path.insert(0, str(CASES))
    return __import__(name)


def test_hydrogen_permeation_case_time_lag_and_exit_flux():
    """cases/hydrogen_permeation.toml: the exit flux from history against the
    series solution, the time lag against L^2/(6D) (README numbers)."""
    script = _case_script("hydrogen_permeation")
    result = femflux.solve(femflux.load_case(CASES / "hydrogen_permeation.toml"))
    t, flux = script.exit_flux(result)
    L, D, c0 = script.L, script.D, script.C0
    j_ss = D * c0 / L
    k = np.arange(1, 400)[:, None]
    series = j_ss * (1 + 2 * np.sum((-1.0) ** k * np.exp(-(k * np.pi) ** 2 * D * t / L**2),
                                    axis=0))
    lag = L**2 / (6 * D)
    late = t > 0.1 * lag  # where 400 terms of the series converge
    assert np.max(np.abs(flux[late] - series[late])) < 2e-3 * j_ss  # measured 4.6e-4
    assert flux[-1] == pytest.approx(j_ss, rel=1e-4)
    assert script.time_lag(t, flux) == pytest.approx(lag, rel=0.01)  # measured -0.04 %
    # the asymptote of the permeated amount crosses zero at the same time
    amount = np.concatenate([[0.0], np.cumsum(0.5 * (flux[1:] + flux[:-1]) * np.diff(t))])
    fit = np.polyfit(t[t > 5 * lag], amount[t > 5 * lag], 1)
    assert -fit[1] / fit[0] == pytest.approx(lag, rel=0.01)
    assert FARADAY * j_ss * 1e2 == pytest.approx(0.965, rel=1e-3)  # README: uA/cm^2
    assert result.summary["steps"] < 500  # 407: the drift control (293 before, half as accurate)


def test_ferrocenemethanol_cv_case():
    """cases/ferrocenemethanol_cv.toml (0.1 M KCl, 0.6 mm of solution): the
    README numbers; the anodic peak within 1 % of Randles-Sevcik, the peak
    separation within 3 mV of 2.22 RT/F against the iR-free potential, and the
    ohmic drop (~1 mV per peak) added against the applied one."""
    script = _case_script("ferrocenemethanol_cv")
    result = femflux.solve(femflux.load_case(CASES / "ferrocenemethanol_cv.toml"))
    cv = script.voltammogram(result)
    ia, ea, ic, ec = script.peaks(cv)
    _, ea_raw, _, ec_raw = script.peaks(cv, "applied")
    assert ia == pytest.approx(script.randles_sevcik(), rel=0.01)  # measured -0.2 %
    assert ia == pytest.approx(2.37, abs=0.005)  # README
    assert abs((ea - ec) - 2.22 * VT) < 3e-3
    assert (ea - ec) * 1e3 == pytest.approx(58.5, abs=0.1)  # README
    assert (ea_raw - ec_raw) * 1e3 == pytest.approx(60.2, abs=0.1)  # README
    assert result.summary["steps"] < 400
