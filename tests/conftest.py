"""Shared helpers for the femflux tests."""

from __future__ import annotations

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
