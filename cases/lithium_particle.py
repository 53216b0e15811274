"""Maximum tensile stress in the lithiated ellipsoidal particle
(cases/lithium_particle.toml) against time, with the long-time centre stress
of a sphere of the same volume, Omega E J R / (15 (1 - nu) D) (Cheng & Verbrugge 2009).

    python cases/lithium_particle.py [--out cases/gallery/lithium_particle.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import femflux

HERE = Path(__file__).resolve().parent
OMEGA, E, NU, D, J = 3.497e-6, 10e9, 0.3, 7.08e-15, 7.6e-6
R_EQ = (5e-6 * 3e-6 * 3e-6) ** (1 / 3)  # radius of the sphere of equal volume


def max_principal_stress(sigma: np.ndarray) -> float:
    """Largest first principal stress (Pa) over the points, sigma (n, 9)."""
    tensors = sigma.reshape(-1, 3, 3)
    return float(np.linalg.eigvalsh(0.5 * (tensors + tensors.transpose(0, 2, 1)))[:, -1].max())


def stress_history(case: femflux.Case):
    """(times, max tensile stress) of the written frames, and the result."""
    import meshio

    result = femflux.solve(case)
    with tempfile.TemporaryDirectory() as tmp:
        folder = result.save(Path(tmp) / "li")
        times = [frame.t for frame in result.series]
        stresses = [max_principal_stress(meshio.read(folder / f"step_{k:05d}.vtu")
                                         .point_data["sigma"]) for k in range(len(times))]
    return np.array(times), np.array(stresses), result


def long_time_centre_stress() -> float:
    return OMEGA * E * J * R_EQ / (15 * (1 - NU) * D)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "lithium_particle.png"))
    args = parser.parse_args()
    times, stresses, _ = stress_history(femflux.load_case(HERE / "lithium_particle.toml"))
    limit = long_time_centre_stress()
    print(f"max tensile stress at t = {times[-1]:.0f} s: {stresses[-1] / 1e6:.2f} MPa "
          f"(sphere long-time limit {limit / 1e6:.2f} MPa)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=150)
    ax.plot(times, stresses / 1e6, "o-", ms=3, label="femflux (two-way, 3D)")
    ax.axhline(limit / 1e6, ls="--", c="grey", lw=1,
               label=r"sphere, long time: $\Omega E J R / 15(1-\nu) D$")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("maximum tensile stress (MPa)")
    ax.set_title("Li insertion at ~1C into a 10 x 6 x 6 µm ellipsoid", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
