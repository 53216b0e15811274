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
