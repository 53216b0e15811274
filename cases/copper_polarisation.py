"""Polarisation curve of copper deposition: sweep the metal potential of
cases/copper_polarisation.toml and plot the current against the limiting
current 2 n F D_Cu c / L of an unsupported binary electrolyte.

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


def polarisation_curve(potentials):
    """Current density into the electrolyte (A/m^2, cathodic < 0) at each potential."""
    currents = []
    for phi_m in potentials:
        case = femflux.load_case(HERE / "copper_polarisation.toml",
                                 overrides={"boundary.xmin.potential": float(phi_m)})
        flux = femflux.solve(case).summary["boundaries"]["xmin"]["flux"]["Cu"]  # outward
        currents.append(-2 * FARADAY * flux)
    return np.array(currents)


def limiting_current(D=7.2e-10, c=10.0, L=100e-6):
    return -2 * FARADAY * 2 * D * c / L


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "copper_polarisation.png"))
    args = parser.parse_args()
    potentials = np.linspace(0.32, -0.2, 27)
    currents = polarisation_curve(potentials)
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
