"""Trapped hydrogen at the crack tip of the loaded 1T compact-tension specimen
(cases/hydrogen_ct_specimen_traps.toml): prints the lattice and trapped
concentrations at the tip and far away and draws the gallery picture (the
mid-thickness map of the trapped concentration at the tip, and both
concentrations ahead of the tip against the closed-body equilibrium
c = C exp(Omega sigma_h/RT), c_t = N k c/(k c + p)).

    python cases/hydrogen_ct_specimen_traps.py [--out cases/gallery/hydrogen_ct_specimen_traps.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.constants import R

import femflux

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hydrogen_ct_specimen import OMEGA, RHO, A, T, nodal_volumes  # noqa: E402

K_OVER_P = 197.0 / 1000.0  # m^3/mol, trapping / detrapping


def trap_density(sigma_h):
    """N (mol/m^3): background and 9.5 mol/m^3 per GPa of hydrostatic tension
    (the case's expression of sigma_h in Pa)."""
    return 0.5 + 9.5 * np.maximum(sigma_h, 0.0) / 1e9


def numbers(result) -> dict:
    p = result.mesh.mesh.p
    c, c_t = result.fields["H"], result.fields["H_trap1"]
    tip = int(np.argmax(c_t))
    far = int(np.argmin(np.abs(p[0] - 0.045) + np.abs(p[1]) + np.abs(p[2])))
    weight = nodal_volumes(result)
    amounts = result.summary["regions"]["steel"]["amount"]
    return {"tip": p[:, tip], "c_tip": float(c[tip]), "trapped_tip": float(c_t[tip]),
            "c_far": float(c[far]), "trapped_far": float(c_t[far]),
            "trapped_share": amounts["H_trap1"] / (amounts["H"] + amounts["H_trap1"]),
            "volume": float(weight.sum())}


def _line(result, z: float):
    """(distance ahead of the tip, c, c_t, sigma_h, N) on the crack plane at height z."""
    p = result.mesh.mesh.p
    on = (np.abs(p[1]) < 1e-12) & (np.abs(p[2] - z) < 1e-9) & (p[0] >= A - 1e-12)
    order = np.argsort(p[0, on])
    pick = np.flatnonzero(on)[order]
    return (p[0, pick] - A, result.fields["H"][pick], result.fields["H_trap1"][pick],
            result.fields["sigma_h"][pick], trap_density(result.fields["sigma_h"][pick]))


def draw(result, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = numbers(result)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.0, 5.2), dpi=100)
    mesh = result.mesh.mesh
    facets = mesh.facets[:, result.mesh.boundaries["symmetry_z"]]
    x, y = (mesh.p[0] - A) * 1e3, mesh.p[1] * 1e3
    c_t = result.fields["H_trap1"]
    levels = np.linspace(0.0, np.ceil(c_t.max()), 17)
    for sign in (1, -1):
        shown = left.tricontourf(x, sign * y, facets.T, c_t, levels=levels, cmap="magma")
    left.set_xlim(-0.8, 1.6)
    left.set_ylim(-0.9, 0.9)
    left.set_aspect("equal")
    left.set_xlabel("distance ahead of the crack tip (mm)")
    left.set_ylabel("y (mm)")
    left.set_title(rf"trapped H (mol/m$^3$) at mid-thickness, tip radius {RHO * 1e3:.2f} mm",
                   fontsize=11)
    fig.colorbar(shown, ax=left, fraction=0.04, pad=0.02)
    r, c, trapped, sh, N = _line(result, 0.0)
    boltzmann = np.exp(OMEGA * sh / (R * T))
    C = c[-1] / boltzmann[-1]
    right.plot(r * 1e3, c, "-", color="C0", lw=1.8, label="lattice c (femflux)")
    right.plot(r * 1e3, C * boltzmann, "o", ms=3, mfc="none", color="C0",
               label=r"C exp($\Omega\sigma_h$/RT)")
    right.plot(r * 1e3, trapped, "-", color="C3", lw=1.8, label="trapped c$_t$ (femflux)")
    right.plot(r * 1e3, N * K_OVER_P * c / (K_OVER_P * c + 1.0), "o", ms=3, mfc="none",
               color="C3", label="N k c/(k c + p)")
    right.plot(r * 1e3, N, ":", color="0.4", lw=1.2, label="trap density N")
    right.set_xlim(0, 2.0)
    right.set_xlabel("distance ahead of the crack tip (mm), mid-thickness")
    right.set_ylabel(r"mol/m$^3$")
    right.set_title(f"at the tip: c = {n['c_tip']:.2f}, c$_t$ = {n['trapped_tip']:.2f}; "
                    f"far: c = {n['c_far']:.2f}, c$_t$ = {n['trapped_far']:.3f}", fontsize=11)
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=HERE / "gallery" / "hydrogen_ct_specimen_traps.png")
    args = parser.parse_args()
    result = femflux.solve(femflux.load_case(HERE / "hydrogen_ct_specimen_traps.toml"))
    n = numbers(result)
    print(f"trapped H peaks at {n['tip']} m: c_t = {n['trapped_tip']:.3f} mol/m^3 "
          f"(lattice c = {n['c_tip']:.3f}); 20 mm ahead: c_t = {n['trapped_far']:.4f}, "
          f"c = {n['c_far']:.4f}; trapped share of all hydrogen {n['trapped_share']:.4f}")
    draw(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
