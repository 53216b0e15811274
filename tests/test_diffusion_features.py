"""Diffusion model features: boundary conditions, regions, partitioning,
conservation of the reported fluxes, and the exact Jacobian."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_case

from femflux.simulation import prepare, solve


def _interval(length=1e-4, cells=20, **extra):
    return {"generate": {"shape": "interval", "length": [length], "cells": [cells]}, **extra}


def test_mass_transfer_series_resistance():
    D, L, k, c0, cb = 1e-9, 1e-4, 2e-5, 10.0, 1.0
    case = make_case(
        mesh=_interval(L, 10),
        species=[{"name": "A", "diffusivity": D}],
        boundary=[{"name": "xmin", "concentration": {"A": c0}},
                  {"name": "xmax", "mass_transfer": {"A": {"coefficient": k, "bulk": cb}}}],
    )
    b = solve(case).summary["boundaries"]
    expected = (c0 - cb) / (L / D + 1 / k)
    assert b["xmax"]["flux"]["A"] == pytest.approx(expected, rel=1e-10)
    assert b["xmin"]["flux"]["A"] == pytest.approx(-expected, rel=1e-10)


def test_inward_flux_gives_linear_profile():
    D, L, g = 1e-9, 1e-4, 1e-6
    case = make_case(
        mesh=_interval(L, 10),
        species=[{"name": "A", "diffusivity": D}],
        boundary=[{"name": "xmin", "inward_flux": {"A": g}},
                  {"name": "xmax", "concentration": {"A": 1.0}}],
    )
    result = solve(case)
    x = result.mesh.mesh.p[0]
    assert np.allclose(result.fields["A"], 1.0 + g * (L - x) / D, rtol=1e-10)
    assert result.summary["boundaries"]["xmin"]["flux"]["A"] == pytest.approx(-g)
    assert result.summary["boundaries"]["xmax"]["flux"]["A"] == pytest.approx(g, rel=1e-9)
    # J = -D dc/dx = +g everywhere (cell data, 3 components)
    assert np.allclose(result.cell_fields["J_A"][:, 0], g, rtol=1e-9)


def test_time_dependent_boundary_expression_and_output_times(tmp_path):
    case = make_case(
        mesh=_interval(1e-4, 10),
        species=[{"name": "A", "diffusivity": 1e-9}],
        boundary=[{"name": "xmin", "concentration": {"A": "1 + t"}}],
        solver={"steady": False, "t_end": 2.0, "dt": 0.01},
        output={"times": [0.5, 1.25]},
    )
    result = solve(case)
    times = [frame.t for frame in result.series]
    assert any(abs(t - 0.5) < 1e-12 for t in times)
    assert any(abs(t - 1.25) < 1e-12 for t in times)
    assert times[0] == 0.0 and times[-1] == pytest.approx(2.0)
    assert result.fields["A"][0] == pytest.approx(3.0)
    folder = result.save(tmp_path / "out")
    pvd = (folder / "series.pvd").read_text()
    assert pvd.count("<DataSet") == len(result.series)
    assert (folder / "step_00000.vtu").exists()


def test_conservation_of_reported_fluxes_transient():
    """sum of outward boundary fluxes + d(amount)/dt = volume reaction term."""
    case = make_case(
        mesh={"generate": {"shape": "rectangle", "length": [1e-4, 5e-5], "cells": [12, 6]}},
        species=[{"name": "A", "diffusivity": 1e-9, "initial": 1.0},
                 {"name": "B", "diffusivity": 5e-10, "initial": 0.0}],
        reaction=[{"equation": "A => B", "forward": 0.3}],
        boundary=[{"name": "xmin", "concentration": {"A": 2.0}},
                  {"name": "ymax", "inward_flux": {"B": 1e-7}},
                  {"name": "xmax", "mass_transfer": {"B": {"coefficient": 1e-6, "bulk": 0.1}}}],
        solver={"steady": False, "t_end": 0.5, "dt": 0.01, "scheme": "bdf1", "adaptive": False},
    )
    result = solve(case)
    hist = result.summary["history"]
    # BDF1: d(amount)/dt over the last step is the backward difference
    dt = hist[-1]["dt"]
    for name, nu in (("A", -1.0), ("B", 1.0)):
        rate = (hist[-1]["amount"][name] - hist[-2]["amount"][name]) / dt
        out = sum(b["flux"][name] for b in result.summary["boundaries"].values())
        reaction = nu * 0.3 * hist[-1]["amount"]["A"]  # first order: int k c_A
        assert out + rate == pytest.approx(reaction, rel=1e-8, abs=1e-12 * abs(reaction))


def _two_region_line(n=20, length=2e-4):
    """A 1D Gmsh-style mesh: regions "left" and "right", end points "start" and "end"."""
    import meshio

    x = np.linspace(0.0, length, n + 1)
    cells = np.column_stack([np.arange(n), np.arange(1, n + 1)])
    left = np.arange(n) < n // 2
    tags = [np.where(left, 1, 2), np.array([3, 4])]
    return meshio.Mesh(
        np.column_stack([x, np.zeros((n + 1, 2))]),
        [("line", cells), ("vertex", np.array([[0], [n]]))],
        cell_data={"gmsh:physical": tags, "gmsh:geometrical": tags},
        field_data={"left": np.array([1, 1]), "right": np.array([2, 1]),
                    "start": np.array([3, 0]), "end": np.array([4, 0])},
    )


@pytest.fixture
def two_region_mesh(tmp_path):
    path = tmp_path / "two.msh"
    import meshio

    meshio.write(path, _two_region_line(), file_format="gmsh22",
                 binary=False)
    return path


def test_series_diffusivities_and_restricted_species(two_region_mesh):
    D1, D2 = 1e-9, 4e-9
    case = make_case(
        mesh={"file": str(two_region_mesh)},
        species=[{"name": "A", "diffusivity": D1},
                 {"name": "B", "diffusivity": 1e-9, "regions": ["right"], "initial": 3.0}],
        region=[{"name": "right", "diffusivity": {"A": D2}}],
        boundary=[{"name": "start", "concentration": {"A": 1.0}},
                  {"name": "end", "concentration": {"A": 0.0}}],
    )
    result = solve(case)
    half = 1e-4
    flux = 1.0 / (half / D1 + half / D2)
    assert result.summary["boundaries"]["end"]["flux"]["A"] == pytest.approx(flux, rel=1e-9)
    # B: closed, lives on the right half only, keeps its amount, zero on the left
    amounts = result.summary["regions"]
    assert "B" not in amounts["left"]["amount"]
    assert amounts["right"]["amount"]["B"] == pytest.approx(3.0 * half, rel=1e-10)
    x = result.mesh.mesh.p[0]
    assert np.all(result.fields["B"][x < half - 1e-12] == 0.0)


def test_partitioning_where_activity_coefficient_jumps(two_region_mesh):
    # continuous mu = RT ln(gamma c): c_right / c_left = gamma_left / gamma_right
    case = make_case(
        mesh={"file": str(two_region_mesh)},
        species=[{"name": "H", "diffusivity": 1e-9, "initial": 1.0}],
        region=[{"name": "right", "activity_coefficient": {"H": 0.25}}],
    )
    result = solve(case)
    x = result.mesh.mesh.p[0]
    c = result.fields["H"]
    c_left, c_right = c[x < 0.9e-4].mean(), c[x > 1.1e-4].mean()
    assert c_right / c_left == pytest.approx(4.0, rel=1e-9)
    # the total amount is kept: (c_left + c_right) * half = 2 * half
    assert c_left + c_right == pytest.approx(2.0, rel=1e-9)
    mu = result.fields["mu_H"]
    assert np.ptp(mu) < 1e-6


@pytest.mark.parametrize("degree", [1, 2])
def test_jacobian_matches_finite_differences(degree):
    case = make_case(
        mesh={"generate": {"shape": "rectangle", "length": [1e-4, 1e-4], "cells": [3, 3]}},
        species=[{"name": "A", "diffusivity": 1e-9, "initial": "1 + 1e4*x"},
                 {"name": "B", "diffusivity": 2e-9, "initial": "0.5 + 1e4*y"},
                 {"name": "C", "diffusivity": 0.0, "initial": 0.2}],
        reaction=[{"equation": "A + 2 B <=> C", "forward": 3.0, "backward": 0.7}],
        boundary=[{"name": "xmax", "mass_transfer": {"A": {"coefficient": 1e-6, "bulk": 2.0}}}],
        solver={"degree": degree},
    )
    _, model = prepare(case)
    rng = np.random.default_rng(0)
    x = model.initial_state() * (1 + 0.1 * rng.random(model.n))
    F, J = model.flux(x, 0.0)
    J = J.toarray()
    eps = 1e-7
    fd = np.empty_like(J)
    for k in range(model.n):
        xp = x.copy()
        h = eps * max(abs(x[k]), 1.0)
        xp[k] += h
        fd[:, k] = (model.flux(xp, 0.0)[0] - F) / h
    assert np.max(np.abs(fd - J)) <= 1e-6 * np.max(np.abs(J))
