"""Shared helpers for the femflux tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skfem

import femflux
from femflux.fem import lagrange_element, metric


def make_case(**sections) -> femflux.Case:
    """A case from keyword sections (dict form of the TOML file)."""
    data = {"model": {"kind": "diffusion"}}
    data.update(sections)
    return femflux.load_case(data)


def l2_error(model, species: str, x: np.ndarray, exact) -> float:
    """L2 norm (with the geometry's metric) of c_h - exact over the species' elements.

    ``exact(x)`` takes coordinates (dim, ...) and returns values; c_h is the
    finite-element field a/gamma evaluated at high-order quadrature points.
    """
    s = model.by_name[species]
    mesh = model.fem_mesh.mesh
    basis = skfem.CellBasis(mesh, lagrange_element(mesh, model.degree), intorder=6,
                            elements=s.space.elements)
    u = s.space.to_global(x[s.slice])
    uh = np.asarray(basis.interpolate(u))
    xq = np.asarray(basis.global_coordinates())
    w = basis.dx * metric(model.fem_mesh.geometry, xq)
    return float(np.sqrt(np.sum((uh - exact(xq)) ** 2 * w)))


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_line_mesh(path, segments, boundary_names=("left", "right")):
    """A 1D Gmsh mesh of consecutive named regions: segments = [(name, length, cells)].

    The end points are the boundaries ``boundary_names``; returns the path.
    """
    import meshio

    xs, region_of_cell = [np.zeros(1)], []
    start = 0.0
    for k, (_, length, cells) in enumerate(segments):
        xs.append(start + np.linspace(0.0, length, cells + 1)[1:])
        region_of_cell += [k + 1] * cells
        start += length
    x = np.concatenate(xs)
    n = len(x) - 1
    lines = np.column_stack([np.arange(n), np.arange(1, n + 1)])
    nreg = len(segments)
    tags = [np.array(region_of_cell), np.array([nreg + 1, nreg + 2])]
    field_data = {name: np.array([k + 1, 1]) for k, (name, _, _) in enumerate(segments)}
    field_data[boundary_names[0]] = np.array([nreg + 1, 0])
    field_data[boundary_names[1]] = np.array([nreg + 2, 0])
    mesh = meshio.Mesh(np.column_stack([x, np.zeros((n + 1, 2))]),
                       [("line", lines), ("vertex", np.array([[0], [n]]))],
                       cell_data={"gmsh:physical": tags, "gmsh:geometrical": tags},
                       field_data=field_data)
    meshio.write(path, mesh, file_format="gmsh22", binary=False)
    return path


def jacobian_error(model, x: np.ndarray, t: float = 0.0) -> float:
    """Largest difference between the model's Jacobian and forward finite
    differences of its residual, relative to the largest entry of each row."""
    F, J = model.flux(x, t)
    J = J.toarray()
    fd = np.empty_like(J)
    for k in range(model.n):
        xp = x.copy()
        h = 1e-7 * model.x_scale[k]
        xp[k] += h
        fd[:, k] = (model.flux(xp, t)[0] - F) / h
    scale = np.abs(J).max(axis=1, keepdims=True) + 1e-300
    return float(np.max(np.abs(fd - J) / scale))


def write_layered_mesh(path, segments, dim=1, origin=0.0, width=1e-7, across=2,
                       boundary_names=("left", "right"), axis=0):
    """A Gmsh mesh of consecutive named layers stacked along ``axis`` (x, or y
    in 2D), in 1D, 2D (triangles) or 3D (tetrahedra): segments = [(name,
    length, cells)], starting at ``origin``; ``width`` and ``across`` (cells)
    in the other directions, from 0.  The two end faces are the boundaries
    ``boundary_names``; the others are unnamed.  Returns the path."""
    import meshio

    if dim == 1:
        if origin != 0.0:
            raise ValueError("1D: use write_line_mesh (x from 0)")
        return write_line_mesh(path, segments, boundary_names)
    xs, start = [np.array([origin])], origin
    for _, length, n in segments:
        xs.append(start + np.linspace(0.0, length, n + 1)[1:])
        start += length
    x = np.concatenate(xs)
    y = np.linspace(0.0, width, across + 1)
    mesh = (skfem.MeshTri.init_tensor(x, y) if dim == 2
            else skfem.MeshTet.init_tensor(x, y, y))
    centre = mesh.p[0, mesh.t].mean(axis=0)
    bounds = np.cumsum([origin] + [length for _, length, _ in segments])
    layer = np.clip(np.searchsorted(bounds, centre) - 1, 0, len(segments) - 1)
    facet_x = mesh.p[0, mesh.facets]
    ends = [np.flatnonzero(np.all(np.isclose(facet_x, value, rtol=0, atol=1e-12 * start), axis=0))
            for value in (origin, start)]
    nreg = len(segments)
    cell_type, facet_type = ("triangle", "line") if dim == 2 else ("tetra", "triangle")
    tags = [layer + 1, np.concatenate([np.full(len(ends[0]), nreg + 1),
                                       np.full(len(ends[1]), nreg + 2)])]
    field_data = {name: np.array([k + 1, dim]) for k, (name, _, _) in enumerate(segments)}
    field_data[boundary_names[0]] = np.array([nreg + 1, dim - 1])
    field_data[boundary_names[1]] = np.array([nreg + 2, dim - 1])
    points = np.zeros((mesh.p.shape[1], 3))
    points[:, :dim] = mesh.p.T
    cells = mesh.t.T
    if axis == 1:  # swapping x and y mirrors the cells: keep them positively oriented
        points[:, [0, 1]] = points[:, [1, 0]]
        cells = cells[:, [0, 2, 1]] if dim == 2 else cells[:, [0, 1, 3, 2]]
    out = meshio.Mesh(points, [(cell_type, cells),
                               (facet_type, mesh.facets[:, np.concatenate(ends)].T)],
                      cell_data={"gmsh:physical": tags, "gmsh:geometrical": tags},
                      field_data=field_data)
    meshio.write(path, out, file_format="gmsh22", binary=False)
    return path


# -- the command line, run as a subprocess -----------------------------------------------

#: 1D steady slab: c(0) = 1, c(1) = 0, so the outward flux at xmax is exactly D = 1e-9
STEADY_SLAB = """\
title = "steady diffusion through a slab"
[mesh]
generate = { shape = "interval", length = [1.0], cells = [8] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 1e-9
[[boundary]]
name = "xmin"
concentration = { A = 1.0 }
[[boundary]]
name = "xmax"
concentration = { A = 0.0 }
"""


#: dA/dt = A^2 from A = 1 blows up at t = 1 s (tests add their [solver] and [output])
BLOWUP_CASE = """\
[mesh]
generate = { shape = "interval", length = [1.0], cells = [4] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 0.1
initial = 1.0
[[reaction]]
equation = "2 A => 3 A"
forward = 1.0
"""

#: SPEC 2.1's complete case: KCl between two reservoirs through a 1 um gap
SPEC_EXAMPLE = """
title = "KCl between two reservoirs through a 1 um gap"
[mesh]
generate = { shape = "interval", length = [1.0e-6], cells = [400] }
[model]
kind = "nernst-planck-poisson"
temperature = 298.15
[[species]]
name = "K"
charge = 1
diffusivity = 1.96e-9
initial = 10.0
[[species]]
name = "Cl"
charge = -1
diffusivity = 2.03e-9
initial = 10.0
[electrostatics]
relative_permittivity = 78.5
[[boundary]]
name = "xmin"
concentration = { K = 10.0, Cl = 10.0 }
potential = 0.0
[[boundary]]
name = "xmax"
concentration = { K = 1.0, Cl = 1.0 }
potential = 0.025
[solver]
steady = true
"""


def femflux_cli(*args, cwd: Path, timeout: float = 180.0, **popen) -> tuple[int, str, str]:
    """Run ``python -m femflux.cli ARGS`` in ``cwd``; return (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "femflux.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **popen)
    return proc.returncode, proc.stdout, proc.stderr


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` (parents made); return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_line(stderr: str) -> str:
    """The single ``femflux: error: ...`` line that is all of stderr (no traceback)."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one stderr line, got:\n{stderr[:3000]}"
    assert lines[0].startswith("femflux: error: "), stderr[:3000]
    return lines[0]
