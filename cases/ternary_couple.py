"""Run cases/ternary_couple.toml and plot A and B against the eigen-erf solution.

    python cases/ternary_couple.py     # writes cases/gallery/ternary_couple.png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import erf

import femflux

HERE = Path(__file__).resolve().parent


def exact_profiles(x, t, D, left, right):
    """c(x, t) of an infinite couple: each eigen-mode of D is an erf step."""
    lam, P = np.linalg.eig(np.asarray(D))
    modes = np.linalg.solve(P, np.asarray(left) - np.asarray(right))
    erfs = erf(np.asarray(x)[None, :] / (2 * np.sqrt(lam.real[:, None] * t)))
    return (np.add(left, right) / 2)[:, None] - P.real @ (0.5 * modes.real[:, None] * erfs)


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case = femflux.load_case(HERE / "ternary_couple.toml")
    result = femflux.solve(case)
    D = case.transport.diffusivity_matrix
    fig, ax = plt.subplots(figsize=(7, 4))
    order = np.argsort(result.mesh.mesh.p[0])
    x = result.mesh.mesh.p[0][order]
    for frame in [f for f in result.series if f.t in case.output.times or f is result.series[-1]]:
        exact = exact_profiles(x, frame.t, D, [0.6, 0.35], [0.2, 0.35])
        for k, (name, colour) in enumerate((("A", "C0"), ("B", "C3"))):
            ax.plot(x * 1e6, frame.point_data[name][order], color=colour, lw=2, alpha=0.6)
            ax.plot(x * 1e6, exact[k], "k--", lw=0.8)
    ax.set_xlabel("x (um)")
    ax.set_ylabel("c (mol/m^3)")
    ax.set_title("ternary couple: femflux (colour) vs eigen-erf solution (dashed)")
    out = HERE / "gallery" / "ternary_couple.png"
    out.parent.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
