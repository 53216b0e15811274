"""Mesh layer: generated meshes, every file format, named sets, traps, info text."""

from pathlib import Path

import gmsh
import meshio
import numpy as np
import pytest
import skfem
from skfem.io.meshio import to_meshio

from femflux.case import GenerateSpec, MeshSpec
from femflux.errors import CaseError
from femflux.mesh import (
    boundary_measure,
    element_measures,
    facet_measures,
    generate_mesh,
    load_mesh,
    mesh_info,
    read_mesh,
    region_measure,
)

MESHES = Path(__file__).resolve().parents[1] / "meshes"
MSH_VERSIONS = [(2.2, 0), (2.2, 1), (4.1, 0), (4.1, 1)]


def gen(shape, length, cells, origin=None, cell="simplex"):
    return GenerateSpec(shape=shape, length=length, cells=cells, origin=origin or [], cell=cell)


# --------------------------------------------------------------------------- gmsh files


def _write_versions(directory: Path, stem: str) -> dict:
    files = {}
    for version, binary in MSH_VERSIONS:
        gmsh.option.setNumber("Mesh.MshFileVersion", version)
        gmsh.option.setNumber("Mesh.Binary", binary)
        path = directory / f"{stem}_{version}_{'bin' if binary else 'ascii'}.msh"
        gmsh.write(str(path))
        files[(version, binary)] = path
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.option.setNumber("Mesh.Binary", 0)
    return files


def _classify(dim: int, tags, axis: int, value: float) -> list[int]:
    """Entities of dimension dim whose bounding box lies on coordinate[axis] = value."""
    found = []
    for tag in tags:
        box = gmsh.model.getBoundingBox(dim, tag)
        if abs(box[axis] - value) < 1e-6 and abs(box[axis + 3] - value) < 1e-6:
            found.append(tag)
    return found


def _two_blocks(dim: int, named: bool = True, order: int = 1, recombine: bool = False):
    """[0,1]^d and [1,2]x[0,1]^(d-1): regions left/right, boundaries inlet/outlet/interface."""
    gmsh.model.add(f"blocks{dim}")
    occ = gmsh.model.occ
    if dim == 2:
        a, b = occ.addRectangle(0, 0, 0, 1, 1), occ.addRectangle(1, 0, 0, 1, 1)
    else:
        a, b = occ.addBox(0, 0, 0, 1, 1, 1), occ.addBox(1, 0, 0, 1, 1, 1)
    occ.fragment([(dim, a)], [(dim, b)])
    occ.synchronize()
    facets = [t for _, t in gmsh.model.getEntities(dim - 1)]
    groups = {
        "inlet": _classify(dim - 1, facets, 0, 0.0),
        "outlet": _classify(dim - 1, facets, 0, 2.0),
        "interface": _classify(dim - 1, facets, 0, 1.0),
    }
    for k, (name, tags) in enumerate(groups.items()):
        gmsh.model.addPhysicalGroup(dim - 1, tags, 10 + k, name=name if named else "")
    left, right = sorted(t for _, t in gmsh.model.getEntities(dim))
    gmsh.model.addPhysicalGroup(dim, [left], 1, name="left" if named else "")
    gmsh.model.addPhysicalGroup(dim, [right], 2, name="right" if named else "")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.25 if dim == 2 else 0.4)
    gmsh.option.setNumber("Mesh.RecombineAll", int(recombine))
    gmsh.model.mesh.generate(dim)
    gmsh.option.setNumber("Mesh.RecombineAll", 0)
    if order > 1:
        gmsh.model.mesh.setOrder(order)


@pytest.fixture(scope="module")
def gmsh_files(tmp_path_factory):
    """All Gmsh-made test files, written once."""
    d = tmp_path_factory.mktemp("gmsh")
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    files = {}
    try:
        _two_blocks(2)
        files["2d"] = _write_versions(d, "blocks2")
        gmsh.model.remove()
        _two_blocks(3)
        files["3d"] = _write_versions(d, "blocks3")
        gmsh.model.remove()
        _two_blocks(2, named=False)
        files["unnamed"] = d / "unnamed.msh"
        gmsh.write(str(files["unnamed"]))
        gmsh.model.remove()
        _two_blocks(2, order=2)
        files["order2"] = d / "order2.msh"
        gmsh.write(str(files["order2"]))
        gmsh.model.remove()
        _two_blocks(2, recombine=True)
        files["quads"] = d / "quads.msh"
        gmsh.write(str(files["quads"]))
        gmsh.model.remove()
        files.update(_special_gmsh_files(d))
    finally:
        gmsh.finalize()
    return files


def _special_gmsh_files(d: Path) -> dict:
    """A 1D rod, a surface-only box, MSH 2.2 with SaveAll=1, one left unnamed boundary."""
    files = {}
    gmsh.model.add("rod")
    gmsh.model.occ.addLine(gmsh.model.occ.addPoint(0, 0, 0), gmsh.model.occ.addPoint(2, 0, 0))
    gmsh.model.occ.synchronize()
    gmsh.model.addPhysicalGroup(1, [1], name="rod")
    gmsh.model.addPhysicalGroup(0, [1], name="left")
    gmsh.model.addPhysicalGroup(0, [2], name="right")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.1)
    gmsh.model.mesh.generate(1)
    files["rod"] = d / "rod.msh"
    gmsh.write(str(files["rod"]))
    gmsh.model.remove()

    gmsh.model.add("box")
    gmsh.model.occ.addBox(0, 0, 0, 1, 1, 1)
    gmsh.model.occ.synchronize()
    gmsh.model.addPhysicalGroup(2, [1, 2], name="skin")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.5)
    gmsh.model.mesh.generate(3)
    files["surface_only"] = d / "surface_only.msh"
    gmsh.write(str(files["surface_only"]))
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.option.setNumber("Mesh.SaveAll", 1)
    files["save_all"] = d / "save_all.msh"
    gmsh.write(str(files["save_all"]))
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.model.addPhysicalGroup(3, [1], name="volume")
    gmsh.model.addPhysicalGroup(2, [3], 77)  # no name
    files["one_unnamed"] = d / "one_unnamed.msh"
    gmsh.write(str(files["one_unnamed"]))
    gmsh.model.remove()
    return files


def _sorted_points(m) -> np.ndarray:
    p = np.round(m.mesh.p.T, 9)
    return p[np.lexsort(p.T[::-1])]


# --------------------------------------------------------------------------- generated


def test_generated_box_six_tetrahedra_per_brick():
    m = generate_mesh(gen("box", [2.0, 3.0, 4.0], [2, 3, 4]))
    assert m.mesh.nelements == 6 * 2 * 3 * 4
    assert list(m.boundaries) == ["xmin", "xmax", "ymin", "ymax", "zmin", "zmax"]
    assert list(m.regions) == ["domain"] and len(m.regions["domain"]) == m.mesh.nelements
    assert len(m.boundaries["xmin"]) == 2 * 3 * 4
    assert boundary_measure(m, "xmin") == pytest.approx(12.0)
    assert boundary_measure(m, "zmax") == pytest.approx(6.0)
    assert region_measure(m, "domain") == pytest.approx(24.0)
    assert m.geometry == "planar" and m.source == "generated" and m.warnings == []
    exterior = set(m.mesh.boundary_facets())
    assert set(np.concatenate(list(m.boundaries.values()))) == exterior


@pytest.mark.parametrize(
    "shape, cell, cells, nelements, kind",
    [
        ("interval", "simplex", [7], 7, "line"),
        ("rectangle", "simplex", [3, 2], 12, "triangle"),
        ("rectangle", "quad", [3, 2], 6, "quad"),
        ("box", "hex", [3, 2, 2], 12, "hexahedron"),
    ],
)
def test_generated_shapes(shape, cell, cells, nelements, kind):
    lengths = [3.0, 2.0, 1.0][: len(cells)]
    m = generate_mesh(gen(shape, lengths, cells, cell=cell))
    assert m.mesh.nelements == nelements and m.cell_type == kind and m.dim == len(cells)
    assert region_measure(m, "domain") == pytest.approx(np.prod(lengths))
    assert element_measures(m).sum() == pytest.approx(np.prod(lengths))
    for i, axis in enumerate("xyz"[: len(cells)]):
        face = np.prod(lengths) / lengths[i]
        assert boundary_measure(m, f"{axis}min") == pytest.approx(face)
        assert boundary_measure(m, f"{axis}max") == pytest.approx(face)


def test_generated_origin_and_scale():
    m = generate_mesh(gen("rectangle", [4.0, 2.0], [4, 2], origin=[1.0, -1.0]), scale=1e-6)
    assert m.mesh.p.min(axis=1) == pytest.approx([1e-6, -1e-6])
    assert m.mesh.p.max(axis=1) == pytest.approx([5e-6, 1e-6])
    assert boundary_measure(m, "ymax") == pytest.approx(4e-6)


def test_generated_axisymmetric_and_radial_measures():
    m = generate_mesh(gen("rectangle", [2.0, 1.0], [8, 4], origin=[1.0, 0.0]), axisymmetric=True)
    assert m.geometry == "axisymmetric"
    assert region_measure(m, "domain") == pytest.approx(np.pi * (3**2 - 1**2))
    assert region_measure(m, "domain", weighted=False) == pytest.approx(2.0)
    assert boundary_measure(m, "xmax") == pytest.approx(2 * np.pi * 3.0)
    assert boundary_measure(m, "ymin") == pytest.approx(np.pi * (3**2 - 1**2))
    sphere = generate_mesh(gen("interval", [1.0], [50]), symmetry="spherical")
    assert region_measure(sphere, "domain") == pytest.approx(4 / 3 * np.pi, rel=1e-12)
    assert boundary_measure(sphere, "xmax") == pytest.approx(4 * np.pi)
    assert boundary_measure(sphere, "xmin") == 0.0
    cylinder = generate_mesh(gen("interval", [2.0], [10], origin=[1.0]), symmetry="cylindrical")
    assert region_measure(cylinder, "domain") == pytest.approx(np.pi * (9 - 1))
    assert facet_measures(cylinder, cylinder.boundaries["xmin"]) == pytest.approx([2 * np.pi])


@pytest.mark.parametrize(
    "spec, options, culprit",
    [
        (gen("box", [1, 1, 1], [1, 1, 1], cell="quad"), {}, "cell"),
        (gen("rectangle", [1, 1], [1, 1], cell="hex"), {}, "cell"),
        (gen("interval", [1], [1], cell="quad"), {}, "cell"),
        (gen("sphere", [1], [1]), {}, "shape"),
        (gen("rectangle", [1, 1, 1], [1, 1]), {}, "length"),
        (gen("rectangle", [1, 1], [1, 0]), {}, "cells"),
        (gen("rectangle", [1, -1], [1, 1]), {}, "length"),
        (gen("rectangle", [1, 1], [1, 1], origin=[0.0]), {}, "origin"),
        (gen("box", [1, 1, 1], [1, 1, 1]), {"axisymmetric": True}, "axisymmetric"),
        (gen("rectangle", [1, 1], [1, 1]), {"symmetry": "spherical"}, "spherical"),
        (gen("rectangle", [1, 1], [1, 1], [-0.5, 0]), {"axisymmetric": True}, "x must be >= 0"),
        (gen("interval", [1], [1]), {"symmetry": "conical"}, "symmetry"),
        (gen("interval", [1], [1]), {"scale": 0.0}, "scale"),
    ],
)
def test_generate_errors(spec, options, culprit):
    with pytest.raises(CaseError, match=culprit):
        generate_mesh(spec, **options)


def test_load_mesh(gmsh_files):
    m = load_mesh(MeshSpec(generate=gen("interval", [1.0], [4]), scale=2.0))
    assert m.mesh.p.max() == pytest.approx(2.0)
    m = load_mesh(MeshSpec(file=gmsh_files["2d"][(4.1, 0)], scale=1e-3))
    assert set(m.regions) == {"left", "right"}
    assert region_measure(m, "right") == pytest.approx(1e-6)
    with pytest.raises(CaseError, match="file or generate"):
        load_mesh(MeshSpec())


# --------------------------------------------------------------------------- Gmsh files


@pytest.mark.parametrize("dim", [2, 3])
def test_gmsh_versions_read_equal(gmsh_files, dim):
    meshes = [read_mesh(path) for path in gmsh_files[f"{dim}d"].values()]
    reference = meshes[0]
    assert reference.dim == dim and reference.warnings == []
    assert list(reference.regions) == ["left", "right"]
    assert set(reference.boundaries) == {"inlet", "outlet", "interface"}
    for m in meshes[1:]:
        assert m.mesh.nelements == reference.mesh.nelements
        np.testing.assert_allclose(_sorted_points(m), _sorted_points(reference))
        assert set(m.regions) == set(reference.regions)
        for name, facets in reference.boundaries.items():
            assert len(m.boundaries[name]) == len(facets)
    for m in meshes:
        assert region_measure(m, "left") == pytest.approx(1.0)
        assert region_measure(m, "right") == pytest.approx(1.0)
        for name in ("inlet", "outlet", "interface"):
            assert boundary_measure(m, name) == pytest.approx(1.0)
        interface = m.mesh.f2t[:, m.boundaries["interface"]]
        assert np.all(interface[1] >= 0)  # interior facets between the two regions


def test_gmsh_second_order_read_as_first_order(gmsh_files):
    m = read_mesh(gmsh_files["order2"])
    assert m.cell_type == "triangle" and any("high-order" in w for w in m.warnings)
    assert m.mesh.nvertices == len(np.unique(m.mesh.t))  # mid-edge nodes dropped
    assert region_measure(m, "left") == pytest.approx(1.0)


def test_gmsh_quads(gmsh_files):
    m = read_mesh(gmsh_files["quads"])
    assert m.cell_type == "quad"
    assert region_measure(m, "left") + region_measure(m, "right") == pytest.approx(2.0)
    assert boundary_measure(m, "interface") == pytest.approx(1.0)


def test_gmsh_1d_rod_and_radial_symmetry(gmsh_files):
    m = read_mesh(gmsh_files["rod"], symmetry="cylindrical")
    assert m.dim == 1 and m.geometry == "cylindrical" and list(m.regions) == ["rod"]
    assert m.mesh.p[0, m.mesh.facets[0, m.boundaries["right"]]] == pytest.approx([2.0])
    assert region_measure(m, "rod") == pytest.approx(4 * np.pi)


def test_unnamed_groups_are_numbered_with_a_warning(gmsh_files):
    m = read_mesh(gmsh_files["unnamed"])
    assert list(m.regions) == ["1", "2"] and set(m.boundaries) == {"10", "11", "12"}
    assert any("10, 11, 12" in w and "unnamed" in w for w in m.warnings)
    m = read_mesh(gmsh_files["one_unnamed"])
    assert list(m.regions) == ["volume"] and set(m.boundaries) == {"skin"}
    assert any("77" in w and "dropped" in w for w in m.warnings)
    assert "77" in mesh_info(m)


def test_surface_only_volume_is_an_error(gmsh_files):
    with pytest.raises(CaseError, match="surface_only.msh contains only surface cells.*Volume"):
        read_mesh(gmsh_files["surface_only"])


def test_save_all_trap_is_an_error(gmsh_files):
    with pytest.raises(CaseError, match="save_all.msh.*SaveAll=0"):
        read_mesh(gmsh_files["save_all"])


# --------------------------------------------------------------------------- other formats


def test_vtu_and_xdmf_keep_set_names(gmsh_files, tmp_path):
    raw = meshio.read(gmsh_files["3d"][(4.1, 0)])
    raw.cell_sets = {k: v for k, v in raw.cell_sets.items() if not k.startswith("gmsh:")}
    reference = read_mesh(gmsh_files["3d"][(4.1, 0)])
    for suffix in (".vtu", ".xdmf"):
        path = tmp_path / f"blocks{suffix}"
        meshio.write(path, raw)  # meshio encodes the sets as cell data "inlet-outlet-..."
        m = read_mesh(path)
        assert set(m.regions) == {"left", "right"}
        assert set(m.boundaries) == {"inlet", "outlet", "interface"}
        assert m.mesh.nelements == reference.mesh.nelements
        assert boundary_measure(m, "interface") == pytest.approx(1.0)


def test_vtu_with_bare_gmsh_tags(gmsh_files, tmp_path):
    raw = meshio.read(gmsh_files["2d"][(2.2, 0)])
    bare = meshio.Mesh(
        raw.points, raw.cells, cell_data={"gmsh:physical": raw.cell_data["gmsh:physical"]}
    )
    meshio.write(tmp_path / "bare.vtu", bare)
    m = read_mesh(tmp_path / "bare.vtu")
    assert list(m.regions) == ["1", "2"] and set(m.boundaries) == {"10", "11", "12"}
    assert any("named by their number" in w for w in m.warnings)


ABAQUS = """*HEADING
two squares
*NODE
1, 0.0, 0.0
2, 1.0, 0.0
3, 1.0, 1.0
4, 0.0, 1.0
5, 2.0, 0.0
6, 2.0, 1.0
*ELEMENT, TYPE=CPS3, ELSET=left
1, 1, 2, 3
2, 1, 3, 4
*ELEMENT, TYPE=CPS3, ELSET=right
3, 2, 5, 6
4, 2, 6, 3
*ELSET, ELSET=everything
1, 2, 3, 4
*NSET, NSET=xmin
1, 4
*NSET, NSET=xmax
5, 6
*NSET, NSET=corner
5
"""


def test_abaqus_element_and_node_sets(tmp_path):
    path = tmp_path / "squares.inp"
    path.write_text(ABAQUS)
    m = read_mesh(path)
    assert list(m.regions) == ["left", "right"] and m.dim == 2
    assert set(m.boundaries) == {"xmin", "xmax"}
    assert boundary_measure(m, "xmax") == pytest.approx(1.0)
    assert any("'everything' covers the whole mesh" in w for w in m.warnings)
    assert any("corner" in w for w in m.warnings)


def test_medit_refs(tmp_path):
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [2, 0], [2, 1.0]])
    triangles = np.array([[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]])
    lines = np.array([[0, 3], [4, 5]])
    mesh = meshio.Mesh(
        points,
        [("triangle", triangles), ("line", lines)],
        cell_data={"medit:ref": [np.array([1, 1, 2, 2]), np.array([3, 4])]},
    )
    meshio.write(tmp_path / "squares.mesh", mesh)
    m = read_mesh(tmp_path / "squares.mesh")
    assert list(m.regions) == ["1", "2"] and set(m.boundaries) == {"3", "4"}
    assert any("named by their number" in w for w in m.warnings)
    single = meshio.Mesh(points, [("triangle", triangles)], cell_data={"medit:ref": [np.ones(4)]})
    single.cell_data["medit:ref"] = [np.ones(4, dtype=int)]
    meshio.write(tmp_path / "single.mesh", single)
    m = read_mesh(tmp_path / "single.mesh")
    assert list(m.regions) == ["domain"] and m.warnings == []


def test_hexahedra_from_vtu_and_inverted_hexahedra(tmp_path):
    hexes = skfem.MeshHex1.init_tensor(*[np.linspace(0, 1, 3)] * 3)
    raw = to_meshio(hexes)
    x0 = hexes.facets[:, hexes.facets_satisfying(lambda x: x[0] < 1e-12)]
    x0 = np.array([_counterclockwise_yz(hexes.p, f) for f in x0.T])
    sets = {"cube": [np.arange(8), np.array([], int)], "x0": [np.array([], int), np.arange(4)]}
    with_face = meshio.Mesh(raw.points, raw.cells + [("quad", x0)], cell_sets=sets)
    meshio.write(tmp_path / "hex.vtu", with_face)
    m = read_mesh(tmp_path / "hex.vtu")
    assert m.cell_type == "hexahedron" and m.mesh.nelements == 8
    assert list(m.regions) == ["cube"] and len(m.boundaries["x0"]) == 4
    assert region_measure(m, "cube") == pytest.approx(1.0)
    assert boundary_measure(m, "x0") == pytest.approx(1.0)
    cells = raw.cells_dict["hexahedron"].copy()
    cells[:3] = cells[:3][:, [4, 5, 6, 7, 0, 1, 2, 3]]  # three mirrored cells
    meshio.write(tmp_path / "inverted.vtu", meshio.Mesh(raw.points, [("hexahedron", cells)]))
    m = read_mesh(tmp_path / "inverted.vtu")
    assert any("3 of 8 elements were inverted" in w for w in m.warnings)
    assert element_measures(m) == pytest.approx(np.full(8, 1 / 8))
    det = m.mesh.mapping().detDF(np.full((3, 1), 0.5))
    assert np.all(np.sign(det) == np.sign(det[0]))


def _counterclockwise_yz(p, quad) -> np.ndarray:
    """The nodes of a face in the plane x = const in cyclic order."""
    y, z = p[1:, quad] - p[1:, quad].mean(axis=1, keepdims=True)
    return quad[np.argsort(np.arctan2(z, y))]


def test_1d_mesh_embedded_in_3d(tmp_path):
    x = np.linspace(0.0, 1.0, 11)
    points = np.column_stack([x, np.zeros(11), np.zeros(11)])
    lines = np.column_stack([np.arange(10), np.arange(1, 11)])
    meshio.write(tmp_path / "line.vtu", meshio.Mesh(points, [("line", lines)]))
    m = read_mesh(tmp_path / "line.vtu", symmetry="spherical")
    assert m.dim == 1 and region_measure(m, "domain", weighted=False) == pytest.approx(1.0)


# --------------------------------------------------------------------------- traps


SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def _write(tmp_path, name, points, cells, **kwargs) -> Path:
    path = tmp_path / name
    meshio.write(path, meshio.Mesh(points, cells, **kwargs))
    return path


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(CaseError, match="nothere.msh not found"):
        read_mesh(tmp_path / "nothere.msh")
    (tmp_path / "garbage.msh").write_text("not a mesh\n")
    with pytest.raises(CaseError, match="garbage.msh cannot be read"):
        read_mesh(tmp_path / "garbage.msh")
    (tmp_path / "garbage.vtu").write_text("not a mesh\n")
    with pytest.raises(CaseError, match="garbage.vtu cannot be read"):
        read_mesh(tmp_path / "garbage.vtu")
    (tmp_path / "model.geo").write_text("Point(1) = {0, 0, 0};\n")
    with pytest.raises(CaseError, match="model.geo is a Gmsh geometry"):
        read_mesh(tmp_path / "model.geo")


def test_degenerate_element_is_an_error(tmp_path):
    points = np.vstack([SQUARE, [[2.0, 0.0]]])
    cells = [("triangle", np.array([[0, 1, 2], [0, 2, 3], [0, 1, 4]]))]  # 0, 1, 4 collinear
    with pytest.raises(CaseError, match="flat.vtu: 1 degenerate"):
        read_mesh(_write(tmp_path, "flat.vtu", points, cells))


def test_twisted_quad_is_an_error(tmp_path):
    cells = [("quad", np.array([[0, 2, 1, 3]]))]  # a bow tie
    with pytest.raises(CaseError, match="twisted.vtu: 1 degenerate or twisted"):
        read_mesh(_write(tmp_path, "twisted.vtu", SQUARE, cells))


def test_inverted_triangles_and_quads_are_reoriented(tmp_path):
    points = np.vstack([SQUARE, [[2.0, 0.0], [2.0, 1.0]]])
    quads = np.array([[0, 1, 2, 3], [1, 2, 5, 4]])  # the second one clockwise
    m = read_mesh(_write(tmp_path, "quads.vtu", points, [("quad", quads)]))
    assert any("1 of 2 elements were inverted" in w for w in m.warnings)
    assert element_measures(m) == pytest.approx([1.0, 1.0])
    clockwise = [("triangle", np.array([[0, 2, 1], [0, 3, 2]]))]  # all clockwise: silent
    m = read_mesh(_write(tmp_path, "cw.vtu", SQUARE, clockwise))
    assert m.warnings == [] and region_measure(m, "domain") == pytest.approx(1.0)


def test_boundary_that_is_not_a_facet(tmp_path):
    cells = [("triangle", np.array([[0, 1, 2], [0, 2, 3]])), ("line", np.array([[1, 3]]))]
    path = _write(
        tmp_path,
        "diag.vtu",
        SQUARE,
        cells,
        cell_sets={
            "square": [np.array([0, 1]), np.array([], dtype=int)],
            "diagonal": [np.array([], dtype=int), np.array([0])],
        },
    )
    with pytest.raises(CaseError, match="boundary group 'diagonal'.*not facets"):
        read_mesh(path)


def test_mixed_cell_types_are_an_error(tmp_path):
    points = np.vstack([SQUARE, [[2.0, 0.5]]])
    cells = [("quad", np.array([[0, 1, 2, 3]])), ("triangle", np.array([[1, 4, 2]]))]
    with pytest.raises(CaseError, match="mixes quad and triangle"):
        read_mesh(_write(tmp_path, "mixed.vtu", points, cells))


def test_unsupported_cell_type(tmp_path):
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1.0]])
    cells = [("wedge", np.array([[0, 1, 2, 3, 4, 5]]))]
    with pytest.raises(CaseError, match="wedge cells are not supported"):
        read_mesh(_write(tmp_path, "wedge.vtu", points, cells))


def test_overlapping_and_missing_regions(tmp_path):
    points = np.vstack([SQUARE, [[2.0, 0.0], [2.0, 1.0]]])
    triangles = [("triangle", np.array([[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]]))]
    sets = {"a": [np.array([0, 1])], "b": [np.array([1, 2])]}
    path = _write(tmp_path, "overlap.inp", points, triangles, cell_sets=sets)
    with pytest.raises(CaseError, match="regions 'a' and 'b' overlap"):
        read_mesh(path)
    path = _write(tmp_path, "partial.inp", points, triangles, cell_sets={"a": [np.array([0])]})
    m = read_mesh(path)
    assert list(m.regions) == ["a", "unassigned"]
    assert m.regions["unassigned"].tolist() == [1, 2, 3]
    assert any("3 elements are in no group" in w for w in m.warnings)
    ids = m.region_ids
    assert ids.tolist() == [0, 1, 1, 1] and m.region_names == {0: "a", 1: "unassigned"}


def test_curve_spread_in_the_plane_is_an_error(tmp_path):
    lines = [("line", np.array([[0, 1], [1, 2]]))]
    with pytest.raises(CaseError, match="bent.vtu contains only curve cells"):
        read_mesh(_write(tmp_path, "bent.vtu", SQUARE[:3], lines))


def test_planar_mesh_orientation(tmp_path):
    triangles = [("triangle", np.array([[0, 1, 2], [0, 2, 3]]))]
    lifted = np.column_stack([SQUARE, np.full(4, 5.0)])
    m = read_mesh(_write(tmp_path, "lifted.vtu", lifted, triangles))
    assert m.dim == 2 and any("z = 5 dropped" in w for w in m.warnings)
    upright = np.column_stack([SQUARE[:, 0], np.zeros(4), SQUARE[:, 1]])
    with pytest.raises(CaseError, match="upright.vtu is a planar mesh in the xz plane"):
        read_mesh(_write(tmp_path, "upright.vtu", upright, triangles))


def test_axisymmetric_checks(tmp_path):
    triangles = [("triangle", np.array([[0, 1, 2], [0, 2, 3]]))]
    shifted = SQUARE - [0.5, 0.0]
    with pytest.raises(CaseError, match=r"x must be >= 0 .*min x = -0.5"):
        read_mesh(_write(tmp_path, "shifted.vtu", shifted, triangles), axisymmetric=True)
    nudged = SQUARE - [1e-15, 0.0]
    m = read_mesh(_write(tmp_path, "nudged.vtu", nudged, triangles), axisymmetric=True)
    assert m.mesh.p[0].min() == 0.0
    box = generate_mesh(gen("box", [1, 1, 1], [1, 1, 1]))
    assert box.dim == 3
    with pytest.raises(CaseError, match="axisymmetric needs a 2D mesh"):
        read_mesh(MESHES / "porous_electrode.msh", axisymmetric=True)


# --------------------------------------------------------------------------- repository meshes


def test_porous_electrode_mesh():
    path = MESHES / "porous_electrode.msh"
    assert path.stat().st_size < 3e6
    m = read_mesh(path, scale=1e-6)
    assert m.dim == 3 and m.cell_type == "tetra" and m.warnings == []
    assert list(m.regions) == ["electrolyte"]
    assert set(m.boundaries) == {"separator", "current_collector", "walls", "particles"}
    assert 5_000 < m.mesh.nelements < 40_000
    assert boundary_measure(m, "separator") == pytest.approx(400e-12)
    assert boundary_measure(m, "current_collector") == pytest.approx(400e-12)
    assert boundary_measure(m, "walls") == pytest.approx(4 * 800e-12)
    spheres = 4 / 3 * np.pi * (5**3 * 3 + 6**3 + 4**3)
    assert region_measure(m, "electrolyte") == pytest.approx((16000 - spheres) * 1e-18, rel=0.01)
    assert boundary_measure(m, "particles") == pytest.approx(
        4 * np.pi * (3 * 25 + 36 + 16) * 1e-12, rel=0.02
    )


def test_pipette_tip_mesh():
    path = MESHES / "pipette_tip.msh"
    assert path.stat().st_size < 3e6
    m = read_mesh(path, scale=1e-9, axisymmetric=True)
    assert m.dim == 2 and m.geometry == "axisymmetric" and m.warnings == []
    assert list(m.regions) == ["pipette", "bath"]
    assert set(m.boundaries) == {"axis", "pipette_top", "bath_far", "glass"}
    assert 3_000 < m.mesh.nelements < 40_000
    p, facets = m.mesh.p, m.mesh.facets
    assert p[0].min() == 0.0
    assert np.all(p[0, facets[:, m.boundaries["axis"]]] == 0.0)
    assert np.allclose(p[1, facets[:, m.boundaries["pipette_top"]]], 4e-6)
    r_top = (50.0 + 4000.0 * np.tan(np.radians(7.0))) * 1e-9
    assert boundary_measure(m, "pipette_top") == pytest.approx(np.pi * r_top**2)
    assert boundary_measure(m, "axis") == 0.0
    tip = p[:, m.mesh.t[:, m.regions["pipette"]]].reshape(2, -1)
    assert tip[1].min() == pytest.approx(0.0, abs=1e-15)  # the pipette ends at the tip, z = 0
    sizes = np.sqrt(element_measures(m, weighted=False))
    assert sizes.min() < 10e-9 and sizes.max() > 100e-9  # refined at the tip


def test_mesh_info_text():
    m = read_mesh(MESHES / "pipette_tip.msh", scale=1e-9, axisymmetric=True)
    text = mesh_info(m)
    for word in ("dimension     2", "axisymmetric", "triangle", "pipette_top", "glass", "bath"):
        assert word in text
    assert str(m.mesh.nelements) in text and "2 pi r" in text
    text = mesh_info(generate_mesh(gen("box", [1, 2, 3], [1, 2, 3], cell="hex")))
    assert "hexahedron" in text and "zmax" in text and "volume (m^3)" in text
    assert "z 0 .. 3 m" in text
