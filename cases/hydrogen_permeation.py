"""Exit flux of the Devanathan-Stachurski permeation case
(cases/hydrogen_permeation.toml) from its history, against the series solution
J(L, t) = (D c0/L) [1 + 2 sum_k (-1)^k exp(-k^2 pi^2 D t/L^2)], and the time lag
t_L = L^2/(6D) where the permeated amount's asymptote crosses zero.

    python cases/hydrogen_permeation.py [--out cases/gallery/hydrogen_permeation.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.constants import physical_constants

import femflux

HERE = Path(__file__).resolve().parent
FARADAY = physical_constants["Faraday constant"][0]
L, D, C0 = 1.0e-3, 1.0e-10, 1.0  # m, m^2/s, mol/m^3 (the case's values)


def series_flux(t: np.ndarray, terms: int = 400) -> np.ndarray:
    """Exit flux (mol/m^2/s) of a membrane initially empty, c = c0 | c = 0."""
    k = np.arange(1, terms + 1)[:, None]
    t = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
    return D * C0 / L * (1 + 2 * np.sum((-1.0) ** k * np.exp(-(k * np.pi) ** 2 * D * t / L**2),
                                        axis=0))


def exit_flux(result) -> tuple[np.ndarray, np.ndarray]:
    """(t, exit flux) from the history: outward flux through xmax per m^2."""
    table = result.history
    return np.asarray(table["t"]), np.asarray(table["boundaries.xmax.flux.H"])


def _trapezoid(y, x):
    """numpy >= 2 calls it trapezoid, Debian's numpy 1.24 (the MPI install) trapz."""
    return (getattr(np, "trapezoid", None) or np.trapz)(y, x)


def time_lag(t: np.ndarray, flux: np.ndarray) -> float:
    """t_L = int_0^inf (1 - J/J_ss) dt: where the asymptote of the permeated
    amount Q(t) = int J dt -> J_ss (t - t_L) crosses zero."""
    return float(_trapezoid(1.0 - flux / (D * C0 / L), t))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "hydrogen_permeation.png"))
    args = parser.parse_args()
    result = femflux.solve(femflux.load_case(HERE / "hydrogen_permeation.toml"))
    t, flux = exit_flux(result)
    j_ss, lag, exact_lag = D * C0 / L, time_lag(t, flux), L**2 / (6 * D)
    late = t > 0.1 * exact_lag
    error = np.max(np.abs(flux[late] - series_flux(t[late]))) / j_ss
    print(f"steady exit current density F J = {FARADAY * j_ss * 1e2:.4f} uA/cm^2; "
          f"time lag {lag:.1f} s (L^2/6D = {exact_lag:.1f} s, {lag / exact_lag - 1:+.2%}); "
          f"largest flux error {error:.1e} J_ss; {result.summary['steps']} steps, "
          f"{result.summary['wall_time_s']:.2f} s")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    amount = np.concatenate([[0.0], np.cumsum(0.5 * (flux[1:] + flux[:-1]) * np.diff(t))])
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.4), dpi=150)
    fine = np.linspace(1.0, t[-1], 400)
    left.plot(fine / 3600, series_flux(fine) / j_ss, c="0.5", lw=3, alpha=0.5, label="series")
    left.plot(t / 3600, flux / j_ss, "C0", lw=1.2, label="femflux (history)")
    left.set_xlabel("t (h)")
    left.set_ylabel("exit flux J / (D c0/L)")
    left.legend(fontsize=8)
    right.plot(t / 3600, amount * 1e3, "C0", lw=1.2, label="permeated amount")
    right.plot(t / 3600, j_ss * (t - lag) * 1e3, "--", c="C3", lw=0.9,
               label=f"asymptote: t_L = {lag:.0f} s (L²/6D = {exact_lag:.0f} s)")
    right.set_xlabel("t (h)")
    right.axvline(lag / 3600, c="C3", lw=0.6, ls=":")
    right.set_ylim(bottom=-0.05)
    right.set_ylabel("Q (mmol/m²)")
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle("Devanathan-Stachurski permeation, 1 mm membrane, D = 1e-10 m²/s", fontsize=9)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
