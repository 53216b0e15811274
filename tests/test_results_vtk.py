"""femflux.results.vtk: the one conversion of a mesh and its fields to VTK, used both for
the files of a results folder and for pictures (femflux.plot.to_pyvista)."""

import numpy as np
import pytest
import pyvista as pv
import skfem

from femflux.mesh import FemMesh
from femflux.plot import to_pyvista as plot_to_pyvista
from femflux.results import to_meshio, to_pyvista, write_vtu


@pytest.mark.parametrize("mesh", [
    skfem.MeshLine(np.linspace(0, 1, 5)),
    skfem.MeshTri.init_tensor(np.linspace(0, 1, 3), np.linspace(0, 1, 4)),
    skfem.MeshQuad.init_tensor(np.linspace(0, 1, 3), np.linspace(0, 1, 4)),
    skfem.MeshTet.init_tensor(*[np.linspace(0, 1, 3)] * 3),
    skfem.MeshHex.init_tensor(*[np.linspace(0, 1, 3)] * 3),
])
def test_written_vtu_is_the_grid_of_the_pictures(mesh, tmp_path):
    fem = FemMesh(mesh=mesh, boundaries={}, regions={"domain": np.arange(mesh.nelements)})
    n, nc = mesh.nvertices, mesh.nelements
    point = {"c": np.linspace(0, 1, n), "u": np.ones((n, 3)), "sigma": np.zeros((n, 9))}
    cell = {"J_c": np.ones((3, nc)).T}  # scikit-fem's (3, n) layout, as the models give it
    write_vtu(tmp_path / "s.vtu", fem, point, cell)
    written = pv.read(tmp_path / "s.vtu")
    grid = to_pyvista(fem, point, cell)
    assert plot_to_pyvista is to_pyvista
    np.testing.assert_array_equal(written.points, grid.points)
    np.testing.assert_array_equal(written.celltypes, grid.celltypes)
    np.testing.assert_array_equal(written.cells, grid.cells)
    for data, other in ((written.point_data, grid.point_data),
                        (written.cell_data, grid.cell_data)):
        assert set(data.keys()) == set(other.keys())
        for name in data.keys():
            np.testing.assert_array_equal(data[name], other[name])
    assert set(grid.cell_data.keys()) == {"J_c", "region"}
    assert grid.cell_data["J_c"].shape == (nc, 3)
    sizes = written.compute_cell_sizes(length=True, area=True, volume=True)
    measure = {1: "Length", 2: "Area", 3: "Volume"}[mesh.dim()]
    assert np.all(sizes.cell_data[measure] > 0)  # VTK's vertex order, positive tetrahedra
    m = to_meshio(fem, point, cell)
    assert m.points.shape == (n, 3) and len(m.cells) == 1
