"""Run cases/darken_fe_si_c.toml and plot the carbon and silicon profiles (wt%).

    python cases/darken_fe_si_c.py     # writes cases/gallery/darken_fe_si_c.png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import femflux

HERE = Path(__file__).resolve().parent
DENSITY = 7700.0  # kg/m^3
MOLAR_MASS = {"C": 0.012011, "Si": 0.028086}  # kg/mol


def weight_percent(name: str, c: np.ndarray) -> np.ndarray:
    """mol/m^3 -> wt% in steel of density DENSITY."""
    return 100.0 * c * MOLAR_MASS[name] / DENSITY


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case = femflux.load_case(HERE / "darken_fe_si_c.toml")
    result = femflux.solve(case)
    order = np.argsort(result.mesh.mesh.p[0])
    x = result.mesh.mesh.p[0][order] * 1e3
    wanted = [*case.output.times, case.solver.t_end]
    frames = [f for f in result.series if any(abs(f.t - t) < 1e-6 * t for t in wanted)]
    fig, (ax_c, ax_si) = plt.subplots(1, 2, figsize=(10, 4))
    ax_c.plot(x, weight_percent("C", result.series[0].point_data["C"][order]), "k:",
              label="initial")
    for frame in frames:
        label = f"{frame.t / 86400:.0f} d"
        ax_c.plot(x, weight_percent("C", frame.point_data["C"][order]), label=label)
        ax_si.plot(x, weight_percent("Si", frame.point_data["Si"][order]), label=label)
    ax_c.set_xlabel("x (mm)")
    ax_c.set_ylabel("C (wt%)")
    ax_c.set_title("carbon: uphill peak and valley at the weld")
    ax_c.legend()
    ax_si.set_xlabel("x (mm)")
    ax_si.set_ylabel("Si (wt%)")
    ax_si.set_xlim(-0.5, 0.5)
    ax_si.set_title("silicon (nearly immobile)")
    fig.suptitle("Darken couple Fe-3.80Si-0.49C | Fe-0.05Si-0.45C, 1050 C")
    out = HERE / "gallery" / "darken_fe_si_c.png"
    out.parent.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
