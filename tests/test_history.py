"""Time-resolved observables (SPEC 6): summary.json history with every
boundary's fluxes (current, potential), every region's amounts and probe
values at each step, history.csv, Result.history and `femflux plot --history`.

References: the final summary (computed by a separate assembly), the discrete
conservation identity at every step, the solution itself at the probes."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from scipy.constants import physical_constants

import femflux

FARADAY = physical_constants["Faraday constant"][0]


def two_species_slab(scheme="bdf1", adaptive=False, probes=None):
    """A <=> B in a 1 mm slab: A held at xmin, B leaves by mass transfer at
    xmax, A flows in at a fixed rate at xmax too."""
    return femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [1e-3], "cells": [40]}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "A", "diffusivity": 1e-9, "initial": 0.5},
                    {"name": "B", "diffusivity": 2e-9, "initial": 0.0}],
        "reaction": [{"equation": "A <=> B", "forward": 1e-3, "backward": 5e-4}],
        "boundary": [{"name": "xmin", "concentration": {"A": 1.0}},
                     {"name": "xmax", "inward_flux": {"A": 2e-7},
                      "mass_transfer": {"B": {"coefficient": 1e-5, "bulk": 0.0}}}],
        "solver": {"steady": False, "t_end": 200.0, "dt": 5.0, "scheme": scheme,
                   "adaptive": adaptive},
        "output": {"probes": probes or {}},
    })


def test_every_step_conserves_what_its_fluxes_say():
    """BDF1 at fixed steps: sum of outward fluxes + (N_n - N_{n-1})/dt = 0 for
    the reaction-invariant total A + B, at every step, from history alone."""
    result = femflux.solve(two_species_slab())
    h = result.summary["history"]
    assert len(h) == 41 and h[0]["t"] == 0.0
    for prev, row in zip(h[:-1], h[1:], strict=True):
        total = sum(row["regions"]["domain"]["amount"].values())
        before = sum(prev["regions"]["domain"]["amount"].values())
        out = sum(sum(b["flux"].values()) for b in row["boundaries"].values())
        scale = abs(row["boundaries"]["xmin"]["flux"]["A"]) + 2e-7
        assert out + (total - before) / row["dt"] == pytest.approx(0.0, abs=1e-8 * scale)
        # the prescribed inward flux is reported as it is
        assert row["boundaries"]["xmax"]["flux"]["A"] == pytest.approx(-2e-7, rel=1e-12)


def test_the_last_history_row_is_the_final_summary():
    result = femflux.solve(two_species_slab(scheme="bdf2", adaptive=True))
    last = result.summary["history"][-1]
    assert last["t"] == pytest.approx(result.summary["time"])
    for name, entry in result.summary["boundaries"].items():
        for species, flux in entry["flux"].items():
            assert last["boundaries"][name]["flux"][species] == pytest.approx(
                flux, rel=1e-7, abs=1e-14)
    assert last["regions"] == result.summary["regions"]


def test_probes_interpolate_the_solution():
    probes = {"node": [0.25e-3], "between": [0.2625e-3]}  # a vertex; mid-element (h = 25 um)
    result = femflux.solve(two_species_slab(probes=probes))
    x = result.mesh.mesh.p[0]
    k = int(np.argmin(np.abs(x - 0.25e-3)))
    c = result.fields["A"]
    final = result.summary["probes"]
    assert final["node"]["A"] == pytest.approx(c[k], rel=1e-12)
    assert final["between"]["A"] == pytest.approx(0.5 * (c[k] + c[k + 1]), rel=1e-12)
    assert final["node"]["mu_B"] == pytest.approx(result.fields["mu_B"][k], rel=1e-12)
    assert result.summary["history"][-1]["probes"] == final


def test_steady_runs_report_probes_too():
    case = two_species_slab(probes={"mid": [5e-4]})
    case.solver.steady = True
    result = femflux.solve(case)
    assert "history" not in result.summary
    x, c = result.mesh.mesh.p[0], result.fields["B"]
    assert result.summary["probes"]["mid"]["B"] == pytest.approx(np.interp(5e-4, x, c),
                                                                 rel=1e-12)


def test_currents_and_potentials_are_recorded_for_electrochemistry():
    """NPP transient: per step, current = F sum z_i flux_i and the boundary
    potential; the applied potential follows its expression of t."""
    case = femflux.load_case({
        "mesh": {"generate": {"shape": "interval", "length": [1e-5], "cells": [60]}},
        "model": {"kind": "nernst-planck-poisson"},
        "species": [{"name": "K", "charge": 1, "diffusivity": 2e-9, "initial": 10.0},
                    {"name": "Cl", "charge": -1, "diffusivity": 2e-9, "initial": 10.0}],
        "electrostatics": {"electroneutral": True},
        "boundary": [{"name": "xmin", "concentration": {"K": 10.0, "Cl": 10.0},
                      "potential": 0.0},
                     {"name": "xmax", "concentration": {"K": 10.0, "Cl": 10.0},
                      "potential": "0.01*t"}],
        "solver": {"steady": False, "t_end": 1.0, "dt": 0.1, "adaptive": False},
    })
    result = femflux.solve(case)
    for row in result.summary["history"][1:]:
        right = row["boundaries"]["xmax"]
        assert right["potential"] == pytest.approx(0.01 * row["t"], rel=1e-9)
        expected = FARADAY * (right["flux"]["K"] - right["flux"]["Cl"])
        assert right["current"] == pytest.approx(expected, rel=1e-12)
        # ohmic: I = kappa A V / L with kappa = F^2 (D+ + D-) c / RT, per m^2 in 1D
        kappa = FARADAY**2 * 4e-9 * 10.0 / (8.314462618 * 298.15)
        assert -right["current"] == pytest.approx(kappa * 0.01 * row["t"] / 1e-5, rel=1e-6)


def test_history_csv_result_history_and_the_history_plot(tmp_path):
    result = femflux.solve(two_species_slab(probes={"mid": [5e-4]}))
    folder = result.save(tmp_path / "run")
    with open(folder / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    history = result.summary["history"]
    assert len(rows) == len(history)
    assert float(rows[-1]["boundaries.xmin.flux.A"]) == \
        history[-1]["boundaries"]["xmin"]["flux"]["A"]
    assert float(rows[3]["probes.mid.B"]) == history[3]["probes"]["mid"]["B"]
    assert "free_energy" not in rows[0]  # null throughout: no column
    table = result.history
    assert np.array_equal(np.asarray(table["regions.domain.amount.B"]),
                          [row["regions"]["domain"]["amount"]["B"] for row in history])
    run = [sys.executable, "-m", "femflux.cli", "plot", str(folder)]
    ok = subprocess.run(run + ["--history", "boundaries.xmin.flux.A", "probes.mid.B",
                               "--x", "t", "--out", str(tmp_path / "h.png")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "h.png").stat().st_size > 1000
    bad = subprocess.run(run + ["--history", "boundaries.nowhere.current"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "boundaries.nowhere.current" in bad.stderr


@pytest.mark.parametrize("point", [[2e-3], [0.5e-3, 0.1e-3]])
def test_bad_probes_are_bad_input(tmp_path, point):
    data = dict(two_species_slab().raw)
    data["output"] = {"probes": {"far": point}}
    with pytest.raises(femflux.CaseError, match="probes.far"):
        femflux.solve(femflux.load_case(data))


def test_a_folder_in_atoms_is_labelled_in_atoms(tmp_path):
    """concentration_unit = "atoms/m^3": the history graph's axis and the
    field picture's colour bar say atoms, a mol/m^3 folder says mol."""
    from femflux.plot import field_unit, plot_history
    from femflux.results.units import amounts_in, folder_amount

    data = dict(two_species_slab().raw)
    data["model"] = dict(data["model"], concentration_unit="atoms/m^3")
    atoms = femflux.solve(femflux.load_case(data)).save(tmp_path / "atoms")
    mol = femflux.solve(two_species_slab()).save(tmp_path / "mol")
    assert (folder_amount(atoms), folder_amount(mol)) == ("atoms", "mol")
    for folder, unit in ((atoms, "atoms"), (mol, "mol")):
        figure = plot_history(folder, ["boundaries.xmin.flux.A"])
        assert figure.axes[0].get_ylabel() == f"boundaries.xmin.flux.A ({unit}/s)"
    with amounts_in("atoms"):
        assert (field_unit("A"), field_unit("J_A")) == ("atoms/m³", "atoms/(m² s)")
    assert field_unit("A") == "mol/m³"
