"""Polarisation curve of copper deposition: the [sweep] of
cases/copper_polarisation.toml (the metal potential from 0.32 to -0.2 V;
``femflux sweep cases/copper_polarisation.toml`` runs it alone, with its own
graph) drawn against the limiting current 2 n F D_Cu c / L of an unsupported
binary electrolyte.

    python cases/copper_polarisation.py [--out cases/gallery/copper_polarisation.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.constants import physical_constants

import femflux

HERE = Path(__file__).resolve().parent
FARADAY = physical_constants["Faraday constant"][0]


def polarisation_curve(out, potentials=None, workers=None):
    """Metal potentials (V) and current densities into the electrolyte (A/m^2,
    cathodic < 0) of the case's [sweep], or of ``potentials`` instead."""
    vary = None if potentials is None else {"boundary.xmin.potential": list(potentials)}
    table = femflux.sweep(HERE / "copper_polarisation.toml", vary=vary, out=out,
                          workers=workers)
    if any(status != "ok" for status in table["status"]):
        raise SystemExit(f"some points failed: see {Path(out) / 'sweep.csv'}")
    flux = np.array(table["boundaries.xmin.flux.Cu"], dtype=float)  # outward
    return np.array(table["boundary.xmin.potential"], dtype=float), -2 * FARADAY * flux


def limiting_current(D=7.2e-10, c=10.0, L=100e-6):
    return -2 * FARADAY * 2 * D * c / L


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "copper_polarisation.png"))
    parser.add_argument("--sweep-out", default="results/copper_polarisation-sweep",
                        help="the sweep folder (complete points are not solved again)")
    parser.add_argument("--workers", type=int, help="Dask worker processes (default: one "
                        "per core)")
    args = parser.parse_args()
    potentials, currents = polarisation_curve(args.sweep_out, workers=args.workers)
    i_lim = limiting_current()
    for phi, i in zip(potentials, currents, strict=True):
        print(f"phi_M = {phi:+.3f} V   i = {i:+9.4f} A/m^2   i/i_lim = {i / i_lim:6.3f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=150)
    ax.plot(potentials, currents, "o-", ms=3.5, label="femflux (Butler-Volmer, electroneutral NP)")
    ax.axhline(i_lim, ls="--", c="k", lw=1, label=r"limiting current $2nFD_{Cu}c/L$")
    ax.set_xlabel(r"metal potential $\phi_M$ vs bulk solution (V)")
    ax.set_ylabel(r"current density into the solution (A/m$^2$)")
    ax.set_title("Cu deposition from 10 mM CuSO$_4$, 100 µm diffusion layer", fontsize=10)
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
