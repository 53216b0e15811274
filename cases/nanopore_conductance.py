"""Conductance of the charged cylindrical nanopore (cases/nanopore.toml)
against KCl concentration, drawn against textbook estimates: bulk conduction
at high salt, a plateau set by the surface charge's counter-ions at low salt.

The points are the case's [sweep] table (``femflux sweep cases/nanopore.toml``
runs them alone, with its own graph); this script runs that sweep (resuming
whatever is complete in --sweep-out) and adds the estimates to the picture.

    python cases/nanopore_conductance.py [--out cases/gallery/nanopore_conductance.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.constants import R, physical_constants

import femflux

HERE = Path(__file__).resolve().parent
FARADAY = physical_constants["Faraday constant"][0]
RADIUS, LENGTH, SIGMA, VOLTAGE, T = 3e-9, 10e-9, 0.02, 0.1, 298.15
D_K, D_CL = 1.96e-9, 2.03e-9


def conductances(out, workers=None):
    """KCl concentrations (mol/m^3) and pore conductances (S) of the case's sweep."""
    table = femflux.sweep(HERE / "nanopore.toml", out=out, workers=workers)
    if any(status != "ok" for status in table["status"]):
        raise SystemExit(f"some points failed: see {Path(out) / 'sweep.csv'}")
    concentrations = np.array(table["boundary.top.concentration.K"], dtype=float)
    return concentrations, -np.array(table["boundaries.top.current"], dtype=float) / VOLTAGE


def models(c):
    """Textbook estimates: bulk pore + access resistance, and the surface term."""
    kappa = FARADAY**2 / (R * T) * (D_K + D_CL) * c  # S/m
    bulk = kappa * np.pi * RADIUS**2 / LENGTH
    surface = FARADAY / (R * T) * D_K * SIGMA * 2 * np.pi * RADIUS / LENGTH  # counter-ions
    access = 1.0 / (1.0 / (bulk + surface) + 1.0 / (2 * kappa * RADIUS))
    return bulk, surface, access


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "nanopore_conductance.png"))
    parser.add_argument("--sweep-out", default="results/nanopore-sweep",
                        help="the sweep folder (complete points are not solved again)")
    parser.add_argument("--workers", type=int, help="Dask worker processes (default: one "
                        "per core)")
    args = parser.parse_args()
    concentrations, values = conductances(args.sweep_out, args.workers)
    for c, g in zip(concentrations, values, strict=True):
        print(f"c = {c:7.1f} mM   G = {g * 1e9:8.4f} nS")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fine = np.logspace(0, np.log10(300.0), 60)
    bulk, surface, access = models(fine)
    fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=150)
    ax.loglog(concentrations, values * 1e9, "o-", label="femflux (3D PNP)")
    ax.loglog(fine, bulk * 1e9, "--", c="grey", lw=1, label="bulk pore conductance")
    ax.loglog(fine, np.full_like(fine, surface) * 1e9, ":", c="grey", lw=1,
              label="surface-charge term")
    ax.loglog(fine, access * 1e9, "-", c="tab:orange", lw=1, alpha=0.7,
              label="bulk + surface, with access resistance")
    ax.set_xlabel("KCl concentration (mM)")
    ax.set_ylabel("conductance (nS)")
    ax.set_title("6 nm pore, 10 nm membrane, -0.02 C/m$^2$", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
