"""Pictures and animations (femflux.plot), rendered off-screen on synthetic results."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import skfem

from femflux.errors import CaseError
from femflux.mesh import FemMesh
from femflux.plot import animate, plot_mesh, plot_result, tag_colors, to_pyvista

L = 1e-6  # domain length (m)
MODELS = ("nernst-planck-poisson", "stress-diffusion", "diffusion", "onsager")
REGION_NAMES = {"0": "electrolyte", "1": "membrane"}


# --------------------------------------------------------------------------- synthetic results


def make_mesh(dim: int) -> FemMesh:
    """A small mesh of a 1D bar, 2D strip or 3D brick with two regions and named ends."""
    if dim == 1:
        m = skfem.MeshLine(np.linspace(0, L, 41))
    elif dim == 2:
        m = skfem.MeshTri.init_tensor(np.linspace(0, 2 * L, 33), np.linspace(0, L, 17))
    else:
        axes = [np.linspace(0, L, 7), np.linspace(0, L, 7), np.linspace(0, 2 * L, 13)]
        m = skfem.MeshTet.init_tensor(*axes)
    x_mid = 0.5 * float(m.p[0].max())
    centres = m.p[:, m.t].mean(axis=1)
    regions = {
        "electrolyte": np.flatnonzero(centres[0] < x_mid),
        "membrane": np.flatnonzero(centres[0] >= x_mid),
    }
    facets = m.boundary_facets()
    fx = m.p[0, m.facets[:, facets]].mean(axis=0)
    boundaries = {
        "left": facets[np.isclose(fx, 0.0)],
        "right": facets[np.isclose(fx, m.p[0].max())],
    }
    if dim > 1:
        fy = m.p[1, m.facets[:, facets]].mean(axis=0)
        boundaries["bottom"] = facets[np.isclose(fy, 0.0)]
    return FemMesh(mesh=m, boundaries=boundaries, regions=regions)


def _fields(model: str, p: np.ndarray, c: np.ndarray, s: float) -> tuple[dict, dict]:
    """Point and cell arrays of ``model`` at points p (n, 3) and cell centres c, amplitude s."""
    x, y, z = (p[:, i] / L for i in range(3))
    cx, cy = c[:, 0] / L, c[:, 1] / L
    point, cell = {}, {}
    if model == "nernst-planck-poisson":
        phi = s * 0.05 * np.cos(np.pi * x) * (1 + 0.3 * y + 0.2 * z)
        point = {"K": 100 * np.exp(-phi / 0.0257), "Cl": 100 * np.exp(phi / 0.0257), "phi": phi}
        point |= {"mu_K": 8.314 * 298 * np.log(point["K"] / 100) + 96485 * phi}
        swirl = np.column_stack([-(cy - 0.5), cx - 1.0, np.zeros_like(cx)])
        cell = {"J_K": s * 1e-3 * swirl, "J_Cl": -s * 1e-3 * swirl}
    elif model == "stress-diffusion":
        u = s * 2e-9 * np.column_stack([x**2, 0.3 * x * y, 0.1 * z])
        sigma = np.zeros((len(x), 3, 3))
        sigma[:, 0, 0] = s * 1e8 * (x - 0.5)
        sigma[:, 1, 1] = s * 5e7 * (y - 0.3)
        sigma[:, 0, 1] = sigma[:, 1, 0] = s * 2e7 * x
        sigma_h = np.einsum("nii->n", sigma) / 3
        dev = sigma - sigma_h[:, None, None] * np.eye(3)
        point = {"Li": 1000 * np.exp(2e-9 * sigma_h * s), "u": u, "sigma": sigma.reshape(-1, 9)}
        point |= {"sigma_h": sigma_h, "von_mises": np.sqrt(1.5 * np.einsum("nij,nij->n", dev, dev))}
        cell = {"J_Li": s * 1e-4 * np.column_stack([np.ones_like(cx), 0.2 * cy, 0 * cx])}
    elif model == "diffusion":
        point = {"c": 1e-3 + 10 * s * np.exp(-20 * ((x - 0.3) ** 2 + (y - 0.5) ** 2 + z**2))}
        cell = {"J_c": s * 1e-5 * np.column_stack([cx - 0.3, cy - 0.5, 0 * cx])}
    else:  # onsager
        a = 500 + 400 * s * np.tanh(8 * (x - 0.5 - 0.2 * y))
        point = {"A": a, "B": 1000 - a, "mu_A": 2478 * np.log(a / (1000 - a))}
        cell = {"J_A": s * 1e-5 * np.column_stack([np.ones_like(cx), 0 * cx, 0 * cx])}
    return point, cell


def write_result(folder: Path, model: str, dim: int, steps: int = 3) -> Path:
    """A results folder: solution.vtu, summary.json and a series.pvd of ``steps`` frames."""
    folder.mkdir(parents=True, exist_ok=True)
    fem = make_mesh(dim)
    grid = to_pyvista(fem)
    centres = np.asarray(grid.cell_centers().points)
    times = [0.1 * (k + 1) for k in range(steps)]
    entries = []
    for k, t in enumerate(times):
        point, cell = _fields(model, np.asarray(grid.points), centres, 1 - np.exp(-10 * t))
        frame = to_pyvista(fem, point_data=point, cell_data=cell)
        frame.save(folder / f"step_{k:05d}.vtu")
        entries.append(f'<DataSet timestep="{t}" file="step_{k:05d}.vtu"/>')
    frame.save(folder / "solution.vtu")
    pvd = '<VTKFile type="Collection"><Collection>' + "".join(entries) + "</Collection></VTKFile>"
    (folder / "series.pvd").write_text(pvd)
    summary = {"model": model, "steady": False, "time": times[-1], "region_names": REGION_NAMES}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


# --------------------------------------------------------------------------- helpers


def read_png(path: Path) -> np.ndarray:
    assert path.is_file(), f"{path} was not written"
    return iio.imread(path)[..., :3]


def assert_picture(path: Path, window: tuple[int, int]) -> np.ndarray:
    """The PNG exists, has the window size and shows something (not one flat colour)."""
    img = read_png(path)
    assert img.shape[:2] == (window[1], window[0])
    assert img.std() > 10, f"{path.name} looks blank"
    colors = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colors) > 50, f"{path.name} has only {len(colors)} colours"
    return img


def close(picture) -> None:
    if hasattr(picture, "close") and not hasattr(picture, "savefig"):
        picture.close()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[tuple[str, int], Path]:
    """One results folder per (model, dimension)."""
    root = tmp_path_factory.mktemp("results")
    return {
        (model, dim): write_result(root / f"{model}_{dim}d", model, dim)
        for model in MODELS
        for dim in (1, 2, 3)
    }


SMALL = (480, 360)


# --------------------------------------------------------------------------- plot_result


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("model", MODELS)
def test_default_picture_of_every_model(results, tmp_path, model, dim):
    out = tmp_path / "default.png"
    picture = plot_result(results[model, dim], out=out, window=SMALL)
    assert_picture(out, SMALL)
    if dim == 1:
        assert hasattr(picture, "savefig")  # a matplotlib Figure
    else:
        assert hasattr(picture, "screenshot")  # a pyvista Plotter
    close(picture)


@pytest.mark.parametrize(
    ("model", "dim", "field", "options"),
    [
        ("nernst-planck-poisson", 2, "phi", {}),
        ("nernst-planck-poisson", 2, "J_K", {}),
        ("nernst-planck-poisson", 2, "mu_K", {"contours": 5}),
        ("nernst-planck-poisson", 2, "region", {}),
        ("nernst-planck-poisson", 3, "phi", {"camera": "x"}),
        ("nernst-planck-poisson", 3, "J_K", {"slice_axis": "xyz"}),
        ("nernst-planck-poisson", 3, "J_K", {"slice_axis": "z", "camera": "z"}),
        ("nernst-planck-poisson", 3, "Cl", {"clip": False, "camera": "y"}),
        ("nernst-planck-poisson", 3, "J_Cl", {"clip": False}),
        ("stress-diffusion", 2, "von_mises", {}),
        ("stress-diffusion", 2, "sigma", {"warp": 0}),
        ("stress-diffusion", 2, "sigma_xy", {}),
        ("stress-diffusion", 3, "u", {}),
        ("stress-diffusion", 3, "sigma_h", {"warp": 10.0}),
        ("stress-diffusion", 3, "Li", {"warp": False, "contours": 4}),
        ("diffusion", 2, "c", {"log": True, "contours": 4}),
        ("diffusion", 3, "c", {"log": True}),
        ("stress-diffusion", 1, "sigma_xx", {}),
        ("nernst-planck-poisson", 1, "J_K", {}),
        ("diffusion", 1, None, {"log": True}),
    ],
)
def test_field_and_option_pictures(results, tmp_path, model, dim, field, options):
    out = tmp_path / "field.png"
    close(plot_result(results[model, dim], field, out, window=SMALL, **options))
    assert_picture(out, SMALL)


@pytest.mark.parametrize("dim", [1, 2])
def test_picture_has_the_default_window_size(results, tmp_path, dim):
    out = tmp_path / "big.png"
    close(plot_result(results["nernst-planck-poisson", dim], out=out))
    assert_picture(out, (1200, 900))


def test_a_vtu_file_and_a_dataset_are_sources(results, tmp_path):
    import pyvista as pv

    folder = results["onsager", 2]
    out = tmp_path / "step.png"
    close(plot_result(folder / "step_00001.vtu", "B", out, window=SMALL))
    assert_picture(out, SMALL)
    out = tmp_path / "series.png"
    close(plot_result(folder / "series.pvd", "A", out, window=SMALL))
    assert_picture(out, SMALL)
    grid = pv.read(folder / "solution.vtu")
    out = tmp_path / "dataset.png"
    close(plot_result(grid, "mu_A", out, window=SMALL, summary={"region_names": REGION_NAMES}))
    assert_picture(out, SMALL)


def test_missing_field_lists_the_available_ones(results):
    with pytest.raises(CaseError) as info:
        plot_result(results["nernst-planck-poisson", 2], "Na", window=SMALL)
    message = str(info.value)
    assert message.startswith("field 'Na' not in solution.vtu; available: K, Cl, phi")
    assert "J_K" in message and "region" in message


def test_missing_path_and_bad_options_are_case_errors(results, tmp_path):
    with pytest.raises(CaseError, match="no such file"):
        plot_result(tmp_path / "nowhere")
    with pytest.raises(CaseError, match="no solution.vtu"):
        plot_result(tmp_path)
    folder = results["diffusion", 2]
    for options in ({"camera": "top"}, {"slice_axis": "w"}, {"contours": -1}, {"warp": "big"}):
        with pytest.raises(CaseError):
            plot_result(folder, **options)


def test_log_scale_clips_non_positive_values(tmp_path):
    fem = make_mesh(2)
    grid = to_pyvista(fem)
    c = np.asarray(grid.points)[:, 0] / L - 0.5  # half the values are <= 0
    grid = to_pyvista(fem, point_data={"c": c * 1e3})
    out = tmp_path / "log.png"
    close(plot_result(grid, out=out, log=True, window=SMALL))
    assert_picture(out, SMALL)
    grid.point_data["c"] = -np.ones(grid.n_points)
    with pytest.raises(CaseError, match="log scale needs positive values"):
        plot_result(grid, log=True)


# --------------------------------------------------------------------------- plot_mesh


def test_mesh_picture_has_one_colour_per_tag(tmp_path):
    fem = make_mesh(2)
    colors = tag_colors(fem)
    assert len(colors) == len(fem.regions) + len(fem.boundaries)
    assert len(set(colors.values())) == len(colors)
    out = tmp_path / "mesh.png"
    close(plot_mesh(fem, out, window=(800, 600)))
    img = assert_picture(out, (800, 600)).astype(int)
    for tag, color in colors.items():
        rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
        close_pixels = (np.abs(img - rgb).max(axis=2) <= 6).sum()
        assert close_pixels > 150, f"{tag} ({color}) not in the picture"


@pytest.mark.parametrize("dim", [1, 3])
def test_mesh_pictures_in_1d_and_3d(tmp_path, dim):
    out = tmp_path / "mesh.png"
    close(plot_mesh(make_mesh(dim), out, window=SMALL))
    assert_picture(out, SMALL)


def test_plot_result_of_a_mesh_draws_its_tags(tmp_path):
    out = tmp_path / "mesh.png"
    m = skfem.MeshQuad.init_tensor(np.linspace(0, 1, 5), np.linspace(0, 2, 9))
    close(plot_result(m, out=out, window=SMALL))  # a bare scikit-fem mesh: one region
    assert_picture(out, SMALL)


# --------------------------------------------------------------------------- animate


@pytest.mark.parametrize(("model", "dim", "field"), [
    ("nernst-planck-poisson", 2, "K"),
    ("stress-diffusion", 3, "von_mises"),
    ("onsager", 1, None),
])
def test_animation_has_one_frame_per_step_and_a_fixed_colour_bar(results, tmp_path, model,
                                                                  dim, field):
    out = animate(results[model, dim], field, tmp_path / "movie.gif", window=SMALL)
    frames = iio.imread(out, index=None)
    assert frames.shape[:3] == (3, SMALL[1], SMALL[0])
    assert all(frame[..., :3].std() > 10 for frame in frames)
    assert not np.array_equal(frames[0], frames[2])  # time label and field change
    if dim > 1:  # same colour range on every frame: the colour-bar strip does not change
        strip = slice(int(0.83 * SMALL[1]), SMALL[1])
        first, last = frames[0][..., :3].astype(int), frames[2][..., :3].astype(int)
        assert np.abs(first[strip] - last[strip]).mean() < 1.0  # GIF palettes differ a bit
        assert np.abs(first - last).mean() > 2.0


def test_animation_without_series_pvd_uses_step_files(results, tmp_path):
    import shutil

    folder = shutil.copytree(results["diffusion", 2], tmp_path / "copy")
    (folder / "series.pvd").unlink()
    out = animate(folder, "c", tmp_path / "c.gif", fps=5, window=SMALL, contours=3)
    assert iio.imread(out, index=None).shape[0] == 3


def test_animation_errors(results, tmp_path):
    folder = results["diffusion", 2]
    with pytest.raises(CaseError, match=".gif or .mp4"):
        animate(folder, "c", tmp_path / "movie.avi")
    with pytest.raises(CaseError, match="not a transient results folder"):
        animate(tmp_path, "c", tmp_path / "movie.gif")
    with pytest.raises(CaseError, match="field 'Q' not in"):
        animate(folder, "Q", tmp_path / "movie.gif")
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        with pytest.raises(CaseError, match="imageio-ffmpeg"):
            animate(folder, "c", tmp_path / "movie.mp4")
    else:
        assert animate(folder, "c", tmp_path / "movie.mp4", window=SMALL).stat().st_size > 0


# --------------------------------------------------------------------------- to_pyvista


@pytest.mark.parametrize(("mesh", "cell_type"), [
    (skfem.MeshLine(np.linspace(0, 1, 4)), 3),
    (skfem.MeshTri.init_tensor(np.linspace(0, 1, 3), np.linspace(0, 1, 3)), 5),
    (skfem.MeshQuad.init_tensor(np.linspace(0, 1, 3), np.linspace(0, 1, 3)), 9),
    (skfem.MeshTet.init_tensor(*[np.linspace(0, 1, 3)] * 3), 10),
    (skfem.MeshHex.init_tensor(*[np.linspace(0, 1, 3)] * 3), 12),
])
def test_to_pyvista_converts_every_cell_type(mesh, cell_type):
    n = mesh.p.shape[1]
    grid = to_pyvista(
        mesh,
        point_data={"c": np.arange(n, dtype=float), "v": np.ones((mesh.dim(), n))},
        cell_data={"region": np.zeros(mesh.nelements, dtype=int)},
    )
    assert set(grid.celltypes) == {cell_type}
    assert grid.n_points == n and grid.n_cells == mesh.nelements
    assert grid.points.shape == (n, 3)
    assert grid.point_data["v"].shape == ((n,) if mesh.dim() == 1 else (n, 3))
    sizes = grid.compute_cell_sizes(length=True, area=True, volume=True)
    measure = {1: "Length", 2: "Area", 3: "Volume"}[mesh.dim()]
    assert np.all(sizes.cell_data[measure] > 0)  # vertex order is valid
    assert np.isclose(sizes.cell_data[measure].sum(), 1.0)


def test_to_pyvista_of_a_fem_mesh_has_its_regions():
    fem = make_mesh(3)
    grid = to_pyvista(fem)
    assert set(np.unique(grid.cell_data["region"])) == {0, 1}
    with pytest.raises(ValueError, match="rows"):
        to_pyvista(fem, point_data={"bad": np.zeros(3)})


def test_field_units():
    from femflux.plot import field_unit

    assert field_unit("K") == "mol/m³"
    assert field_unit("phi") == "V"
    assert field_unit("u") == field_unit("u_x") == "m"
    assert field_unit("sigma") == field_unit("sigma_xy") == field_unit("von_mises") == "Pa"
    assert field_unit("mu_K") == "J/mol"
    assert field_unit("J_Cl") == "mol/(m² s)"
