"""Regenerate every picture of the README gallery (cases/gallery/*.png).

    python cases/make_gallery.py            # all cases and sweeps
    python cases/make_gallery.py nanopore   # some

Each case in cases/*.toml is solved and drawn with femflux's default picture
for its model (plus the options below); the cases in HISTORY also get line
graphs of their history (probes, boundary currents); the graph of a case's
[sweep] (run by femflux.sweep into results/<case>-sweep, resuming what is
complete) is the picture SWEEP_PICTURES names; the study scripts beside the
cases (sweeps with reference curves, profiles, F(t), zooms, voltammograms)
draw their own plots, and for the cases in DRAWN_BY_SCRIPT their script's
picture is the case's picture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import femflux
from femflux.plot import plot_result

HERE = Path(__file__).resolve().parent
GALLERY = HERE / "gallery"

#: picture options per case (field, log scale, ...); default: femflux's choice
OPTIONS = {
    "porous_electrode": {"field": "salt"},
    "pipette_tip": {"field": "FcMeOH"},
    "nanopore": {"field": "K", "log": True},
    "conical_nanopore": {"field": "phi"},
    "copper_polarisation": {"field": "Cu"},
    "polymer_electrolyte_notch": {"field": "Li", "log": True, "contours": 8},
}
#: more pictures of a case's result: case -> {picture name: options}
EXTRA = {
    "polymer_electrolyte_notch": {"polymer_electrolyte_notch_phi": {"field": "phi",
                                                                    "contours": 10}},
}
#: line graphs of a case's history (as `femflux plot RESULT --history ... --x ...`):
#: case -> {picture name: (history columns, x column)}
HISTORY = {
    "lithium_particle": {
        "lithium_particle_stress": (["probes.centre.sigma_xx", "probes.centre.sigma_h"], "t"),
        "lithium_particle_surface": (["probes.tip.Li"], "t"),
    },
    "tds_tungsten": {"tds_tungsten": (["boundaries.xmin.flux.H"], "temperature")},
}
#: study scripts that draw their own figure into cases/gallery/
SCRIPTS = ["copper_polarisation.py", "nanopore_conductance.py",
           "lithium_particle.py", "hydrogen_ct_specimen.py", "ferrocenemethanol_cv.py",
           "hydrogen_permeation.py", "hydrogen_ct_specimen_traps.py"]
#: gallery pictures that are the graph of a case's [sweep]: picture name -> case
SWEEP_PICTURES = {"conical_nanopore_iv": "conical_nanopore"}
#: cases whose gallery picture is drawn by their script (cases/<name>.py), not draw_case
DRAWN_BY_SCRIPT = {"lithium_particle", "hydrogen_ct_specimen", "ferrocenemethanol_cv",
                   "hydrogen_permeation", "hydrogen_ct_specimen_traps"}


def draw_case(path: Path) -> Path:
    result = femflux.solve(femflux.load_case(path))
    out = GALLERY / f"{path.stem}.png"
    with tempfile.TemporaryDirectory() as tmp:
        folder = result.save(Path(tmp) / path.stem)
        pictures = {path.stem: OPTIONS.get(path.stem, {}), **EXTRA.get(path.stem, {})}
        for name, options in pictures.items():
            plotter = plot_result(folder, out=GALLERY / f"{name}.png", window=(1200, 900),
                                  **options)
            if hasattr(plotter, "close"):
                plotter.close()
    return out


def draw_sweep(name: str, case: str) -> Path:
    """The case's [sweep] on Dask; its graph (sweep.png) is the picture."""
    femflux.sweep(HERE / f"{case}.toml", out=Path("results") / f"{case}-sweep")
    out = GALLERY / f"{name}.png"
    shutil.copyfile(Path("results") / f"{case}-sweep" / "sweep.png", out)
    return out


def draw_history(path: Path) -> list[Path]:
    """The HISTORY line graphs of a case, from its summary's history."""
    from femflux.plot.history import plot_history

    result = femflux.solve(femflux.load_case(path))
    out = []
    for name, (columns, x) in HISTORY[path.stem].items():
        out.append(GALLERY / f"{name}.png")
        plot_history(result.summary, columns, x=x, out=out[-1], window=(800, 500))
    return out


def main(names: list[str]) -> None:
    GALLERY.mkdir(exist_ok=True)
    for path in sorted(HERE.glob("*.toml")):
        if names and path.stem not in names:
            continue
        if path.stem in HISTORY:
            print(f"{path.stem}: {draw_history(path)}", flush=True)
        if path.stem in DRAWN_BY_SCRIPT or path.stem in HISTORY.get(path.stem, {}):
            continue  # its picture is its script's, or a history graph
        print(f"{path.stem}: {draw_case(path)}", flush=True)
    for name, case in SWEEP_PICTURES.items():
        if not names or name in names or case in names:
            print(f"{name}: {draw_sweep(name, case)}", flush=True)
    for script in SCRIPTS + sorted(p.name for p in HERE.glob("*.py")
                                   if p.name not in SCRIPTS and p.name != Path(__file__).name):
        if names and Path(script).stem not in names:
            continue
        subprocess.run([sys.executable, str(HERE / script)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
