"""Verification of the diffusion model against independent references:
manufactured solutions (L2 order 2 for P1), the erfc solution, first-order
reaction kinetics and slab fluxes D A dc/L in every geometry."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import l2_error, make_case
from scipy.special import erfc

from femflux.simulation import prepare, solve
from femflux.solver import NewtonOptions, Stats, solve_steady

# ---------------------------------------------------------------------------
# Manufactured solutions
# ---------------------------------------------------------------------------

X, Y, Z = sp.symbols("x y z")


def _mms_error(shape, cells, exact, dirichlet, axisymmetric=False, D=1.5):
    """Solve -div(D grad c) = f with c = exact on ``dirichlet`` boundaries; L2 error."""
    dim = {"rectangle": 2, "box": 3}[shape]
    coords = (X, Y, Z)[:dim]
    if axisymmetric:  # x is r, y is z
        r, z = X, Y
        lap = sp.diff(r * sp.diff(exact, r), r) / r + sp.diff(exact, z, 2)
    else:
        lap = sum(sp.diff(exact, v, 2) for v in coords)
    source = sp.lambdify(coords, sp.simplify(-D * lap), "numpy")
    exact_fn = sp.lambdify(coords, exact, "numpy")
    text = str(exact).replace("**", "^").replace("^", "**")
    case = make_case(
        mesh={"generate": {"shape": shape, "length": [1.0] * dim, "cells": [cells] * dim},
              "axisymmetric": axisymmetric},
        species=[{"name": "A", "diffusivity": D}],
        boundary=[{"name": b, "concentration": {"A": text}} for b in dirichlet],
    )
    _, model = prepare(case)
    model.sources["A"] = lambda x, t: source(*x[:dim]) + 0.0 * x[0]
    snap = solve_steady(model, NewtonOptions(), "auto", Stats())
    return l2_error(model, "A", snap.x, lambda x: exact_fn(*x[:dim]))


def _orders(errors):
    return [errors[k + 1] / errors[k] for k in range(len(errors) - 1)]


def test_mms_2d_order_two():
    exact = 2 + sp.sin(2 * X) * sp.cos(3 * Y)
    errors = [_mms_error("rectangle", n, exact, ["xmin", "xmax", "ymin", "ymax"])
              for n in (8, 16, 32)]
    ratios = _orders(errors)
    assert all(0.2 < r < 0.3 for r in ratios), (errors, ratios)


def test_mms_3d_order_two():
    exact = 1 + sp.sin(X + 2 * Y) * sp.exp(Z)
    errors = [_mms_error("box", n, exact, ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"])
              for n in (4, 8, 16)]
    ratios = _orders(errors)
    assert all(0.2 < r < 0.3 for r in ratios), (errors, ratios)


def test_mms_axisymmetric_order_two():
    # dc/dr = 0 on the axis, so the axis needs no condition (natural symmetry)
    exact = 2 + sp.cos(X**2) * sp.sin(2 * Y) + X**2 * Y
    errors = [_mms_error("rectangle", n, exact, ["xmax", "ymin", "ymax"], axisymmetric=True)
              for n in (8, 16, 32)]
    ratios = _orders(errors)
    assert all(0.2 < r < 0.3 for r in ratios), (errors, ratios)


# ---------------------------------------------------------------------------
# Transient: semi-infinite medium, erfc
# ---------------------------------------------------------------------------

D_ERFC, L_ERFC, T_ERFC = 1e-9, 1e-3, 10.0


def _erfc_run(**solver):
    case = make_case(
        mesh={"generate": {"shape": "interval", "length": [L_ERFC], "cells": [400]}},
        species=[{"name": "A", "diffusivity": D_ERFC, "initial": 0.0}],
        boundary=[{"name": "xmin", "concentration": {"A": 1.0}}],
        solver={"steady": False, "t_end": T_ERFC, **solver},
    )
    result = solve(case)
    x = result.mesh.mesh.p[0]
    exact = erfc(x / (2 * np.sqrt(D_ERFC * T_ERFC)))
    return result, float(np.max(np.abs(result.fields["A"] - exact)))


def test_erfc_adaptive_bdf2():
    result, error = _erfc_run(dt=1e-4, scheme="bdf2")
    assert error < 1e-3
    # the step grows: far fewer steps than t_end / dt
    assert result.summary["steps"] < 200
    # amount that entered = the flux integral of erfc: 2 c0 sqrt(D t / pi)
    amount = result.summary["regions"]["domain"]["amount"]["A"]
    assert amount == pytest.approx(2 * np.sqrt(D_ERFC * T_ERFC / np.pi), rel=2e-3)


def test_erfc_error_control_rejects_a_too_large_first_step():
    # A first step of the whole interval: the controller must reject and shrink it.
    controlled, error = _erfc_run(dt=T_ERFC, scheme="bdf2", adaptive=True)
    assert controlled.summary["rejected_steps"] >= 1
    assert error < 2e-3
    uncontrolled, error_fixed = _erfc_run(dt=T_ERFC, scheme="bdf1", adaptive=False)
    assert uncontrolled.summary["steps"] == 1
    assert error_fixed > 10 * error


def test_bdf2_is_second_order_in_time():
    errors = []
    for dt in (1.0, 0.5):
        _, error = _erfc_run(dt=dt, scheme="bdf2", adaptive=False)
        errors.append(error)
    # the spatial error (~1e-5 at 400 cells) is far below the temporal one here
    assert 0.18 < errors[1] / errors[0] < 0.32, errors


# ---------------------------------------------------------------------------
# Reactions
# ---------------------------------------------------------------------------


def test_first_order_reaction_equilibrium_and_rate():
    kf, kr = 2.0, 0.5
    case = make_case(
        mesh={"generate": {"shape": "interval", "length": [1e-3], "cells": [4]}},
        species=[{"name": "A", "diffusivity": 1e-9, "initial": 1.0},
                 {"name": "B", "diffusivity": 1e-9, "initial": 0.0}],
        reaction=[{"equation": "A <=> B", "forward": kf, "backward": kr}],
        solver={"steady": False, "t_end": 3.0, "dt": 2e-3, "adaptive": False},
    )
    result = solve(case)
    hist = result.summary["history"]
    t = np.array([h["t"] for h in hist])
    a = np.array([h["amount"]["A"] for h in hist]) / 1e-3
    b = np.array([h["amount"]["B"] for h in hist]) / 1e-3
    assert b[-1] / a[-1] == pytest.approx(kf / kr, rel=5e-3)
    # relaxation rate from a log-linear fit of A - A_eq
    a_eq = kr / (kf + kr)
    mask = (t > 0.1) & (t < 2.0)
    slope = np.polyfit(t[mask], np.log(a[mask] - a_eq), 1)[0]
    assert -slope == pytest.approx(kf + kr, rel=1e-2)
    # mass is conserved by the reaction
    assert np.allclose(a + b, 1.0, rtol=1e-9)


def test_steady_closed_species_keep_their_amount():
    # A <=> 2 B, closed: the steady state conserves A + B/2 at its initial value
    case = make_case(
        mesh={"generate": {"shape": "rectangle", "length": [1e-3, 1e-3], "cells": [6, 6]}},
        species=[{"name": "A", "diffusivity": 1e-9, "initial": "1 + 1000*x"},
                 {"name": "B", "diffusivity": 2e-9, "initial": 0.5}],
        reaction=[{"equation": "A <=> 2 B", "forward": 1.0, "backward": 4.0}],
    )
    result = solve(case)
    area = 1e-6
    a = result.summary["regions"]["domain"]["amount"]["A"] / area
    b = result.summary["regions"]["domain"]["amount"]["B"] / area
    total0 = 1.5 + 0.5 / 2  # mean of 1 + 1000 x is 1.5
    assert a + b / 2 == pytest.approx(total0, rel=1e-8)
    assert b**2 / a == pytest.approx(1.0 / 4.0, rel=1e-6)
    assert np.ptp(result.fields["A"]) < 1e-8 * a


# ---------------------------------------------------------------------------
# Slab fluxes D A dc / L in every geometry
# ---------------------------------------------------------------------------

D_SLAB, C_HIGH, C_LOW = 2e-9, 10.0, 2.0


def _slab(mesh, low, high):
    case = make_case(
        mesh=mesh,
        species=[{"name": "K", "diffusivity": D_SLAB}],
        boundary=[{"name": low, "concentration": {"K": C_HIGH}},
                  {"name": high, "concentration": {"K": C_LOW}}],
    )
    return solve(case).summary["boundaries"]


def test_slab_flux_1d():
    b = _slab({"generate": {"shape": "interval", "length": [1e-4], "cells": [7]}},
              "xmin", "xmax")
    expected = D_SLAB * (C_HIGH - C_LOW) / 1e-4  # per m^2
    assert b["xmax"]["flux"]["K"] == pytest.approx(expected, rel=1e-10)
    assert b["xmin"]["flux"]["K"] == pytest.approx(-expected, rel=1e-10)


def test_slab_flux_2d_per_metre_depth():
    b = _slab({"generate": {"shape": "rectangle", "length": [1e-4, 3e-5], "cells": [9, 4]}},
              "xmin", "xmax")
    expected = D_SLAB * 3e-5 * (C_HIGH - C_LOW) / 1e-4
    assert b["xmax"]["flux"]["K"] == pytest.approx(expected, rel=1e-10)
    assert b["ymin"]["flux"]["K"] == 0.0
    assert b["xmax"]["measure"] == pytest.approx(3e-5, rel=1e-12)


@pytest.mark.parametrize("cell", ["simplex", "hex"])
def test_slab_flux_3d(cell):
    b = _slab({"generate": {"shape": "box", "length": [1e-4, 2e-5, 3e-5], "cells": [5, 3, 2],
                            "cell": cell}}, "xmin", "xmax")
    expected = D_SLAB * 6e-10 * (C_HIGH - C_LOW) / 1e-4
    assert b["xmax"]["flux"]["K"] == pytest.approx(expected, rel=1e-9)
    assert b["xmin"]["flux"]["K"] == pytest.approx(-expected, rel=1e-9)


def test_slab_flux_axisymmetric_includes_2_pi_r():
    radius, length = 5e-5, 1e-4
    b = _slab({"generate": {"shape": "rectangle", "length": [radius, length], "cells": [4, 8]},
               "axisymmetric": True}, "ymin", "ymax")
    expected = D_SLAB * np.pi * radius**2 * (C_HIGH - C_LOW) / length
    assert b["ymax"]["flux"]["K"] == pytest.approx(expected, rel=1e-9)
    assert b["ymax"]["measure"] == pytest.approx(np.pi * radius**2, rel=1e-12)


@pytest.mark.parametrize("symmetry", ["cylindrical", "spherical"])
def test_radial_shell_flux_1d(symmetry):
    r1, r2 = 1e-5, 3e-5
    mesh = {"generate": {"shape": "interval", "length": [r2 - r1], "cells": [64],
                         "origin": [r1]}, "symmetry": symmetry}
    b = _slab(mesh, "xmin", "xmax")
    if symmetry == "cylindrical":  # per metre of length
        expected = 2 * np.pi * D_SLAB * (C_HIGH - C_LOW) / np.log(r2 / r1)
        rel = 1e-3
    else:
        expected = 4 * np.pi * D_SLAB * (C_HIGH - C_LOW) / (1 / r1 - 1 / r2)
        rel = 1e-3
    assert b["xmax"]["flux"]["K"] == pytest.approx(expected, rel=rel)
    assert b["xmin"]["flux"]["K"] == pytest.approx(-expected, rel=rel)


def test_time_tolerance_key_tightens_the_error_control():
    loose, error_loose = _erfc_run(dt=1e-4, scheme="bdf2", time_rtol=1e-2)
    tight, error_tight = _erfc_run(dt=1e-4, scheme="bdf2", time_rtol=1e-4)
    assert tight.summary["steps"] > 2 * loose.summary["steps"]
    assert error_tight < error_loose
