"""Cyclic voltammogram of cases/ferrocenemethanol_cv.toml from its history,
with the Randles-Sevcik peak current 0.4463 F A c sqrt(F v D/RT) and the
reversible peak separation 2.22 RT/F.

    python cases/ferrocenemethanol_cv.py [--out cases/gallery/ferrocenemethanol_cv.png]

The applied (metal) potential is boundaries.xmin.electrode_potential, the
electrolyte potential at the electrode boundaries.xmin.potential (against the
bulk at xmax): their difference is the iR-free electrode potential.  The
current out of the solution, boundaries.xmin.current, is negative when the
electrode oxidises FcMeOH: the anodic current density is its negative.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.constants import R, physical_constants

import femflux

HERE = Path(__file__).resolve().parent
FARADAY = physical_constants["Faraday constant"][0]
T, D, C, V, E0 = 298.15, 7.8e-10, 1.0, 0.1, 0.2  # K, m^2/s, mol/m^3, V/s, V (the case's values)


def randles_sevcik() -> float:
    """Peak current density of a reversible one-electron couple (A/m^2)."""
    return 0.4463 * FARADAY * C * np.sqrt(FARADAY * V * D / (R * T))


def voltammogram(result) -> dict[str, np.ndarray]:
    """t, applied potential, iR-free potential and anodic current density
    (A/m^2, 1D: per m^2) from the history."""
    table = result.history
    t = np.asarray(table["t"])
    applied = np.asarray(table["boundaries.xmin.electrode_potential"])
    phi = np.asarray(table["boundaries.xmin.potential"])
    current = -np.asarray(table["boundaries.xmin.current"])
    return {"t": t, "applied": applied, "ir_free": applied - phi, "current": current}


def peak(t, y, where):
    """Largest y on the steps ``where``, refined by the parabola through it and
    its neighbours: (y_peak, t_peak)."""
    k = np.flatnonzero(where)[np.argmax(y[where])]
    p = np.polyfit(t[k - 1:k + 2] - t[k], y[k - 1:k + 2], 2)
    dt = -p[1] / (2 * p[0])
    return float(np.polyval(p, dt)), float(t[k] + dt)


def peaks(cv, potential="ir_free"):
    """Anodic and cathodic peak currents (A/m^2, the cathodic one positive)
    and potentials (V) of the two sweeps."""
    t, i, e = cv["t"], cv["current"], cv[potential]
    vertex = t[np.argmax(cv["applied"])]
    ia, ta = peak(t, i, t < vertex)
    ic, tc = peak(t, -i, t > vertex)
    return ia, float(np.interp(ta, t, e)), ic, float(np.interp(tc, t, e))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "gallery" / "ferrocenemethanol_cv.png"))
    args = parser.parse_args()
    result = femflux.solve(femflux.load_case(HERE / "ferrocenemethanol_cv.toml"))
    cv = voltammogram(result)
    ip = randles_sevcik()
    separation = 2.22 * R * T / FARADAY
    for label in ("applied", "ir_free"):
        ia, ea, ic, ec = peaks(cv, label)
        print(f"{label}: i_pa = {ia:.4f} A/m^2 (Randles-Sevcik {ip:.4f}), E_pa = {ea:.4f} V, "
              f"E_pc = {ec:.4f} V, dE_p = {(ea - ec) * 1e3:.1f} mV "
              f"(2.22 RT/F = {separation * 1e3:.1f} mV)")
    print(f"{result.summary['steps']} steps, {result.summary['wall_time_s']:.1f} s")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=150)
    ax.plot(cv["ir_free"], cv["current"] * 0.1, lw=1.6, label="femflux (iR-free potential)")
    ia, ea, ic, ec = peaks(cv)
    raw = peaks(cv, "applied")
    ax.plot([ea, ec], [ia * 0.1, -ic * 0.1], "o", c="C3", ms=4)
    ax.axhline(ip * 0.1, ls="--", c="C3", lw=0.8,
               label=f"Randles-Sevcik 0.4463 F c (F v D/RT)$^{{1/2}}$ = {ip * 0.1:.3f} mA/cm²")
    ax.annotate(f"ΔE$_p$ = {(ea - ec) * 1e3:.1f} mV\n(2.22 RT/F = {separation * 1e3:.1f} mV;\n"
                f"{(raw[1] - raw[3]) * 1e3:.1f} mV against\nthe applied potential)",
                (0.32, -0.12), fontsize=7, ha="left", va="center")
    ax.set_ylim(top=0.31)
    ax.set_xlabel("E (V)")
    ax.set_ylabel("anodic current density (mA/cm²)")
    ax.set_title("1 mM FcMeOH in 0.1 M KCl, 100 mV/s", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
