"""Every case in cases/ runs and gives the number its README line states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import femflux

CASES = Path(__file__).resolve().parents[1] / "cases"


def test_every_case_is_tested():
    tested = {"porous_electrode", "pipette_tip", "copper_polarisation", "nanopore",
              "conical_nanopore", "lithium_particle"}
    assert {p.stem for p in CASES.glob("*.toml")} <= tested | set(_OTHER_MODEL_CASES)


#: cases whose regression tests live with their model's tests
_OTHER_MODEL_CASES = [
    "hydrogen_notched_plate", "stressed_rod",  # tests/test_stress_diffusion.py
    "spinodal_bm1a", "spinodal_sphere_3d", "darken_fe_si_c", "ternary_couple",  # test_onsager
]


def test_pipette_tip_release_rate():
    result = femflux.solve(femflux.load_case(CASES / "pipette_tip.toml"))
    flux = result.summary["boundaries"]["bath_far"]["flux"]["FcMeOH"]
    D, c, a, theta, length = 7.8e-10, 10.0, 50e-9, np.radians(7.0), 4e-6
    r_top = a + length * np.tan(theta)
    cone = np.pi * D * c * np.tan(theta) / (1 / a - 1 / r_top)
    access = 4 * D * c * a
    estimate = 1 / (1 / cone + 1 / access)
    assert flux == pytest.approx(estimate, rel=0.05)
    # everything released at the top leaves through the far bath boundary
    assert result.summary["boundaries"]["pipette_top"]["flux"]["FcMeOH"] == pytest.approx(
        -flux, rel=1e-8)


def test_porous_electrode_depletion():
    result = femflux.solve(femflux.load_case(CASES / "porous_electrode.toml"))
    b = result.summary["boundaries"]
    consumption = 3.109e-4 * b["particles"]["measure"]
    assert b["particles"]["flux"]["salt"] == pytest.approx(consumption, rel=1e-10)
    # after ~6 diffusion times the separator feeds the particles (quasi-steady)
    assert -b["separator"]["flux"]["salt"] == pytest.approx(consumption, rel=0.01)
    salt = result.fields["salt"]
    assert 850.0 < salt.min() < 950.0 and salt.max() == pytest.approx(1000.0)
    assert len(result.series) >= 5


def test_copper_polarisation_open_circuit_and_limiting_current():
    import sys

    sys.path.insert(0, str(CASES))
    from copper_polarisation import limiting_current, polarisation_curve

    from femflux.models.nernst_planck import FARADAY

    vt = 8.314462618 * 298.15 / FARADAY
    nernst = 0.34 + vt / 2 * np.log(10.0 / 1000.0)  # phi_M - phi_bulk at i = 0
    i_open, i_deep = polarisation_curve([nernst, -0.3])
    assert abs(i_open) < 1e-6 * abs(limiting_current())
    assert i_deep == pytest.approx(limiting_current(), rel=5e-3)
    # the case file itself: a cathodic point between the two
    result = femflux.solve(femflux.load_case(CASES / "copper_polarisation.toml"))
    flux = result.summary["boundaries"]["xmin"]["flux"]["Cu"]
    assert 0.1 < -2 * FARADAY * flux / limiting_current() < 0.5


def test_conical_nanopore_rectifies():
    """Negative wall charge: the pore conducts more with the base side negative."""
    currents = {}
    for v in (-1.0, 1.0):
        case = femflux.load_case(CASES / "conical_nanopore.toml",
                                 overrides={"boundary.top.potential": v})
        b = femflux.solve(case).summary["boundaries"]
        assert b["top"]["current"] == pytest.approx(-b["bottom"]["current"], rel=1e-6)
        currents[v] = -b["top"]["current"]
    ratio = abs(currents[-1.0] / currents[1.0])
    assert currents[-1.0] < 0 < currents[1.0]
    assert 2.5 < ratio < 3.5  # 2.94 on this mesh


def test_nanopore_conductance():
    result = femflux.solve(femflux.load_case(CASES / "nanopore.toml"))
    b = result.summary["boundaries"]
    conductance = -b["top"]["current"] / 0.1
    assert b["top"]["current"] == pytest.approx(-b["bottom"]["current"], rel=1e-6)
    # between the bulk pore conductance (with access resistance) and bulk + surface
    import sys

    sys.path.insert(0, str(CASES))
    from nanopore_conductance import models

    bulk, surface, with_access = models(10.0)
    assert with_access < conductance < bulk + surface


def test_lithium_particle_stress_builds_towards_the_sphere_limit():
    import sys

    sys.path.insert(0, str(CASES))
    from lithium_particle import long_time_centre_stress, stress_history

    case = femflux.load_case(CASES / "lithium_particle.toml")
    times, stresses, result = stress_history(case)
    assert result.summary["converged"]
    # the inserted amount equals the applied flux times the surface and time
    area = result.summary["boundaries"]["surface"]["measure"]
    amount = result.summary["regions"]["particle"]["amount"]["Li"]
    assert amount == pytest.approx(7.6e-6 * area * 600.0, rel=1e-6)
    # tension grows monotonically and levels off near the sphere's long-time value
    assert np.all(np.diff(stresses) > -1e-3 * stresses.max())
    assert stresses[-1] == pytest.approx(long_time_centre_stress(), rel=0.15)
