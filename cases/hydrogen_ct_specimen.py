"""Hydrogen at the blunted crack tip of the 1T compact-tension specimen
(cases/hydrogen_ct_specimen.toml): prints the peak c/c0, where it sits and
exp(Omega sigma_h/RT) there, and draws the gallery picture (the specimen
coloured by sigma_h, the mid-thickness map of c/c0 at the tip, and c/c0 ahead
of the tip against the Boltzmann factor and the elastic blunt-crack estimate).

    python cases/hydrogen_ct_specimen.py [--out cases/gallery/hydrogen_ct_specimen.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.constants import R

import femflux

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "meshes"))
import ct_specimen as ct  # noqa: E402

T, OMEGA, NU = 300.0, 2.0e-6, 0.3
LOAD = 15e3  # N, the pin load of the whole specimen
A, RHO, B, W = ct.A * 1e-3, ct.RHO * 1e-3, ct.B * 1e-3, ct.W * 1e-3  # m


def astm_k(load: float = LOAD, a_over_w: float = ct.A / ct.W) -> float:
    """K_I (Pa sqrt(m)) of a CT specimen, ASTM E399: P f(a/W) / (B sqrt(W))."""
    x = a_over_w
    f = (2 + x) * (0.886 + 4.64 * x - 13.32 * x**2 + 14.72 * x**3 - 5.6 * x**4) / (1 - x) ** 1.5
    return load * f / (B * np.sqrt(W))


def creager_paris_sigma_h(r: np.ndarray, k: float) -> np.ndarray:
    """Elastic sigma_h (Pa) a distance r ahead of a blunt crack tip of radius rho,
    plane strain: (1 + nu)/3 (sigma_xx + sigma_yy) = (1 + nu)/3 * 2 K / sqrt(2 pi r'),
    r' = r + rho/2 measured from half a radius behind the tip."""
    return (1 + NU) / 3 * 2 * k / np.sqrt(2 * np.pi * (r + RHO / 2))


def nodal_volumes(result) -> np.ndarray:
    """Lumped (vertex) volumes, the weights of the amount and of <.>."""
    from femflux.mesh import element_measures

    mesh = result.mesh.mesh
    return np.bincount(mesh.t.ravel(), np.tile(element_measures(result.mesh) / 4, 4),
                       minlength=mesh.nvertices)


def tip_numbers(result) -> dict:
    """The peak of c/c0 (c0 = 1 mol/m^3), its place and the Boltzmann factors there."""
    p = result.mesh.mesh.p
    c, sh = result.fields["H"], result.fields["sigma_h"]
    rt = R * T
    peak = int(np.argmax(c))
    weight = nodal_volumes(result)
    mean = float(np.sum(weight * np.exp(OMEGA * sh / rt)) / np.sum(weight))
    ahead = _line(result, z=0.0)
    zones = {level: _first_below(*ahead[:2], level) for level in (2.0, 1.5, 1.2)}
    return {"peak": float(c[peak]), "where": p[:, peak], "sigma_h": float(sh[peak]),
            "boltzmann": float(np.exp(OMEGA * sh[peak] / rt)), "mean": mean, "zones": zones,
            "k": astm_k()}


def _first_below(r: np.ndarray, c: np.ndarray, level: float) -> float:
    """The distance r at which c first falls below ``level`` (linear between nodes)."""
    k = int(np.argmax(c < level))
    return float(np.interp(level, [c[k], c[k - 1]], [r[k], r[k - 1]]))


def _line(result, z: float):
    """(distance ahead of the tip, c/c0, sigma_h) on the crack plane at height z."""
    p = result.mesh.mesh.p
    on = (np.abs(p[1]) < 1e-12) & (np.abs(p[2] - z) < 1e-9) & (p[0] >= A - 1e-12)
    order = np.argsort(p[0, on])
    return (p[0, on][order] - A, result.fields["H"][on][order],
            result.fields["sigma_h"][on][order])


def _surface(ds):
    try:
        return ds.extract_surface(algorithm="dataset_surface")
    except TypeError:  # PyVista < 0.47
        return ds.extract_surface()


def _whole_specimen(result):
    """The quarter model mirrored about the crack plane and the mid-thickness plane."""
    from femflux.plot import to_pyvista

    grid = to_pyvista(result.mesh, {"H": result.fields["H"],
                                    "sigma_h": result.fields["sigma_h"] / 1e6})
    half = grid.merge(grid.reflect((0, 1, 0), point=(0, 0, 0)))
    return half.merge(half.reflect((0, 0, 1), point=(0, 0, 0)))


def _render(meshes, camera, size, parallel_scale=None) -> np.ndarray:
    """Off-screen picture of [(surface, add_mesh options)] from ``camera``."""
    import pyvista as pv

    p = pv.Plotter(off_screen=True, window_size=size)
    p.set_background("white")
    for mesh, options in meshes:
        p.add_mesh(mesh, **options)
    p.camera_position = camera
    if parallel_scale is not None:
        p.enable_parallel_projection()
        p.camera.parallel_scale = parallel_scale
    image = p.screenshot(return_img=True)
    p.close()
    return image


def draw(result, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    numbers = tip_numbers(result)
    whole = _whole_specimen(result)
    fig = plt.figure(figsize=(12.0, 9.0), dpi=100)
    grid = fig.add_gridspec(2, 2, hspace=0.22, wspace=0.22, left=0.06, right=0.97, top=0.95,
                            bottom=0.07)
    c_range = (1.0, 2.5)
    # the specimen, coloured by sigma_h
    surface = _surface(whole)
    edges = surface.extract_feature_edges(45)
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(_render([(surface, {"scalars": "sigma_h", "cmap": "RdBu_r", "clim": (-150, 150),
                                  "show_scalar_bar": False}),
                       (edges, {"color": "#4d4d4d", "line_width": 1})],
                      [(0.085, 0.055, 0.15), (0.018, 0.0, 0.0), (0.0, 1.0, 0.0)], (800, 640)))
    ax.set_axis_off()
    ax.set_title(f"1T CT, a/W = 0.5, P = {LOAD / 1e3:.0f} kN, K$_I$ = {numbers['k'] / 1e6:.1f} "
                 r"MPa$\sqrt{m}$", fontsize=11)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=Normalize(-150, 150), cmap="RdBu_r"), ax=ax,
                       fraction=0.04, pad=0.01, extend="both")
    bar.set_label(r"$\sigma_h$ (MPa)")
    # the crack tip, cut at mid-thickness, coloured by c/c0
    tip = np.array([A, 0.0, 0.0])
    cut = _surface(whole.clip(normal=(0, 0, 1), origin=(0, 0, 0)))
    zone = cut.clip_box([A - 1.5e-3, A + 2.5e-3, -2e-3, 2e-3, -4e-3, 1e-3], invert=False)
    ax = fig.add_subplot(grid[0, 1])
    ax.imshow(_render([(zone, {"scalars": "H", "cmap": "viridis", "clim": c_range,
                               "show_scalar_bar": False})],
                      [tuple(tip + 0.01 * np.array([-0.45, 0.35, 1.0])), tuple(tip),
                       (0.0, 1.0, 0.0)], (800, 640), parallel_scale=0.65e-3))
    ax.set_axis_off()
    ax.set_title("c/c$_0$ at the crack tip, cut at mid-thickness (view 1.6 mm wide)",
                 fontsize=11)
    fig.colorbar(plt.cm.ScalarMappable(norm=Normalize(*c_range), cmap="viridis"), ax=ax,
                 fraction=0.04, pad=0.01, extend="both")
    # mid-thickness map of c/c0 at the tip (mirrored about the crack plane)
    ax = fig.add_subplot(grid[1, 0])
    mesh = result.mesh.mesh
    facets = mesh.facets[:, result.mesh.boundaries["symmetry_z"]]
    x, y = (mesh.p[0] - A) * 1e3, mesh.p[1] * 1e3
    c = result.fields["H"]
    levels = np.linspace(*c_range, 16)
    for sign in (1, -1):
        shown = ax.tricontourf(x, sign * y, facets.T, c, levels=levels, cmap="viridis",
                               extend="both")
        ax.tricontour(x, sign * y, facets.T, c, levels=[1.2, 1.5, 2.0], colors="white",
                      linewidths=0.8)
    ax.set_xlim(-0.6, 1.4)
    ax.set_ylim(-0.75, 0.75)
    ax.set_aspect("equal")
    ax.set_xlabel("distance ahead of the crack tip (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(rf"c/c$_0$ at mid-thickness, tip radius $\rho$ = {RHO * 1e3:.2f} mm "
                 "(lines: 1.2, 1.5, 2)", fontsize=11)
    fig.colorbar(shown, ax=ax, fraction=0.04, pad=0.02, ticks=[1.0, 1.5, 2.0, 2.5])
    # c/c0 ahead of the tip
    ax = fig.add_subplot(grid[1, 1])
    rt = R * T
    for z, label, colour in ((0.0, "mid-thickness", "C0"), (B / 2, "free surface", "C1")):
        r, cl, sh = _line(result, z)
        ax.plot(r * 1e3, cl, "-", color=colour, lw=1.8, label=f"femflux, {label}")
        ax.plot(r * 1e3, np.exp(OMEGA * sh / rt) / numbers["mean"], "o", ms=3, mfc="none",
                color=colour, label=r"exp($\Omega\sigma_h$/RT) / <.>" if z == 0 else None)
    r = np.linspace(0.0, 2e-3, 200)
    ax.plot(r * 1e3, np.exp(OMEGA * creager_paris_sigma_h(r, numbers["k"]) / rt), "k:",
            lw=1.2, label="elastic blunt crack, plane strain, ASTM K")
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.set_xlim(0, 2.0)
    ax.set_xlabel("distance ahead of the crack tip (mm)")
    ax.set_ylabel(r"c/c$_0$")
    ax.set_title(f"peak c/c$_0$ = {numbers['peak']:.2f} on the tip at mid-thickness "
                 f"($\\sigma_h$ = {numbers['sigma_h'] / 1e9:.2f} GPa)", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "hydrogen_ct_specimen.png"))
    args = parser.parse_args()
    result = femflux.solve(femflux.load_case(HERE / "hydrogen_ct_specimen.toml"))
    n = tip_numbers(result)
    where = (n["where"] - [A, 0.0, 0.0]) * 1e3
    print(f"K_I (ASTM E399) = {n['k'] / 1e6:.2f} MPa sqrt(m)")
    print(f"peak c/c0 = {n['peak']:.4f} at {where} mm from the tip (x - a, y, z); "
          f"sigma_h = {n['sigma_h'] / 1e9:.4f} GPa; exp(Omega sigma_h/RT) = {n['boltzmann']:.4f}; "
          f"<exp(Omega sigma_h/RT)> = {n['mean']:.5f}")
    for level, distance in n["zones"].items():
        print(f"c/c0 > {level} up to {distance * 1e3:.3f} mm ahead of the tip (mid-thickness)")
    draw(result, Path(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
