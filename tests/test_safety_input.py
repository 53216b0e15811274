"""Issue #15, classes 3, 4, 5 and 7: input that used to pass ``check`` and then
fail (or hang) in the solve.

3. every expression is evaluated where it applies at t = 0 (and up to t_end
   when it depends on t) before solving; Arrhenius rates are finite; the
   cost of parsing is bounded (min/max of many arguments, size, depth);
4. immobile species (diffusivity 0) solve, also as the only species and as
   the trapped partner of a reaction; |charge| > 100 is bad input; a mesh
   split by duplicate nodes is reported;
5. with electroneutrality a reservoir boundary (every ion held by
   concentration, no potential) has zero current, as ``applied_current = 0``;
7. error lines are one line and short, whatever the input.
"""

from __future__ import annotations

import json
import math
import time

import meshio
import numpy as np
import pytest
from conftest import STEADY_SLAB, error_line, write

import femflux
from femflux import cli
from femflux.case.expressions import MAX_ARGUMENTS, MAX_DEPTH, MAX_NODES, Expression
from femflux.physics.constants import FARADAY
from femflux.results.case_toml import dump_toml

R = 8.314462618


def in_process(capsys, *args) -> tuple[int, str, str]:
    """``femflux ARGS`` through its Python entry: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def slab(**sections) -> dict:
    data = {"mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [8]}},
            "model": {"kind": "diffusion"},
            "species": [{"name": "A", "diffusivity": 1e-9}],
            "boundary": [{"name": "xmin", "concentration": {"A": 1.0}}]}
    data.update(sections)
    return data


TRANSIENT = {"steady": False, "t_end": 1.0, "dt": 0.1}
NPP = {"kind": "nernst-planck-poisson"}
IONS = [{"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": 10.0},
        {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": 10.0}]
STRESS = {"kind": "stress-diffusion"}


# -- 3. every expression is evaluated before solving -----------------------------------

@pytest.mark.parametrize("data, key, point", [
    (slab(boundary=[{"name": "xmin", "inward_flux": {"A": "1/x"}}], solver=TRANSIENT),
     "boundary 'xmin': inward_flux.A", "(0) m"),
    (slab(boundary=[{"name": "xmax", "inward_flux": {"A": "1/(x - 1)"}}], solver=TRANSIENT),
     "boundary 'xmax': inward_flux.A", "(1) m"),
    (slab(boundary=[{"name": "xmin", "inward_flux": {"A": "exp(1000*t)"}}], solver=TRANSIENT),
     "boundary 'xmin': inward_flux.A", "t = 0.75 s"),
    (slab(boundary=[{"name": "xmin", "mass_transfer": {"A": {"coefficient": "log(x)",
                                                              "bulk": 1.0}}}]),
     "mass_transfer.A.coefficient", "(0) m"),
    (slab(model=NPP, species=IONS, boundary=[{"name": "xmin", "potential": "log(x)"}]),
     "boundary 'xmin': potential", "(0) m"),
    (slab(model=NPP, species=IONS, boundary=[{"name": "xmin", "surface_charge": "1/x"}]),
     "boundary 'xmin': surface_charge", "(0) m"),
    (slab(model=NPP, species=IONS, solver=TRANSIENT,
          boundary=[{"name": "xmin", "potential": 0.0},
                    {"name": "xmax", "concentration": {"K": 10.0, "Cl": 10.0},
                     "applied_current": "1/(t - 0.5)"}]),
     "boundary 'xmax': applied_current", "t = 0.5 s"),
    (slab(model=STRESS, boundary=[{"name": "xmin", "displacement": [0.0]},
                                  {"name": "xmax", "traction": ["1/(1 - x)"]}]),
     "boundary 'xmax': traction[0]", "(1) m"),
    (slab(model=STRESS, boundary=[{"name": "xmin", "displacement": ["sqrt(x - 1e-9)"]}]),
     "boundary 'xmin': displacement[0]", "(0) m"),
    (slab(model=STRESS, boundary=[{"name": "xmin", "displacement": [0.0]},
                                  {"name": "xmax", "pressure": "1/(x - 1)"}]),
     "boundary 'xmax': pressure", "(1) m"),
    (slab(trap=[{"species": "A", "density": "1/x", "trapping": 1.0, "detrapping": 1.0}]),
     "trap 0: density", "(0) m"),
])
def test_an_expression_that_is_not_finite_where_it_applies_is_bad_input(tmp_path, capsys,
                                                                         data, key, point):
    path = write(tmp_path, "case.toml", dump_toml(data))
    for command in ("check", "run"):
        code, out, err = in_process(capsys, command, path, *(["--out", tmp_path / "res"]
                                                             if command == "run" else []))
        line = error_line(err)
        assert code == 2, err
        assert key in line and "is not finite" in line and point in line, line
        assert not (tmp_path / "res").exists()


def test_a_steady_run_evaluates_time_dependent_expressions_at_t0_only(tmp_path, capsys):
    data = slab(boundary=[{"name": "xmin", "concentration": {"A": 1.0}},
                          {"name": "xmax", "inward_flux": {"A": "1/(t - 0.5)"}}])
    code, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert code == 0, err


@pytest.mark.parametrize("where, entry", [
    ("trap 0: trapping", {"trap": [{"species": "A", "density": 1.0, "detrapping": 1.0,
                                    "trapping": {"pre": 1.0, "energy": -1e8}}]}),
    ("surface_kinetics.dissociation", {"boundary": [{"name": "xmin", "surface_kinetics": {
        "dissociation": {"pre": 1.0, "energy": -1e8}, "recombination": 1.0,
        "pressure": 1.0}}]}),
    ("species 'A': diffusivity", {"species": [{"name": "A", "diffusivity": {
        "pre": 1e-7, "energy": -1e8}}]}),
    ("reaction 0 ('A =>'): forward", {"reaction": [{"equation": "A =>", "forward": {
        "pre": 1.0, "energy": -1e8}}]}),
])
def test_arrhenius_rates_that_overflow_are_bad_input(tmp_path, capsys, where, entry):
    path = write(tmp_path, "case.toml", dump_toml(slab(**entry)))
    code, _, err = in_process(capsys, "check", path)
    assert code == 2 and where in error_line(err) and "not finite" in err


def test_a_temperature_program_must_stay_positive_until_t_end(tmp_path, capsys):
    data = slab(model={"kind": "diffusion", "temperature": "300 - 1000*t"}, solver=TRANSIENT,
                species=[{"name": "A", "diffusivity": {"pre": 1e-7, "energy": 1e4}}])
    code, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert code == 2 and "[model] temperature" in error_line(err) and "t = 0.5 s" in err


def test_min_and_max_of_many_arguments_are_fast_and_exact():
    terms = [f"sin({k}*x + y*t)" for k in range(MAX_ARGUMENTS)]
    x = np.linspace(0.0, 1.0, 7)
    started = time.perf_counter()
    biggest = Expression("max(" + ", ".join(terms) + ")")
    smallest = Expression("min(" + ", ".join(terms[1:]) + ", 0.25)")
    got_max = biggest(x=x, y=0.5, t=2.0)
    got_min = smallest(x=x, y=0.5, t=2.0)
    elapsed = time.perf_counter() - started
    exact = np.sin(np.arange(MAX_ARGUMENTS)[:, None] * x + 1.0)
    np.testing.assert_allclose(got_max, exact.max(axis=0), rtol=1e-14)
    np.testing.assert_allclose(got_min, np.minimum(exact[1:].min(axis=0), 0.25), rtol=1e-14)
    assert elapsed < 20, elapsed  # sympy's evaluated Max took minutes
    assert float(Expression("max(1, 3, 2)")) == 3.0 and float(Expression("min(1, -3)")) == -3


def test_long_sums_are_flat_and_exact():
    n = 300
    text = " + ".join(f"{k}*x" for k in range(n)) + " - t"
    assert Expression(text)(x=2.0, t=1.0) == pytest.approx(n * (n - 1) - 1.0, rel=1e-15)


@pytest.mark.parametrize("text, fragment", [
    ("max(" + ", ".join(f"x + {k}" for k in range(MAX_ARGUMENTS + 1)) + ")",
     f"at most {MAX_ARGUMENTS} arguments"),
    (" + ".join(["x*y"] * (MAX_NODES // 3 + 1)), f"more than {MAX_NODES}"),
    ("sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
     f"more than {MAX_DEPTH} levels"),
    ("**".join(["x"] * (MAX_DEPTH + 2)), f"more than {MAX_DEPTH} levels"),
])
def test_expressions_beyond_the_documented_size_are_bad_input(tmp_path, capsys, text,
                                                              fragment):
    data = slab(boundary=[{"name": "xmin", "inward_flux": {"A": text}}], solver=TRANSIENT)
    started = time.perf_counter()
    code, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert time.perf_counter() - started < 10
    assert code == 2
    line = error_line(err)
    assert fragment in line and "inward_flux.A" in line and len(line) < 1100


# -- 4. immobile species, absurd charges, split meshes --------------------------------

def test_an_immobile_only_species_decays_exactly(tmp_path):
    """dA/dt = -k A with D = 0: A(t) = A0 exp(-k t) at every node."""
    data = slab(species=[{"name": "A", "diffusivity": 0.0, "initial": 2.0}], boundary=[],
                reaction=[{"equation": "A =>", "forward": 3.0}],
                solver={"steady": False, "t_end": 1.0, "dt": 0.01, "time_rtol": 1e-6})
    result = femflux.solve(data)
    assert result.summary["converged"]
    np.testing.assert_allclose(result.fields["A"], 2.0 * math.exp(-3.0), rtol=1e-3)


def test_an_immobile_only_species_collects_its_inward_flux():
    """With D = 0 the inward flux stays where it enters: the amount grows by q t."""
    q, t_end = 0.5, 2.0
    data = slab(species=[{"name": "A", "diffusivity": 0.0, "initial": 1.0}],
                boundary=[{"name": "xmin", "inward_flux": {"A": q}}],
                solver={"steady": False, "t_end": t_end, "dt": 0.25})
    result = femflux.solve(data)
    x, c = result.mesh.mesh.p[0], result.fields["A"]
    order = np.argsort(x)
    x, c = x[order], c[order]
    assert np.trapezoid(c, x) == pytest.approx(1.0 + q * t_end, rel=1e-12)
    np.testing.assert_allclose(c[1:], 1.0, rtol=1e-12)  # nothing moves inside


def test_a_steady_run_with_a_species_that_cannot_move_is_bad_input(tmp_path, capsys):
    data = slab(species=[{"name": "A", "diffusivity": 0.0, "initial": 1.0}])
    code, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert code == 2 and "species 'A': diffusivity 0 (immobile)" in error_line(err)
    data["reaction"] = [{"equation": "A =>", "forward": 1.0}]  # then c = 0 is its equation
    code, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert code == 0, err


def test_trapping_written_as_a_reaction_with_immobile_partners():
    """H + S <=> HS, S and HS immobile, closed and uniform: the equilibrium
    kf H S = kb HS with H + HS = H0 and S + HS = S0 (a quadratic)."""
    kf, kb, H0, T0 = 2.0, 1.0, 1.0, 0.5
    data = {"mesh": {"generate": {"shape": "interval", "length": [1e-3], "cells": [4]}},
            "model": {"kind": "diffusion"},
            "species": [{"name": "H", "diffusivity": 1e-9, "initial": H0},
                        {"name": "S", "diffusivity": 0.0, "initial": T0},
                        {"name": "HS", "diffusivity": 0.0}],
            "reaction": [{"equation": "H + S <=> HS", "forward": kf, "backward": kb}],
            "solver": {"steady": False, "t_end": 30.0, "dt": 0.01}}
    result = femflux.solve(data)
    # kf (H0 - y)(T0 - y) = kb y
    b = kf * (H0 + T0) + kb
    y = (b - math.sqrt(b * b - 4 * kf * kf * H0 * T0)) / (2 * kf)
    np.testing.assert_allclose(result.fields["HS"], y, rtol=1e-6)
    np.testing.assert_allclose(result.fields["H"], H0 - y, rtol=1e-6)
    np.testing.assert_allclose(result.fields["S"], T0 - y, rtol=1e-6)


@pytest.mark.parametrize("charge, code", [(101, 2), (-101, 2), (100, 0)])
def test_absurd_charges_are_bad_input(tmp_path, capsys, charge, code):
    ions = [{"name": "K", "charge": charge, "diffusivity": 1e-9, "initial": 1.0},
            {"name": "Cl", "charge": -1, "diffusivity": 1e-9, "initial": float(charge)}]
    data = slab(model=NPP, species=ions, boundary=[{"name": "xmin", "potential": 0.0}])
    got, _, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(data)))
    assert got == code, err
    if code:
        assert "species 'K': charge must be in [-100, 100] (got" in error_line(err)


def two_squares(path, duplicate: bool):
    """Two unit squares side by side; their shared edge has its own nodes in
    each square when ``duplicate``."""
    points = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0], [2, 1, 0]]
    right = [1, 4, 5, 2]
    if duplicate:
        points += [[1, 0, 0], [1, 1, 0]]
        right = [6, 4, 5, 7]
    cells = [[0, 1, 2], [0, 2, 3], [right[0], right[1], right[2]],
             [right[0], right[2], right[3]]]
    tags = np.ones(4, dtype=int)
    mesh = meshio.Mesh(np.array(points, float), [("triangle", np.array(cells))],
                       cell_data={"gmsh:physical": [tags], "gmsh:geometrical": [tags]},
                       field_data={"body": np.array([1, 2])})
    meshio.write(path, mesh, file_format="gmsh22", binary=False)
    return path


@pytest.mark.parametrize("duplicate", [True, False])
def test_duplicate_nodes_splitting_a_mesh_are_reported(tmp_path, capsys, duplicate):
    mesh = two_squares(tmp_path / "squares.msh", duplicate)
    message = "2 duplicate nodes; the mesh has 2 disconnected parts"
    code, out, err = in_process(capsys, "info", mesh)
    assert code == 0, err
    assert (message in out) == duplicate
    case = {"mesh": {"file": "squares.msh"}, "model": {"kind": "diffusion"},
            "species": [{"name": "A", "diffusivity": 1e-9, "initial": 1.0}]}
    code, out, err = in_process(capsys, "check", write(tmp_path, "case.toml", dump_toml(case)))
    assert code == 0, err
    assert (f"warning: {tmp_path / 'squares.msh'}: {message}" in out
            or f"squares.msh: {message}" in out) == duplicate


# -- 5. electroneutral reservoirs -------------------------------------------------------

def junction(dim: int = 1, xmin_potential: bool = True, applied: bool = False) -> dict:
    """KCl, 10 mM at xmin and 1 mM at xmax, electroneutral, 100 um."""
    shape = {1: "interval", 2: "rectangle"}[dim]
    generate = {"shape": shape, "length": [1e-4, 2e-5][:dim], "cells": [200, 2][:dim]}
    xmin = {"name": "xmin", "concentration": {"K": 10.0, "Cl": 10.0}}
    xmax = {"name": "xmax", "concentration": {"K": 1.0, "Cl": 1.0}}
    if xmin_potential:
        xmin["potential"] = 0.0
    if applied:
        xmax["applied_current"] = 0.0
    return {"mesh": {"generate": generate}, "model": NPP, "species": IONS,
            "electrostatics": {"electroneutral": True}, "boundary": [xmin, xmax]}


def planck(c1: float, c2: float, L: float) -> tuple[float, float]:
    """A 1:1 salt between c1 (x = 0) and c2 (x = L) at zero current: phi(L) - phi(0)
    = (RT/F) (D+ - D-)/(D+ + D-) ln(c1/c2), salt flux 2 D+ D-/(D+ + D-) (c1 - c2)/L."""
    dp, dm = IONS[0]["diffusivity"], IONS[1]["diffusivity"]
    rt_f = R * 298.15 / FARADAY
    return rt_f * (dp - dm) / (dp + dm) * math.log(c1 / c2), 2 * dp * dm / (dp + dm) * (c1 - c2) / L


@pytest.mark.parametrize("dim", [1, 2])
def test_a_reservoir_without_potential_has_zero_current(dim):
    result = femflux.solve(junction(dim))
    s = result.summary
    dphi, flux = planck(10.0, 1.0, 1e-4)
    area = 2e-5 if dim == 2 else 1.0
    xmax = s["boundaries"]["xmax"]
    assert xmax["potential"] - s["boundaries"]["xmin"]["potential"] == pytest.approx(dphi,
                                                                                     rel=2e-3)
    assert xmax["flux"]["K"] == pytest.approx(flux * area, rel=1e-4)
    assert abs(xmax["current"]) < 1e-9 * FARADAY * flux * area
    assert any("'xmax'" in m and "zero current" in m for m in s["solver_messages"])
    explicit = femflux.solve(junction(dim, applied=True)).summary
    assert explicit["boundaries"]["xmax"]["potential"] == pytest.approx(xmax["potential"],
                                                                        rel=1e-10, abs=1e-15)
    assert explicit["boundaries"]["xmax"]["flux"] == pytest.approx(xmax["flux"], rel=1e-10)


def test_two_reservoirs_without_any_potential_keep_the_mean_gauge(tmp_path, capsys):
    path = write(tmp_path, "case.toml", dump_toml(junction(xmin_potential=False)))
    code, _, err = in_process(capsys, "run", path, "--quiet", "--out", tmp_path / "res")
    assert code == 0, err
    s = json.loads((tmp_path / "res" / "summary.json").read_text())
    b = s["boundaries"]
    dphi, flux = planck(10.0, 1.0, 1e-4)
    assert b["xmax"]["potential"] - b["xmin"]["potential"] == pytest.approx(dphi, rel=2e-3)
    assert b["xmax"]["flux"]["Cl"] == pytest.approx(flux, rel=1e-4)
    assert abs(b["xmin"]["current"]) < 1e-9 * FARADAY * flux
    assert any("mean of phi is fixed to 0" in m for m in s["solver_messages"])
    result = femflux.solve(junction(xmin_potential=False))
    x, phi = result.mesh.mesh.p[0], result.fields["phi"]
    order = np.argsort(x)
    assert abs(np.trapezoid(phi[order], x[order])) < 1e-9 * 1e-4 * abs(dphi)


# -- 7. error lines --------------------------------------------------------------------

BIG = "q" * 1_000_000


@pytest.mark.parametrize("args", [
    ["--set", f"species.A.diffusivity={BIG}"],
    ["--set", f"{BIG}=1"],
    ["--set", f'boundary.xmin.concentration.A="{BIG}"'],
    ["--set", f'title="{BIG}"', "--set", "solver.dt=-1"],
    ["--set", f'species.A.name="{BIG}"'],
    [f"--{BIG}"],
])
def test_error_lines_are_one_short_line(tmp_path, capsys, args):
    path = write(tmp_path, "slab.toml", STEADY_SLAB)
    code, out, err = in_process(capsys, "check", path, *args)
    assert code == 2
    assert out == ""
    assert len(error_line(err)) < 1100


def test_fixed_steps_that_keep_failing_end_with_exit_3(tmp_path):
    """Fixed steps with one Newton iteration towards a blow-up (dc/dt = c^2,
    c(0) = 1: infinite at t = 1) used to crawl for hours (cut, accepted, back to
    dt, cut again); now exit 3 after 20 attempts per step of dt (+1000), with
    the last converged state written."""
    from conftest import BLOWUP_CASE, femflux_cli

    write(tmp_path, "b.toml", BLOWUP_CASE + "[solver]\nsteady = false\nt_end = 1.0\n"
          "dt = 0.01\nadaptive = false\nmax_newton = 1\n")
    started = time.perf_counter()
    code, _, err = femflux_cli("run", "b.toml", "--out", "r", cwd=tmp_path, timeout=120)
    assert code == 3, err
    assert "fixed steps keep failing" in error_line(err)
    assert time.perf_counter() - started < 60
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["converged"] is False and 0.5 < summary["history"][-1]["t"] < 1.0
