"""Run PFHub benchmark 1a (cases/spinodal_bm1a.toml) to t = 1000 and plot F(t).

    python cases/spinodal_bm1a.py            # writes cases/gallery/spinodal_bm1a_energy.png
                                             # and cases/gallery/spinodal_bm1a.png
    python cases/spinodal_bm1a.py --cells 100 --t-end 200   # a quicker look

Prints F(0) (published 319.04), F(100) (FEniCSx peer 130.6), F(t_end), the
number of steps and whether F decreased monotonically with c conserved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import femflux

HERE = Path(__file__).resolve().parent


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=None)
    parser.add_argument("--t-end", type=float, default=None)
    args = parser.parse_args()
    overrides = {}
    if args.cells:
        overrides["mesh.generate"] = {"shape": "rectangle", "length": [200.0, 200.0],
                                      "cells": [args.cells, args.cells]}
    if args.t_end:
        overrides["solver.t_end"] = args.t_end
        overrides["output.times"] = []
    case = femflux.load_case(HERE / "spinodal_bm1a.toml", overrides=overrides)
    result = femflux.solve(case)
    history = result.summary["history"]
    t = np.array([h["t"] for h in history])
    F = np.array([h["free_energy"] for h in history])
    mass = np.array([h["amount"]["c"] for h in history])
    print(f"{result.summary['steps']} steps, {result.summary['newton_iterations']} Newton "
          f"iterations, {result.summary['wall_time_s']:.1f} s")
    print(f"F(0) = {F[0]:.3f} (published 319.04); F(100) = {np.interp(100.0, t, F):.2f} "
          f"(FEniCSx 130.6); F({t[-1]:g}) = {F[-1]:.3f}")
    print(f"monotone decrease: {bool(np.all(np.diff(F) < 0))}; "
          f"mass drift {np.ptp(mass) / mass[0]:.1e}")

    gallery = HERE / "gallery"
    gallery.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(t[1:], F[1:], "C0-", lw=2, label="femflux (adaptive BDF2)")
    ax.axhline(319.04, color="k", ls=":", lw=0.8, label="F(0) = 319.04")
    ax.plot([100.0], [130.6], "C3o", label="FEniCSx F(100) = 130.6")
    ax.set_xlabel("t")
    ax.set_ylabel("total free energy F")
    ax.set_title("PFHub BM1a spinodal decomposition")
    ax.legend()
    fig.tight_layout()
    fig.savefig(gallery / "spinodal_bm1a_energy.png", dpi=120)

    mesh = result.mesh.mesh
    frames = [f for f in result.series if f.t > 0][-4:]
    fig, axes = plt.subplots(1, len(frames), figsize=(3.2 * len(frames), 3.2))
    for ax, frame in zip(np.atleast_1d(axes), frames, strict=True):
        ax.tripcolor(mesh.p[0], mesh.p[1], mesh.t.T, frame.point_data["c"], shading="gouraud",
                     cmap="RdBu_r", vmin=0.3, vmax=0.7)
        ax.set_title(f"t = {frame.t:g}")
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(gallery / "spinodal_bm1a.png", dpi=100)
    print(f"wrote {gallery / 'spinodal_bm1a_energy.png'} and {gallery / 'spinodal_bm1a.png'}")


if __name__ == "__main__":
    main()
