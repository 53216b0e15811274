"""Current-voltage curve of the charged conical nanopore (cases/conical_nanopore.toml):
ion current rectification.

    python cases/conical_nanopore_iv.py [--out cases/gallery/conical_nanopore_iv.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import femflux

HERE = Path(__file__).resolve().parent


def iv_curve(voltages):
    """Current (A) from the base-side reservoir into the pore at each voltage."""
    currents = []
    for v in voltages:
        case = femflux.load_case(HERE / "conical_nanopore.toml",
                                 overrides={"boundary.top.potential": float(v)})
        currents.append(-femflux.solve(case).summary["boundaries"]["top"]["current"])
    return np.array(currents)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "conical_nanopore_iv.png"))
    args = parser.parse_args()
    voltages = np.linspace(-1.0, 1.0, 9)
    currents = iv_curve(voltages)
    for v, i in zip(voltages, currents, strict=True):
        print(f"V = {v:+.2f} V   I = {i * 1e9:+8.4f} nA")
    ratio = abs(currents[0] / currents[-1])
    print(f"rectification ratio |I(-1 V)| / |I(+1 V)| = {ratio:.2f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=150)
    ax.plot(voltages, currents * 1e9, "o-", ms=4, label="femflux (PNP, axisymmetric)")
    ohmic = currents[4 - 1] / voltages[4 - 1] if voltages[3] != 0 else None
    if ohmic is not None:
        ax.plot(voltages, ohmic * voltages * 1e9, "--", c="grey", lw=1,
                label="ohmic line through -0.25 V")
    ax.axhline(0, c="k", lw=0.5)
    ax.axvline(0, c="k", lw=0.5)
    ax.set_xlabel("voltage of the base-side reservoir (V)")
    ax.set_ylabel("ionic current (nA)")
    ax.set_title(f"Conical nanopore, 5 nm tip, 10 mM KCl, -0.02 C/m$^2$: "
                 f"rectification {ratio:.1f}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
