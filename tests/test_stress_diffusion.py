"""Stress-driven diffusion (SPEC 4.3) against independent references
(REFERENCES.md): the stressed rod flux, Boltzmann equilibrium in a bent beam,
the Lame sphere, diffusion-induced stress in a spherical particle (Zhang, Shyy
& Sastry 2007; Cheng & Verbrugge 2009) and its two-way D_eff = D (1 + theta c),
a manufactured solution of the coupled system, the exact Jacobian, rigid-body
removal and bad input.  The Lame sphere is solved in 1D (spherical), 2D
(axisymmetric) and on a 3D tetrahedral octant of the shell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import jacobian_error, l2_error
from scipy.constants import R

import femflux
from femflux.errors import CaseError
from femflux.simulation import prepare, solve
from femflux.solver import NewtonOptions, Stats, consistent_initial_state, solve_steady

T = 300.0
RT = R * T
OMEGA_H = 2.0e-6  # hydrogen in iron, m^3/mol
E, NU = 200e9, 0.3


def stress_case(mesh, species, boundary, elasticity=None, solver=None, **extra):
    data = {"mesh": mesh, "model": {"kind": "stress-diffusion", "temperature": T},
            "species": species, "boundary": boundary,
            "elasticity": dict({"youngs_modulus": E, "poisson_ratio": NU,
                                "chemical_expansion": False}, **(elasticity or {})),
            "solver": dict({"steady": True}, **(solver or {}))}
    data.update(extra)
    return femflux.load_case(data)


def hydrogen(initial=1.0, diffusivity=1e-9, omega=OMEGA_H):
    return [{"name": "H", "diffusivity": diffusivity, "initial": initial,
             "partial_molar_volume": omega}]


# -- the stressed rod: pure bending, sigma_yy = k x ------------------------------------

A_ROD, L_ROD = 1e-3, 4e-3  # half-width (x) and length (y), m
K_BEND = 1e9 / A_ROD  # Pa/m: sigma_yy = +-1 GPa at the faces


def _bent_rod(plane, cells=(16, 16), k=K_BEND, **kw):
    """sigma_yy = k x, all other stresses zero: tractions +-k x e_y on the ends,
    no displacement condition at all (rigid-body motion removed automatically).
    The exact displacement is quadratic, so P2 displacements reproduce it."""
    mesh = {"generate": {"shape": "rectangle", "length": [2 * A_ROD, L_ROD],
                         "cells": list(cells), "origin": [-A_ROD, 0.0]}}
    boundary = [{"name": "ymax", "traction": [0.0, f"{k}*x"]},
                {"name": "ymin", "traction": [0.0, f"-{k}*x"]}]
    return stress_case(mesh, hydrogen(**kw), boundary, elasticity={"plane": plane},
                       solver={"displacement_degree": 2})


def _sigma_h_exact(x, plane):
    factor = 1.0 / 3.0 if plane == "stress" else (1.0 + NU) / 3.0
    return factor * K_BEND * x


@pytest.mark.parametrize("plane", ["stress", "strain"])
def test_stressed_rod_flux_at_t0(plane):
    """Uniform c in a linear sigma_h field: J = D c Omega/(RT) dsigma_h/dx at t = 0."""
    _, model = prepare(_bent_rod(plane))
    x0 = consistent_initial_state(model)  # equilibrated displacement and sigma_h
    fields = model.point_fields(x0)
    p = model.fem_mesh.mesh.p
    interior = (np.abs(p[0]) < A_ROD * (1 - 1e-9)) & (p[1] > 1e-9 * L_ROD) \
        & (p[1] < L_ROD * (1 - 1e-9))
    assert np.allclose(fields["sigma_h"][interior], _sigma_h_exact(p[0][interior], plane),
                       atol=1e-6 * K_BEND * A_ROD)
    sigma = fields["sigma"].reshape(-1, 3, 3)
    assert np.allclose(sigma[interior, 1, 1], K_BEND * p[0][interior], atol=1e-6 * 1e9)
    zz = 0.0 if plane == "stress" else NU
    assert np.allclose(sigma[interior, 2, 2], zz * K_BEND * p[0][interior], atol=1e-6 * 1e9)
    assert np.allclose(np.abs(fields["u"]).mean(axis=0)[2], 0.0)
    J = model.cell_fields(x0)["J_H"]
    centroid = p[:, model.fem_mesh.mesh.t].mean(axis=1)
    inner = np.all(interior[model.fem_mesh.mesh.t], axis=0)
    D, c = 1e-9, 1.0
    expected = D * c * OMEGA_H / RT * _sigma_h_exact(1.0, plane)  # d sigma_h / dx
    assert np.allclose(J[inner, 0], expected, rtol=1e-6)
    assert np.allclose(J[inner, 1], 0.0, atol=1e-5 * expected)
    assert centroid.shape[1] == J.shape[0]


def test_hydrogen_in_iron_at_one_gigapascal():
    """REFERENCES.md: hydrogen in iron (Omega = 2 cm^3/mol) at sigma_h = 1 GPa,
    300 K, is enriched to c/c0 = exp(Omega sigma_h/RT) = 2.23 over the
    stress-free metal.  The closed bent rod (plane strain) at equilibrium,
    bent so that sigma_h = (1 + nu)/3 k x = 1 GPa on the interior node line
    x = a/2: c there over c on the neutral axis x = 0."""
    k = 1e9 / ((1 + NU) / 3 * A_ROD / 2)
    result = solve(_bent_rod("strain", cells=(24, 8), k=k))
    assert result.summary["converged"]
    x, y = result.mesh.mesh.p
    interior = (y > 1e-9 * L_ROD) & (y < L_ROD * (1 - 1e-9))
    at_1gpa = interior & np.isclose(x, A_ROD / 2, rtol=0, atol=1e-9 * A_ROD)
    neutral = interior & np.isclose(x, 0.0, rtol=0, atol=1e-9 * A_ROD)
    assert np.count_nonzero(at_1gpa) == np.count_nonzero(neutral) == 7
    # interior nodes: the lumped sigma_h projection is exact for a linear field
    np.testing.assert_allclose(result.fields["sigma_h"][at_1gpa], 1e9, rtol=1e-9)
    np.testing.assert_allclose(result.fields["sigma_h"][neutral], 0.0, atol=1e-9 * 1e9)
    c = result.fields["H"]
    ratio = c[at_1gpa] / c[neutral]
    np.testing.assert_allclose(ratio, 2.23, atol=0.005)
    np.testing.assert_allclose(ratio, np.exp(OMEGA_H * 1e9 / RT), rtol=1e-9)  # 2.2296


@pytest.mark.parametrize("plane", ["stress", "strain"])
def test_bent_rod_reaches_boltzmann_equilibrium_and_keeps_its_amount(plane):
    """Closed body: c = c_avg exp(Omega sigma_h/RT) / <exp(Omega sigma_h/RT)>."""
    c_avg = 2.0
    result = solve(_bent_rod(plane, cells=(24, 8), initial=c_avg))
    assert result.summary["converged"]
    mesh = result.mesh.mesh
    x = mesh.p[0]
    boltzmann = np.exp(OMEGA_H * _sigma_h_exact(x, plane) / RT)
    # <.> over the rod: the volume mean of exp(Omega k' x/RT) across the width
    a = OMEGA_H * _sigma_h_exact(1.0, plane) / RT
    mean = np.sinh(a * A_ROD) / (a * A_ROD)
    exact = c_avg * boltzmann / mean
    c = result.fields["H"]
    # the lumped projection of sigma_h is exact for a linear field at nodes with a
    # centrally symmetric patch, and O(h) off on the boundary: sigma_h there is
    # off by h/2 times its slope (3 % of its maximum with 8 cells across), so c
    # by 0.8 % (plane stress) and 1.1 % (plane strain) at the faces x = +-a;
    # 4e-5 and 7e-5 inside
    assert np.max(np.abs(c - exact) / exact) < 0.015
    y = mesh.p[1]
    interior = (np.abs(x) < A_ROD * (1 - 1e-9)) & (y > 1e-9 * L_ROD) & (y < L_ROD * (1 - 1e-9))
    assert np.max(np.abs(c[interior] - exact[interior]) / exact[interior]) < 3e-4
    amount = result.summary["regions"]["domain"]["amount"]["H"]
    assert amount == pytest.approx(c_avg * 2 * A_ROD * L_ROD, rel=1e-10)
    # chemical potential uniform at equilibrium
    mu = result.fields["mu_H"]
    assert np.ptp(mu) < 1e-8 * RT


# -- Lame sphere ---------------------------------------------------------------------

A_IN, B_OUT, P_IN = 1e-3, 2e-3, 1e8


def _lame(r):
    k = P_IN * A_IN**3 / (B_OUT**3 - A_IN**3)
    return k * (1 - B_OUT**3 / r**3), k * (1 + B_OUT**3 / (2 * r**3)), k  # rr, tt, h


def test_lame_sphere_spherical_1d_hydrogen_equilibrium():
    mesh = {"generate": {"shape": "interval", "length": [B_OUT - A_IN], "cells": [200],
                         "origin": [A_IN]}, "symmetry": "spherical"}
    case = stress_case(mesh, hydrogen(initial=1.0),
                       [{"name": "xmin", "pressure": P_IN, "concentration": {"H": 1.0}}])
    result = solve(case)
    r = result.mesh.mesh.p[0]
    srr, stt, sh = _lame(r)
    sigma = result.fields["sigma"].reshape(-1, 3, 3)
    inner = (r > A_IN * 1.02) & (r < B_OUT * 0.98)
    assert np.allclose(sigma[inner, 0, 0], srr[inner], atol=2e-3 * P_IN)
    assert np.allclose(sigma[inner, 1, 1], stt[inner], atol=2e-3 * P_IN)
    assert np.allclose(sigma[inner, 2, 2], stt[inner], atol=2e-3 * P_IN)
    assert np.allclose(result.fields["sigma_h"][inner], sh, rtol=2e-3)
    # the lumped projection of sigma_h is O(h) at the two end nodes: 2.2 % of
    # sigma_h (0.3 % of p) at r = a with 200 cells, halving with h; O(h^2)
    # (7e-5) inside
    assert np.allclose(result.fields["sigma_h"], sh, rtol=0.03)
    # uniform sigma_h: c equals the boundary value everywhere (up to the O(h)
    # projection error of sigma_h at the end nodes), mu uniform
    assert np.allclose(result.fields["H"], 1.0, rtol=1e-3)
    assert np.ptp(result.fields["mu_H"]) < 1e-9 * RT


def _quarter_annulus(path, h):
    """(r, z) quarter annulus A_IN <= rho <= B_OUT, z >= 0 (Gmsh): boundaries
    inner, outer, bottom (z = 0), axis (r = 0)."""
    import gmsh

    gmsh.initialize(["-nt", "1"])
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("annulus")
    geo = gmsh.model.geo
    c = geo.addPoint(0, 0, 0)
    pts = [geo.addPoint(A_IN, 0, 0, h), geo.addPoint(B_OUT, 0, 0, h),
           geo.addPoint(0, B_OUT, 0, h), geo.addPoint(0, A_IN, 0, h)]
    bottom = geo.addLine(pts[0], pts[1])
    outer = geo.addCircleArc(pts[1], c, pts[2])
    axis = geo.addLine(pts[2], pts[3])
    inner = geo.addCircleArc(pts[3], c, pts[0])
    loop = geo.addCurveLoop([bottom, outer, axis, inner])
    surface = geo.addPlaneSurface([loop])
    geo.synchronize()
    for name, tag in {"bottom": bottom, "outer": outer, "axis": axis, "inner": inner}.items():
        gmsh.model.setPhysicalName(1, gmsh.model.addPhysicalGroup(1, [tag]), name)
    gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, [surface]), "shell")
    gmsh.model.mesh.generate(2)
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.write(str(path))
    gmsh.finalize()
    return path


def test_lame_sphere_axisymmetric(tmp_path):
    path = _quarter_annulus(tmp_path / "annulus.msh", 0.06e-3)
    mesh = {"file": str(path), "axisymmetric": True}
    case = stress_case(mesh, hydrogen(initial=1.0),
                       [{"name": "inner", "pressure": P_IN},
                        {"name": "bottom", "displacement": ["free", 0.0]}],
                       solver={"displacement_degree": 2})
    result = solve(case)
    p = result.mesh.mesh.p
    rho = np.hypot(p[0], p[1])
    srr, stt, sh = _lame(rho)
    inside = (rho > A_IN * 1.1) & (rho < B_OUT * 0.9)
    assert np.max(np.abs(result.fields["sigma_h"][inside] - sh)) < 0.01 * P_IN
    sigma = result.fields["sigma"].reshape(-1, 3, 3)
    # on the bottom plane z = 0 the (r, z, theta) components are (rho, phi, theta)
    bottom = inside & (p[1] < 1e-12)
    assert np.allclose(sigma[bottom, 0, 0], srr[bottom], atol=0.02 * P_IN)
    assert np.allclose(sigma[bottom, 2, 2], stt[bottom], atol=0.02 * P_IN)
    # closed body in a uniform sigma_h: hydrogen stays uniform, amount kept
    assert np.allclose(result.fields["H"], 1.0, rtol=1e-3)
    volume = 4 / 3 * np.pi * (B_OUT**3 - A_IN**3) / 2
    amount = result.summary["regions"]["shell"]["amount"]["H"]
    assert amount == pytest.approx(volume, rel=2e-3)


def _sphere_octant(path, h_inner, h_outer):
    """Octant x, y, z >= 0 of the shell A_IN <= r <= B_OUT (Gmsh OCC, millimetres:
    use scale = 1e-3), tetrahedra graded from h_inner on the inner sphere to
    h_outer on the outer one: boundaries inner, outer, x0, y0, z0; region shell."""
    import gmsh

    a, b = A_IN * 1e3, B_OUT * 1e3
    gmsh.initialize(readConfigFiles=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.RandomSeed", 1)
        occ = gmsh.model.occ
        octant = {"angle1": 0.0, "angle2": np.pi / 2, "angle3": np.pi / 2}
        outer = occ.addSphere(0, 0, 0, b, **octant)
        inner = occ.addSphere(0, 0, 0, a, **octant)
        (shell,), _ = occ.cut([(3, outer)], [(3, inner)])
        occ.synchronize()
        groups = {}
        for _, tag in gmsh.model.getBoundary([shell], oriented=False):
            centre = np.array(occ.getCenterOfMass(2, tag))
            if np.abs(centre).min() < 1e-9 * b:  # a symmetry plane
                name = "xyz"[int(np.argmin(np.abs(centre)))] + "0"
            else:  # a sphere octant: centre of mass at r sqrt(3)/2
                name = "inner" if np.linalg.norm(centre) < 0.75 * b else "outer"
            groups.setdefault(name, []).append(tag)
        assert sorted(groups) == ["inner", "outer", "x0", "y0", "z0"]
        for name, tags in groups.items():
            gmsh.model.addPhysicalGroup(2, tags, name=name)
        gmsh.model.addPhysicalGroup(3, [shell[1]], name="shell")
        field = gmsh.model.mesh.field
        distance = field.add("Distance")
        field.setNumbers(distance, "SurfacesList", groups["inner"])
        size = field.add("Threshold")
        field.setNumber(size, "InField", distance)
        field.setNumber(size, "SizeMin", h_inner * 1e3)
        field.setNumber(size, "SizeMax", h_outer * 1e3)
        field.setNumber(size, "DistMin", 0.0)
        field.setNumber(size, "DistMax", b - a)
        field.setAsBackgroundMesh(size)
        for key in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
            gmsh.option.setNumber(f"Mesh.{key}", 0)
        gmsh.model.mesh.generate(3)
        gmsh.option.setNumber("Mesh.SaveAll", 0)
        gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()
    return path


def _lame_displacement(r):
    """u_r(r) of the pressurised shell (Lame)."""
    return P_IN * A_IN**3 / (E * (B_OUT**3 - A_IN**3)) * (
        (1 - 2 * NU) * r + (1 + NU) * B_OUT**3 / (2 * r**2))


@pytest.mark.parametrize("two_way", [False, True])
def test_lame_sphere_3d_octant_closed_hydrogen(tmp_path, two_way):
    """A real 3D mesh: the octant of the thick shell with zero normal displacement
    on its three symmetry planes, internal pressure, closed hydrogen, steady.

    sigma_h = p a^3/(b^3 - a^3) is uniform, so the hydrogen equilibrium alone
    could not fail: the test checks the displacement u_r(r) (P2, at every
    displacement dof) and sigma_rr, sigma_tt at the Gauss points against Lame,
    the nodal fields, the discrete Boltzmann equilibrium and the amount.
    Two-way: the uniform eigenstrain Omega (c_avg - c_0)/3 of the hydrogen adds
    a stress-free expansion Omega (c_avg - c_0) r/3 to u_r (the symmetry planes
    pass through the centre) and leaves the stresses unchanged.

    The tolerances are two to three times the errors measured on this mesh
    (1,736 tets, 10,204 unknowns), which come mostly from the faceted inner
    sphere (straight-sided tetrahedra): u_r 0.5 % of its maximum (E 5 % or nu
    0.05 off gives 5 %, 3 %); Gauss-point sigma_rr, sigma_tt 1.0 %, 0.7 % of p
    (rms) and 4.3 %, 3.0 % (max, at the inner facets), shear traction on the
    spheres 0.4 % (rms); nodal sigma_h 0.9 % of p (the lumped projection is O(h)
    at boundary vertices) and 3.5 % of sigma_h at interior vertices."""
    path = _sphere_octant(tmp_path / "octant.msh", 0.12e-3, 0.4e-3)
    c_avg, c_0 = 200.0, 0.0
    elasticity = {"chemical_expansion": two_way}
    if two_way:
        elasticity["stress_free_concentration"] = c_0
    case = stress_case({"file": str(path), "scale": 1e-3}, hydrogen(initial=c_avg),
                       [{"name": "inner", "pressure": P_IN},
                        {"name": "x0", "displacement": [0.0, "free", "free"]},
                        {"name": "y0", "displacement": ["free", 0.0, "free"]},
                        {"name": "z0", "displacement": ["free", "free", 0.0]}],
                       elasticity=elasticity,
                       solver={"displacement_degree": 2, "linear": "direct"})
    _, model = prepare(case)
    snap = solve_steady(model, NewtonOptions(), "direct", Stats())
    x = snap.x
    expansion = OMEGA_H * (c_avg - c_0) / 3 if two_way else 0.0
    # displacement at every P2 dof: radial = Lame (+ expansion), no tangential part
    xu = model.elastic.u_space.x
    r = np.linalg.norm(xu, axis=0)
    u = model.elastic.displacement(x)
    u_r = np.einsum("in,in->n", u, xu / r)
    u_exact = _lame_displacement(r) + expansion * r
    scale = np.abs(u_exact).max()
    assert np.max(np.abs(u_r - u_exact)) < 0.015 * scale
    assert np.max(np.linalg.norm(u - u_r * xu / r, axis=0)) < 0.01 * scale
    if two_way:  # the expansion is as large as the elastic displacement
        assert expansion * B_OUT > 0.5 * _lame_displacement(B_OUT)
    # stresses at the Gauss points, in spherical components
    sigma = model.elastic.stress_at_points(x).reshape(3, 3, -1)
    xq = model.elastic.qpoints.x
    rq = np.linalg.norm(xq, axis=0)
    n = xq / rq
    s_rr = np.einsum("in,ijn,jn->n", n, sigma, n)
    s_tt = (np.einsum("iin->n", sigma) - s_rr) / 2  # sigma_theta = sigma_phi
    srr_exact, stt_exact, sh_exact = _lame(rq)
    for s, exact in ((s_rr, srr_exact), (s_tt, stt_exact)):
        assert np.sqrt(np.mean((s - exact) ** 2)) < 0.02 * P_IN
        assert np.max(np.abs(s - exact)) < 0.08 * P_IN
    shear = np.einsum("ijn,jn->in", sigma, n) - s_rr * n  # traction on spheres: radial only
    assert np.sqrt(np.mean(np.sum(shear**2, axis=0))) < 0.01 * P_IN
    # the result fields: nodal sigma_h uniform up to the O(h) projection error
    fields = model.point_fields(x)
    p = model.fem_mesh.mesh.p
    rp = np.linalg.norm(p, axis=0)
    sh = fields["sigma_h"]
    assert np.max(np.abs(sh - sh_exact)) < 0.015 * P_IN
    inside = (rp > 1.1 * A_IN) & (rp < 0.9 * B_OUT)
    assert np.max(np.abs(sh[inside] - sh_exact)) < 0.08 * sh_exact
    # closed hydrogen at equilibrium: mu uniform, c = c_avg exp(Omega sigma_h/RT)/<.>
    # with the lumped nodal volumes of the amount, exactly
    c = fields["H"]
    volumes = np.abs(model.fem_mesh.mesh.mapping().detDF(np.zeros((3, 1)))[:, 0]) / 6
    weight = np.bincount(model.fem_mesh.mesh.t.ravel(), np.tile(volumes / 4, 4),
                         minlength=len(c))
    boltzmann = np.exp(OMEGA_H * sh / RT)
    assert np.allclose(c, c_avg * boltzmann * weight.sum() / np.sum(weight * boltzmann),
                       rtol=1e-8)
    assert np.ptp(fields["mu_H"]) < 1e-8 * RT
    assert np.ptp(c) < 2e-3 * c_avg  # sigma_h is uniform
    amount = model.region_amounts(x)["shell"]["H"]
    assert amount == pytest.approx(c_avg * weight.sum(), rel=1e-10)
    # the faceted mesh holds 1.6 % less than the exact octant of the shell
    assert weight.sum() == pytest.approx(np.pi / 6 * (B_OUT**3 - A_IN**3), rel=0.03)


# -- diffusion-induced stress in a spherical particle ------------------------------------

R_P, D_LI, OMEGA_LI, E_LI, NU_LI = 5e-6, 1e-14, 3.5e-6, 10e9, 0.3


def _particle(flux, t_end, cells=100, initial=1.0):
    mesh = {"generate": {"shape": "interval", "length": [R_P], "cells": [cells]},
            "symmetry": "spherical"}
    species = [{"name": "Li", "diffusivity": D_LI, "initial": initial,
                "partial_molar_volume": OMEGA_LI}]
    return stress_case(mesh, species, [{"name": "xmax", "inward_flux": {"Li": flux}}],
                       elasticity={"youngs_modulus": E_LI, "poisson_ratio": NU_LI,
                                   "chemical_expansion": True,
                                   "stress_free_concentration": initial},
                       solver={"steady": False, "t_end": t_end, "dt": 1.0})


def _volume_average_within(r, c):
    """c_bar(r) = 3/r^3 int_0^r c s^2 ds (trapezoid on the nodes)."""
    integrand = c * r**2
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1])
                                           * np.diff(r))])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 3 * cum / r**3
    out[0] = c[0]
    return out


def test_particle_stress_matches_zhang_cheng_given_c():
    """sigma_r, sigma_t, sigma_h from the closed forms in terms of c(r) and c_bar(r)."""
    result = solve(_particle(1e-6, 600.0, cells=200))
    r = result.mesh.mesh.p[0]
    order = np.argsort(r)
    r = r[order]
    c = result.fields["Li"][order] - 1.0  # minus the stress-free concentration
    cbar = _volume_average_within(r, c)
    k = OMEGA_LI * E_LI / (9 * (1 - NU_LI))
    sigma = result.fields["sigma"].reshape(-1, 3, 3)[order]
    sr = 2 * k * (cbar[-1] - cbar)
    st = k * (2 * cbar[-1] + cbar - 3 * c)
    scale = np.abs(st).max()
    inner = (r > 0.05 * R_P) & (r < 0.95 * R_P)
    assert np.max(np.abs(sigma[inner, 0, 0] - sr[inner])) < 0.01 * scale
    assert np.max(np.abs(sigma[inner, 1, 1] - st[inner])) < 0.01 * scale
    sh = result.fields["sigma_h"][order]
    assert np.max(np.abs(sh - 2 * k * (cbar[-1] - c))[inner]) < 0.01 * scale
    # tensile hoop stress at the centre, compressive at the surface during insertion
    assert st[-1] < 0 < sigma[0, 1, 1]


def test_particle_galvanostatic_long_time_limit():
    """sigma_r(0) = -sigma_t(R) = Omega E J R / (15 (1 - nu) D) once the
    transient has decayed (theta c << 1 so D_eff = D)."""
    J = 1e-7
    result = solve(_particle(J, 0.6 * R_P**2 / D_LI, cells=100))
    r = result.mesh.mesh.p[0]
    sigma = result.fields["sigma"].reshape(-1, 3, 3)
    expected = OMEGA_LI * E_LI * J * R_P / (15 * (1 - NU_LI) * D_LI)
    c_max = result.fields["Li"].max()
    theta = (OMEGA_LI / RT) * 2 * OMEGA_LI * E_LI / (9 * (1 - NU_LI))
    assert theta * c_max < 2e-3
    centre, surface = np.argmin(r), np.argmax(r)
    # the quasi-steady profile c = c_avg(t) + J r^2/(2 D R): sigma_r = 3k A (R^2 - r^2)/5 x 2,
    # sigma_t = k A (6 R^2 - 12 r^2)/5 with A = J/(2 D R), k = Omega E/(9(1-nu))
    k, A = OMEGA_LI * E_LI / (9 * (1 - NU_LI)), J / (2 * D_LI * R_P)
    inner = (r > 0.05 * R_P) & (r < 0.95 * R_P)
    assert np.allclose(sigma[inner, 0, 0], 6 * k * A * (R_P**2 - r[inner]**2) / 5,
                       atol=5e-3 * expected)
    assert np.allclose(sigma[inner, 1, 1], k * A * (6 * R_P**2 - 12 * r[inner]**2) / 5,
                       atol=5e-3 * expected)
    # end values: the lumped projection is O(h) at the two end nodes
    assert sigma[centre, 0, 0] == pytest.approx(expected, rel=0.02)
    assert -sigma[surface, 1, 1] == pytest.approx(expected, rel=0.02)
    # amount: everything inserted stays inside
    amount = result.summary["regions"]["domain"]["amount"]["Li"]
    inserted = 4 * np.pi * R_P**2 * J * result.summary["time"]
    assert amount - 4 / 3 * np.pi * R_P**3 == pytest.approx(inserted, rel=1e-6)


def _reference_effective_diffusion(theta, c0, J, t_end, n=400):
    """Independent finite-volume method of lines for dc/dt = r^-2 d/dr(r^2 D (1 +
    theta c) dc/dr), c(0) = c0, inward flux J at r = R (stiff BDF, fine grid)."""
    from scipy.integrate import solve_ivp

    edges = np.linspace(0, R_P, n + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    vol = (edges[1:] ** 3 - edges[:-1] ** 3) / 3
    area = edges**2

    def rhs(_, c):
        cf = 0.5 * (c[1:] + c[:-1])
        flux = -D_LI * (1 + theta * cf) * np.diff(c) / np.diff(centres)  # outward
        total = np.zeros(n + 1)
        total[1:-1] = flux * area[1:-1]
        total[-1] = -J * area[-1]
        return -(total[1:] - total[:-1]) / vol

    sol = solve_ivp(rhs, (0, t_end), np.full(n, c0), method="BDF", rtol=1e-8, atol=1e-8)
    return centres, sol.y[:, -1]


def test_two_way_coupling_is_concentration_dependent_diffusion():
    """Two-way: sigma_h = 2 Omega E/(9(1-nu)) (c_bar(R) - c), so
    J = -D (1 + theta c) grad c with theta = (Omega/RT) 2 Omega E/(9(1-nu))."""
    theta = (OMEGA_LI / RT) * 2 * OMEGA_LI * E_LI / (9 * (1 - NU_LI))
    c0 = 0.5 / theta  # D_eff = 1.5 D at the start, more as Li enters
    J, t_end = 2e-4, 500.0
    result = solve(_particle(J, t_end, cells=100, initial=c0))
    r = result.mesh.mesh.p[0]
    centres, c_ref = _reference_effective_diffusion(theta, c0, J, t_end)
    c = np.interp(centres, np.sort(r), result.fields["Li"][np.argsort(r)])
    change = c_ref - c0
    assert np.max(np.abs(c - c_ref)) < 0.01 * np.ptp(change) + 1e-3 * change.max()
    # and clearly different from the one-way (constant D) profile
    _, c_const = _reference_effective_diffusion(0.0, c0, J, t_end)
    assert np.max(np.abs(c_const - c_ref)) > 10 * np.max(np.abs(c - c_ref))


# -- manufactured solution ------------------------------------------------------------------

X_, Y_ = sp.symbols("x y")


def _mms_error(n, geometry="planar"):
    """Two-way coupled u, c on the unit-ish square (plane strain or axisymmetric)."""
    L = 1e-3
    xs, ys = X_ / L, Y_ / L
    c_ex = 1000 * (1 + sp.Rational(1, 2) * sp.sin(sp.pi * xs) * sp.cos(sp.pi * ys / 2))
    ux = 2e-6 * sp.sin(sp.pi * xs / 2) * (1 + ys**2)
    uy = 1e-6 * sp.cos(sp.pi * ys / 3) * xs
    Eu, nu, D, omega, c0 = 1e9, 0.3, 1e-9, 3e-6, 500.0
    lam = Eu * nu / ((1 + nu) * (1 - 2 * nu))
    mu = Eu / (2 * (1 + nu))
    alpha = omega / 3 * (c_ex - c0)
    axisym = geometry == "axisymmetric"
    exx, eyy = sp.diff(ux, X_), sp.diff(uy, Y_)
    exy = (sp.diff(ux, Y_) + sp.diff(uy, X_)) / 2
    ett = ux / X_ if axisym else 0
    tr = exx + eyy + ett
    iso = lam * tr - (3 * lam + 2 * mu) * alpha
    sxx, syy, sxy, stt = iso + 2 * mu * exx, iso + 2 * mu * eyy, 2 * mu * exy, iso + 2 * mu * ett
    if axisym:  # div sigma in (r, z)
        fx = -(sp.diff(sxx, X_) + sp.diff(sxy, Y_) + (sxx - stt) / X_)
        fy = -(sp.diff(sxy, X_) + sp.diff(syy, Y_) + sxy / X_)
    else:
        fx = -(sp.diff(sxx, X_) + sp.diff(sxy, Y_))
        fy = -(sp.diff(sxy, X_) + sp.diff(syy, Y_))
    sh = (sxx + syy + stt) / 3
    Jx = -D * (sp.diff(c_ex, X_) - c_ex * omega / RT * sp.diff(sh, X_))
    Jy = -D * (sp.diff(c_ex, Y_) - c_ex * omega / RT * sp.diff(sh, Y_))
    div_J = sp.diff(Jx, X_) + sp.diff(Jy, Y_) + (Jx / X_ if axisym else 0)
    f_c = sp.lambdify((X_, Y_), div_J, "numpy")
    f_u = [sp.lambdify((X_, Y_), f, "numpy") for f in (fx, fy)]
    origin = [0.5 * L, 0.0] if axisym else [0.0, 0.0]
    mesh = {"generate": {"shape": "rectangle", "length": [L, L], "cells": [n, n],
                         "origin": origin}, "axisymmetric": axisym}
    names = ["xmin", "xmax", "ymin", "ymax"]
    case = stress_case(mesh, [{"name": "c", "diffusivity": D, "initial": 1000.0,
                               "partial_molar_volume": omega}],
                       [{"name": b, "concentration": {"c": str(c_ex)},
                         "displacement": [str(ux), str(uy)]} for b in names],
                       elasticity={"youngs_modulus": Eu, "poisson_ratio": nu,
                                   "chemical_expansion": True,
                                   "stress_free_concentration": c0})
    _, model = prepare(case)
    model.sources = {"c": lambda x, t: f_c(x[0], x[1])}
    model.elastic.body_force = lambda x, t: np.stack([f(x[0], x[1]) * np.ones_like(x[0])
                                                      for f in f_u])
    snap = solve_steady(model, NewtonOptions(), "direct", Stats())
    exact = sp.lambdify((X_, Y_), c_ex, "numpy")
    return l2_error(model, "c", snap.x, lambda x: exact(x[0], x[1]))


@pytest.mark.parametrize("geometry", ["planar", "axisymmetric"])
def test_coupled_manufactured_solution_order_two(geometry):
    errors = [_mms_error(n, geometry) for n in (8, 16, 32)]
    ratios = [errors[k + 1] / errors[k] for k in range(2)]
    assert all(0.18 < r < 0.32 for r in ratios), (errors, ratios)


# -- Jacobian --------------------------------------------------------------------------------


def _jacobian_case(variant):
    species = [{"name": "H", "diffusivity": 1e-9, "initial": "1000 + 2e5*x",
                "partial_molar_volume": 2e-6},
               {"name": "Li", "diffusivity": 3e-10, "initial": 500.0,
                "partial_molar_volume": 3.5e-6}]
    boundary = [{"name": "xmin", "displacement": [0.0, "free"], "concentration": {"H": 1000.0}},
                {"name": "ymin", "displacement": ["free", 0.0]},
                {"name": "xmax", "traction": [1e8, "1e7*y/1e-3"]},
                {"name": "ymax", "pressure": 5e7, "inward_flux": {"Li": 1e-6}}]
    mesh = {"generate": {"shape": "rectangle", "length": [1e-3, 1e-3], "cells": [3, 2]}}
    elasticity = {"chemical_expansion": True, "stress_free_concentration": {"H": 800.0}}
    solver = {"steady": False}
    if variant == "plane-stress":
        elasticity["plane"] = "stress"
    elif variant == "axisymmetric":
        mesh["axisymmetric"] = True
        mesh["generate"]["origin"] = [1e-4, 0.0]
    elif variant == "p2":
        solver["displacement_degree"] = 2
    elif variant == "3d":
        mesh = {"generate": {"shape": "box", "length": [1e-3, 1e-3, 1e-3], "cells": [2, 1, 1]}}
        for b in boundary:
            for key in ("displacement", "traction"):
                if key in b:
                    b[key] = b[key] + [0.0 if key == "traction" else "free"]
        boundary.append({"name": "zmin", "displacement": ["free", "free", 0.0]})
    elif variant == "free-body":
        for b in boundary:
            b.pop("displacement", None)
    return stress_case(mesh, species, boundary, elasticity=elasticity, solver=solver)


@pytest.mark.parametrize("variant", ["plane-strain", "plane-stress", "axisymmetric", "p2",
                                     "3d", "free-body"])
def test_jacobian_matches_finite_differences(variant):
    _, model = prepare(_jacobian_case(variant))
    rng = np.random.default_rng(2)
    x = consistent_initial_state(model) + 0.3 * rng.random(model.n) * model.x_scale
    assert jacobian_error(model, x) < 1e-5
    if variant == "free-body":
        g, G, _ = model.constraints(x, True)
        assert G.shape[0] == 3  # two translations and one rotation removed


# -- rigid-body motion, 3D and AMG, bad input -------------------------------------------------


def _bar(dim, constrained, linear="direct", cells=None):
    length = [4e-3, 1e-3, 1e-3][:dim]
    cells = cells or [8, 2, 2][:dim]
    zero = [0.0] * dim
    free = ["free"] * dim
    boundary = [{"name": "xmax", "traction": [1e8] + zero[1:]},
                {"name": "xmin", "traction": [-1e8] + zero[1:]}]
    if constrained:
        boundary[1] = {"name": "xmin", "displacement": [0.0] + free[1:]}
        boundary.append({"name": "ymin", "displacement": ["free", 0.0] + free[2:]})
        if dim == 3:
            boundary.append({"name": "zmin", "displacement": ["free", "free", 0.0]})
    mesh = {"generate": {"shape": ["interval", "rectangle", "box"][dim - 1],
                         "length": length, "cells": cells}}
    return stress_case(mesh, hydrogen(initial=1.0), boundary,
                       elasticity={"plane": "stress"} if dim == 2 else None,
                       solver={"linear": linear})


@pytest.mark.parametrize("dim", [2, 3])
def test_rigid_body_motion_is_removed_and_stresses_unaffected(dim):
    free = solve(_bar(dim, constrained=False))
    fixed = solve(_bar(dim, constrained=True))
    for result in (free, fixed):
        sigma = result.fields["sigma"].reshape(-1, 3, 3)
        assert np.allclose(sigma[:, 0, 0], 1e8, rtol=1e-8)
        assert np.allclose(result.fields["sigma_h"], 1e8 / 3, rtol=1e-8)
        assert np.allclose(result.fields["von_mises"], 1e8, rtol=1e-8)
    u = free.fields["u"]
    assert np.abs(u.mean(axis=0)).max() < 1e-9 * np.abs(u).max()
    # the displacement differs from the constrained one by a rigid-body motion only
    from femflux.fem.elasticity import rigid_body_modes

    x = free.mesh.mesh.p
    modes = rigid_body_modes(x, "planar").reshape(dim * x.shape[1], -1)
    diff = (fixed.fields["u"] - u)[:, :dim].T.ravel()
    coef, *_ = np.linalg.lstsq(modes, diff, rcond=None)
    assert np.abs(modes @ coef - diff).max() < 1e-9 * np.abs(u).max()


def test_3d_with_algebraic_multigrid_and_rigid_body_modes():
    direct = solve(_bar(3, constrained=True, cells=[12, 3, 3]))
    amg = solve(_bar(3, constrained=True, linear="iterative", cells=[12, 3, 3]))
    assert amg.summary["converged"]
    u = direct.fields["u"]
    assert np.allclose(amg.fields["u"], u, atol=1e-7 * np.abs(u).max())


@pytest.mark.parametrize("elasticity, message", [
    ({"poisson_ratio": 0.5}, "poisson_ratio"),
    ({"poisson_ratio": -1.0}, "poisson_ratio"),
    ({"youngs_modulus": 0.0}, "youngs_modulus"),
])
def test_bad_elastic_constants_are_case_errors(elasticity, message):
    with pytest.raises(CaseError, match=message):
        stress_case({"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
                    hydrogen(), [], elasticity=elasticity)


def test_three_component_displacement_in_2d_is_a_case_error():
    with pytest.raises(CaseError, match="displacement"):
        stress_case({"generate": {"shape": "rectangle", "length": [1.0, 1.0], "cells": [2, 2]}},
                    hydrogen(), [{"name": "xmin", "displacement": [0.0, 0.0, 0.0]}])


def test_region_wise_elastic_constants(tmp_path):
    """Two bonded layers under uniaxial stress: equal stress, strains E-weighted."""
    from conftest import write_line_mesh

    path = write_line_mesh(tmp_path / "layers.msh", [("soft", 1e-3, 10), ("hard", 1e-3, 10)])
    case = stress_case({"file": str(path)}, hydrogen(),
                       [{"name": "left", "displacement": [0.0]},
                        {"name": "right", "traction": [1e8]}],
                       region=[{"name": "soft", "youngs_modulus": 50e9, "poisson_ratio": 0.25}])
    result = solve(case)
    x = result.mesh.mesh.p[0]
    u_end = result.fields["u"][np.argmax(x), 0]

    def modulus(e, nu):  # uniaxial strain (1D): lambda + 2 mu
        return e * (1 - nu) / ((1 + nu) * (1 - 2 * nu))

    assert u_end == pytest.approx(1e8 * 1e-3 * (1 / modulus(50e9, 0.25) + 1 / modulus(E, NU)),
                                  rel=1e-10)


# -- the cases ----------------------------------------------------------------------------------

CASES = Path(__file__).resolve().parents[1] / "cases"


def test_case_hydrogen_notched_plate():
    """Peak c/c0 at the notch root, Boltzmann in sigma_h, amount kept."""
    result = solve(femflux.load_case(CASES / "hydrogen_notched_plate.toml"))
    c, sh = result.fields["H"], result.fields["sigma_h"]
    p = result.mesh.mesh.p
    peak = int(np.argmax(c))
    assert np.hypot(p[0, peak] - 5e-3, p[1, peak]) < 1e-4  # at the notch root
    # README: peak c/c0 = 1.98 with sigma_h = 0.94 GPa (measured 1.984, 0.942 GPa)
    assert c[peak] == pytest.approx(1.98, rel=1e-2)
    assert sh[peak] == pytest.approx(0.94e9, rel=1e-2)
    assert np.ptp(result.fields["mu_H"]) < 1e-8 * RT  # equilibrium
    ratio = np.exp(OMEGA_H * (sh[peak] - sh[np.argmin(c)]) / RT)
    assert c[peak] / c.min() == pytest.approx(ratio, rel=1e-8)
    area = 20e-3 * 20e-3 - (4.5e-3 * 0.5e-3 + np.pi * 0.5e-3**2 / 4)  # half plate minus slot
    assert result.summary["regions"]["plate"]["amount"]["H"] == pytest.approx(area, rel=2e-3)


def test_case_stressed_rod():
    case = femflux.load_case(CASES / "stressed_rod.toml")
    _, model = prepare(case)
    x0 = consistent_initial_state(model)
    J = model.cell_fields(x0)["J_H"]
    a = OMEGA_H * 1e12 / (3 * RT)  # Omega k / (3 RT), 1/m
    assert np.median(J[:, 0]) == pytest.approx(1e-9 * a, rel=1e-3)
    # README: peak c/c0 = 1.28 after the case's 3000 s (measured 1.2829)
    transient = solve(case)
    assert transient.summary["time"] == pytest.approx(3000.0)
    assert transient.fields["H"].max() == pytest.approx(1.28, rel=1e-2)
    steady = solve(femflux.load_case(CASES / "stressed_rod.toml",
                                     overrides={"solver.steady": True}))
    exact = np.exp(a * 1e-3) / (np.sinh(a * 1e-3) / (a * 1e-3))  # peak c/c0 = 1.291
    assert steady.fields["H"].max() == pytest.approx(exact, rel=0.01)  # measured 1.2824:
    # the lumped sigma_h projection is O(h) on the faces (0.7 % low in c here)


def test_a_failed_mechanical_equilibration_is_a_solver_error(monkeypatch):
    """The initial equilibrium solve failing is a solver failure (exit 3, one
    line), not a traceback."""
    from femflux import linalg
    from femflux.errors import SolverError

    def fail(self, *args, **kwargs):
        raise linalg.NewtonFailure("forced failure")

    for solver in (linalg.LinearSolver, linalg._Direct, linalg.FixedMultigrid):
        monkeypatch.setattr(solver, "solve", fail)
    case = femflux.load_case({
        "mesh": {"generate": {"shape": "box", "length": [1e-3, 1e-3, 1e-3], "cells": [2, 2, 2]}},
        "model": {"kind": "stress-diffusion", "temperature": 300.0},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "partial_molar_volume": 2e-6}],
        "elasticity": {"youngs_modulus": 200e9, "poisson_ratio": 0.3},
        "boundary": [{"name": "xmin", "displacement": [0.0, 0.0, 0.0]}],
        "solver": {"steady": True}})
    with pytest.raises(SolverError, match="mechanical equilibrium at t = 0 s could not be solved"):
        solve(case)


@pytest.mark.parametrize("constrained", [True, False])
def test_the_node_blocked_elastic_block_is_the_eliminated_stiffness(constrained):
    """The multigrid's own block, assembled as node-wise BSR, equals A_u's
    (u, u) block with prescribed rows and columns replaced by I / s (and the
    1e-9 diagonal raise of a rigid-body border), permuted node-major; a
    V-cycle then preconditions Newton's scaled block s K."""
    import scipy.sparse as sparse


    case = femflux.load_case({
        "mesh": {"generate": {"shape": "box", "length": [4e-3, 1e-3, 1e-3],
                              "cells": [4, 2, 2]}},
        "model": {"kind": "stress-diffusion", "temperature": 300.0},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "partial_molar_volume": 2e-6}],
        "elasticity": {"youngs_modulus": 200e9, "poisson_ratio": 0.3,
                       "chemical_expansion": True},
        "boundary": ([{"name": "xmin", "displacement": [0.0, 0.0, 0.0]}] if constrained
                     else [{"name": "xmax", "pressure": 1e6}]),
        "solver": {"steady": True}})
    _, model = prepare(case)
    K, perm = model.elastic._eliminated_stiffness()
    full = model.elastic.A_u[:, model.elastic.u_offset:].toarray()
    prescribed = np.zeros(len(full), dtype=bool)
    for dofs, _, _ in model.elastic._mech_dirichlet:
        prescribed[dofs - model.elastic.u_offset] = True
    assert prescribed.sum() == (3 * 9 if constrained else 0)  # 3 x 3 nodes on xmin
    full[prescribed, :] = 0.0
    full[:, prescribed] = 0.0
    s = model.elastic._u_ratio()
    diagonal = np.where(prescribed, 1.0 / s, np.diag(full))
    assert (model.elastic._rigid is None) == constrained  # free: a rigid-body border
    np.fill_diagonal(full, diagonal * (1.0 + 1e-9 if model.elastic._rigid is not None else 1.0))
    assert isinstance(K, sparse.bsr_matrix) and K.blocksize == (3, 3)
    np.testing.assert_allclose(K.toarray(), full[perm][:, perm], rtol=1e-12,
                               atol=1e-12 * np.abs(full).max())


@pytest.mark.parametrize("hoops", [0, 1])
def test_chunked_stiffness_sums_equal_the_whole_element_blocks(hoops):
    """summed_stiffness (element chunks, as used for large meshes) gives the
    matrix of the whole-mesh element blocks, as CSR and as node-wise BSR."""
    import skfem

    from femflux.fem import Space
    from femflux.fem import elasticity as el
    from femflux.mesh import FemMesh

    mesh = skfem.MeshTet.init_tensor(*(np.linspace(0, 1, 4),) * 3)
    space = Space(FemMesh(mesh, {}, {"domain": np.arange(mesh.nelements)}), 1)
    rng = np.random.default_rng(2)
    lam, mu = rng.random(mesh.nelements) + 1.0, rng.random(mesh.nelements) + 0.5
    hoop = rng.random(space.values.shape) if hoops else None
    args = (space.grads, hoop, hoops, lam, mu, space.dx)
    pattern = el.VectorPattern(space.element_dofs, space.n, 3)
    whole = pattern.assemble(el.stiffness_blocks(*args))
    data = np.zeros(len(pattern.indices))

    def add(a, b, sums):
        data[pattern._position(a, b)] += sums

    el.summed_stiffness(pattern.slots, pattern.nnz, add, *args, chunk=7)  # many chunks
    chunked = pattern._matrix(data)
    assert abs(chunked - whole).max() <= 1e-13 * abs(whole).max()
    assert abs(pattern.stiffness(*args) - whole).max() <= 1e-13 * abs(whole).max()
    bsr = el.node_block_stiffness(space.element_dofs, space.n, *args)
    perm = (np.arange(3)[None, :] * space.n + np.arange(space.n)[:, None]).ravel()
    assert abs(bsr.tocsr() - whole[perm][:, perm]).max() <= 1e-13 * abs(whole).max()
