"""The ``femflux`` command line (SPEC sections 1-3), run as a subprocess.

Every test runs the real command in a temporary working directory on a small
generated-mesh case and checks the exit code, the one ``femflux: error: ...``
line on stderr and the results folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import meshio
import numpy as np
import pytest
from conftest import BLOWUP_CASE, error_line, femflux_cli, write
from conftest import STEADY_SLAB as STEADY

import femflux

REPO = Path(__file__).resolve().parents[1]
POROUS_MESH = REPO / "meshes" / "porous_electrode.msh"
TIMEOUT = 120  # s per command: a hanging solver fails the test instead of the suite

# -- cases ------------------------------------------------------------------------------


# 2D transient reaction-diffusion, 5 fixed steps, results in [output] dir.
TRANSIENT = """\
title = "A turns into B on a rectangle"
[mesh]
generate = { shape = "rectangle", length = [1.0, 0.5], cells = [4, 2] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 0.1
[[species]]
name = "B"
diffusivity = 0.05
initial = 1.0
[[reaction]]
equation = "A => B"
forward = 1.0
[[boundary]]
name = "xmin"
concentration = { A = 1.0 }
[solver]
steady = false
t_end = 0.1
dt = 0.02
adaptive = false
[output]
dir = "out/transient"
"""

# dA/dt = k A^2 (2 A => 3 A) from A = 1 blows up at t = 1/(k A) = 1 s: no solution exists
# beyond, so a run to t_end = 2 s fails whatever the solver settings; to 0.5 s it solves.
BLOWUP = BLOWUP_CASE + """\
[solver]
steady = false
t_end = 2.0
dt = 0.1
adaptive = false
[output]
every = 1000
"""

# A second-order reaction in a closed domain: one Newton iteration cannot solve it.
NONLINEAR = """\
[mesh]
generate = { shape = "interval", length = [1.0], cells = [4] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 0.1
initial = 1.0
[[species]]
name = "B"
diffusivity = 0.1
[[reaction]]
equation = "2 A => B"
forward = 100.0
"""

SUMMARY_KEYS = {"converged", "model", "steady", "time", "steps", "newton_iterations", "dofs",
                "wall_time_s", "femflux_version", "region_names", "warnings", "boundaries",
                "regions"}
HISTORY_KEYS = {"t", "dt", "newton_iterations", "amount", "free_energy"}


# -- helpers ----------------------------------------------------------------------------








def listing(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (relative paths, hidden ones included)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def assert_no_staging(folder: Path) -> None:
    """No ``.NAME.partial-*`` / ``.NAME.old-*`` leftovers of an atomic write in ``folder``."""
    leftovers = [p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name]
    assert not leftovers, leftovers


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def fluxes(folder: Path) -> dict:
    return {name: b["flux"] for name, b in summary(folder)["boundaries"].items()}


def pvd_entries(folder: Path) -> list[tuple[float, str]]:
    root = ET.parse(folder / "series.pvd").getroot()
    return [(float(d.get("timestep")), d.get("file")) for d in root.iter("DataSet")]


def assert_results_folder(folder: Path, species: list[str], transient: bool) -> dict:
    """The folder of SPEC section 3; returns its summary."""
    assert (folder / "solution.vtu").is_file()
    assert (folder / "case.toml").is_file()
    tomllib.loads((folder / "case.toml").read_text())
    s = summary(folder)
    assert SUMMARY_KEYS <= set(s), SUMMARY_KEYS - set(s)
    assert s["model"] == "diffusion"
    assert s["steady"] is (not transient)
    assert s["femflux_version"] == femflux.__version__
    assert s["dofs"] > 0 and s["wall_time_s"] >= 0
    assert isinstance(s["warnings"], list)
    assert "domain" in s["region_names"].values()
    for b in s["boundaries"].values():
        assert set(b["flux"]) == set(species)
        assert b["measure"] > 0
    assert set(s["regions"]["domain"]["amount"]) == set(species)

    mesh = meshio.read(folder / "solution.vtu")
    assert set(mesh.point_data) == set(species) | {f"mu_{k}" for k in species}
    assert set(mesh.cell_data) == {f"J_{k}" for k in species} | {"region"}
    for k in species:
        assert mesh.cell_data[f"J_{k}"][0].shape[1] == 3
    assert {int(r) for r in mesh.cell_data["region"][0]} <= {int(k) for k in s["region_names"]}

    if transient:
        history = s["history"]
        assert len(history) >= 2
        for entry in history:
            assert HISTORY_KEYS <= set(entry)
            assert set(entry["amount"]) == set(species)
            assert entry["free_energy"] is None  # onsager only
        frames = pvd_entries(folder)
        written = {p.name for p in folder.glob("step_*.vtu")}
        assert written == {name for _, name in frames}
        assert all(re.fullmatch(r"step_\d{5}\.vtu", name) for name in written)
        times = [t for t, _ in frames]
        assert times == sorted(times) and times[0] == 0.0
        assert times[-1] == pytest.approx(s["time"])
    else:
        assert "history" not in s or not s["history"]
        assert not (folder / "series.pvd").exists()
    return s


# -- successful runs --------------------------------------------------------------------


@pytest.fixture(scope="module")
def steady_run(tmp_path_factory):
    """STEADY as cases/slab.toml, run from the folder above: (cwd, code, stdout, stderr)."""
    cwd = tmp_path_factory.mktemp("steady")
    write(cwd, "cases/slab.toml", STEADY)
    return (cwd, *femflux_cli("run", "cases/slab.toml", cwd=cwd))


@pytest.fixture(scope="module")
def transient_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("transient")
    write(cwd, "transient.toml", TRANSIENT)
    return (cwd, *femflux_cli("run", "transient.toml", cwd=cwd))


def test_run_steady_writes_default_folder_relative_to_cwd(steady_run):
    cwd, code, out, err = steady_run
    assert code == 0, err
    assert err == ""
    assert out.strip()  # a report unless --quiet
    folder = cwd / "results" / "slab"
    assert not (cwd / "cases" / "results").exists()
    s = assert_results_folder(folder, ["A"], transient=False)
    assert s["converged"] is True
    assert s["time"] == 0.0
    assert s["warnings"] == []
    flux = s["boundaries"]
    assert flux["xmax"]["flux"]["A"] == pytest.approx(1e-9, rel=1e-8)
    assert flux["xmin"]["flux"]["A"] == pytest.approx(-1e-9, rel=1e-8)
    assert flux["xmax"]["measure"] == pytest.approx(1.0)
    assert s["regions"]["domain"]["amount"]["A"] == pytest.approx(0.5, rel=1e-8)
    assert_no_staging(folder.parent)


def test_run_solution_fields_read_back(steady_run):
    cwd = steady_run[0]
    mesh = meshio.read(cwd / "results" / "slab" / "solution.vtu")
    x = mesh.points[:, 0]
    assert mesh.points.shape == (9, 3)
    np.testing.assert_allclose(mesh.point_data["A"], 1.0 - x, atol=1e-10)
    assert np.all(np.isfinite(mesh.point_data["mu_A"][x < 1.0]))
    np.testing.assert_allclose(mesh.cell_data["J_A"][0][:, 0], 1e-9, rtol=1e-8)
    np.testing.assert_allclose(mesh.cell_data["J_A"][0][:, 1:], 0.0, atol=1e-20)


def test_results_folder_permissions_follow_umask(steady_run):
    cwd = steady_run[0]
    umask = os.umask(0)
    os.umask(umask)
    mode = (cwd / "results" / "slab").stat().st_mode & 0o777
    assert mode == 0o777 & ~umask, oct(mode)


def test_run_transient_writes_output_dir_and_series(transient_run):
    cwd, code, out, err = transient_run
    assert code == 0, err
    folder = cwd / "out" / "transient"
    assert not (cwd / "results").exists()
    s = assert_results_folder(folder, ["A", "B"], transient=True)
    assert s["converged"] is True
    assert s["time"] == pytest.approx(0.1)
    assert s["steps"] == 5
    assert len(s["history"]) == 6
    assert [h["t"] for h in s["history"]] == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08, 0.1])
    assert s["history"][-1]["amount"] == pytest.approx(s["regions"]["domain"]["amount"])
    assert s["boundaries"]["xmin"]["measure"] == pytest.approx(0.5)
    assert len(pvd_entries(folder)) == 6
    for _, name in pvd_entries(folder):
        step = meshio.read(folder / name)
        assert {"A", "B", "mu_A", "mu_B"} == set(step.point_data)
    assert_no_staging(folder.parent)


@pytest.mark.parametrize("which", ["steady", "transient"])
def test_case_toml_is_rerunnable(which, steady_run, transient_run):
    cwd = {"steady": steady_run, "transient": transient_run}[which][0]
    folder = cwd / ("results/slab" if which == "steady" else "out/transient")
    code, _, err = femflux_cli("run", folder / "case.toml", "--out", "rerun", "--quiet",
                               cwd=cwd)
    assert code == 0, err
    first, again = summary(folder), summary(cwd / "rerun")
    for name, b in first["boundaries"].items():
        for k, value in b["flux"].items():
            assert again["boundaries"][name]["flux"][k] == pytest.approx(value, rel=1e-9,
                                                                         abs=1e-30)
    for k, value in first["regions"]["domain"]["amount"].items():
        assert again["regions"]["domain"]["amount"][k] == pytest.approx(value, rel=1e-9)


def test_out_option_wins_over_output_dir(tmp_path):
    write(tmp_path, "transient.toml", TRANSIENT)
    code, _, err = femflux_cli("run", "transient.toml", "--out", "some/nested/place",
                               cwd=tmp_path)
    assert code == 0, err
    assert_results_folder(tmp_path / "some" / "nested" / "place", ["A", "B"], transient=True)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "results").exists()


# -- --set and --quiet ------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, xmax_flux",
    [
        ("species.A.diffusivity=2e-9", 2e-9),
        ("boundary.xmax.concentration.A=0.5", 0.5e-9),
        ("boundary.xmin.concentration.A=3", 3e-9),  # a TOML integer
    ],
)
def test_set_overrides_numbers_by_dotted_path(tmp_path, override, xmax_flux):
    write(tmp_path, "slab.toml", STEADY)
    code, _, err = femflux_cli("run", "slab.toml", "--set", override, cwd=tmp_path)
    assert code == 0, err
    folder = tmp_path / "results" / "slab"
    assert fluxes(folder)["xmax"]["A"] == pytest.approx(xmax_flux, rel=1e-8)
    # case.toml is the case as run, after the override
    ran = tomllib.loads((folder / "case.toml").read_text())
    key, _, value = override.partition("=")
    section, name, *rest = key.split(".")
    entry = next(e for e in ran[section] if e["name"] == name)
    for part in rest:
        entry = entry[part]
    assert entry == float(value)


def test_set_overrides_strings_and_quiet(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    code, out, err = femflux_cli("run", "slab.toml", "--quiet",
                                 "--set", 'title="tagged run"',  # a TOML string
                                 "--set", "output.dir=custom/place",  # a bare string
                                 cwd=tmp_path)
    assert code == 0, err
    assert out == ""
    folder = tmp_path / "custom" / "place"
    assert not (tmp_path / "results").exists()
    ran = tomllib.loads((folder / "case.toml").read_text())
    assert ran["title"] == "tagged run"
    assert ran["output"]["dir"] == "custom/place"


def test_warnings_are_printed_and_listed_in_summary(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    code, _, err = femflux_cli("run", "slab.toml", "--set", "species.A.charge=1", cwd=tmp_path)
    assert code == 0, err
    warnings = summary(tmp_path / "results" / "slab")["warnings"]
    assert any("charge" in w for w in warnings), warnings
    assert "charge" in err and "warning" in err


# -- bad input: exit 2, one line, no results folder -------------------------------------

BAD_INPUT = {
    # id: (case text or None, extra arguments, fragments the error line must contain)
    "missing case file": (None, [], ["missing.toml"]),
    "TOML syntax error": ("[mesh\ngenerate = 1\n", [], ["case.toml", "TOML"]),
    "unknown key": (STEADY + "[solver]\nbanana = 3\n", [], ["banana"]),
    "unknown section": (STEADY + "[extras]\nfoo = 1\n", [], ["extras"]),
    "unknown species in a boundary": (
        STEADY.replace("concentration = { A = 0.0 }", "concentration = { C = 0.0 }"), [],
        ["'C'", "xmax"]),
    "boundary not in the mesh": (
        STEADY + '[[boundary]]\nname = "left"\ninward_flux = { A = 1e-9 }\n', [],
        ["left", "xmax", "xmin"]),
    "missing mesh file": (
        STEADY.replace('generate = { shape = "interval", length = [1.0], cells = [8] }',
                       'file = "nowhere.msh"'), [], ["nowhere.msh"]),
    "value out of range": (
        STEADY.replace("diffusivity = 1e-9", "diffusivity = -1e-9"), [],
        ["diffusivity", "-1e-09"]),
    "wrong vector length": (STEADY, ["--set", "mesh.generate.cells=[3, 3]"], ["cells"]),
    "two conditions on one species": (
        STEADY, ["--set", "boundary.xmax.inward_flux.A=1e-9"], ["xmax", "inward_flux"]),
    "unknown model kind": (STEADY.replace('kind = "diffusion"', 'kind = "magic"'), [],
                           ["magic"]),
    "bad expression": (
        STEADY.replace("concentration = { A = 1.0 }",
                       "concentration = { A = \"__import__('os').system('touch pwned')\" }"),
        [], ["__import__"]),
    "bad expression in initial": (
        STEADY, ["--set", "species.A.initial=\"__import__('os')\""], ["__import__"]),
    "--set unknown key": (STEADY, ["--set", "solver.bogus=1"], ["solver.bogus"]),
    "--set unknown section": (STEADY, ["--set", "bogus.x=1"], ["bogus"]),
    "--set unknown entry": (STEADY, ["--set", "species.C.diffusivity=1e-9"], ["'C'"]),
    "--set without =": (STEADY, ["--set", "solver.steady"], ["KEY=VALUE"]),
    "unknown option": (STEADY, ["--bogus"], ["--bogus"]),
}


@pytest.mark.parametrize("case_text, extra, fragments", BAD_INPUT.values(), ids=BAD_INPUT)
def test_bad_input_exits_2_naming_the_culprit(tmp_path, case_text, extra, fragments):
    name = "missing.toml" if case_text is None else "case.toml"
    if case_text is not None:
        write(tmp_path, name, case_text)
    before = listing(tmp_path)
    code, out, err = femflux_cli("run", name, *extra, cwd=tmp_path)
    assert code == 2, err
    line = error_line(err)
    for fragment in fragments:
        assert fragment in line, line
    assert listing(tmp_path) == before  # no results folder, no staging folder, no 'pwned'


@pytest.mark.parametrize("kind", ["warp-drive"])
def test_unknown_model_kind_is_bad_input(tmp_path, kind):
    write(tmp_path, "slab.toml", STEADY)
    before = listing(tmp_path)
    for command in ("run", "check"):
        code, _, err = femflux_cli(command, "slab.toml", "--set", f"model.kind={kind}",
                                   cwd=tmp_path)
        assert code == 2, err
        assert kind in error_line(err)
    assert listing(tmp_path) == before


def test_no_command_is_a_usage_error(tmp_path):
    code, _, err = femflux_cli(cwd=tmp_path)
    assert code == 2
    error_line(err)


def test_debug_shows_the_traceback(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    code, _, err = femflux_cli("--debug", "run", "slab.toml", "--set", "solver.bogus=1",
                               cwd=tmp_path)
    assert code == 2
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("femflux: error: ")
    assert "solver.bogus" in err.strip().splitlines()[-1]


# -- the solver fails: exit 3, a complete folder with the last converged state ----------


def test_failed_transient_keeps_last_converged_state(tmp_path):
    write(tmp_path, "blowup.toml", BLOWUP)
    folder = tmp_path / "results" / "blowup"
    code, _, err = femflux_cli("run", "blowup.toml", "--quiet", "--set", "solver.t_end=0.5",
                               cwd=tmp_path)
    assert code == 0, err  # before the blow-up the case solves
    (folder / "step_00999.vtu").write_text("from an older run")

    code, _, err = femflux_cli("run", "blowup.toml", cwd=tmp_path)
    assert code == 3, err
    assert folder.is_dir()
    assert not (folder / "step_00999.vtu").exists()  # the old folder was replaced completely
    assert_no_staging(folder.parent)
    s = assert_results_folder(folder, ["A"], transient=True)
    assert s["converged"] is False
    assert 0.5 < s["time"] < 1.0  # solved past the first run's end, failed before t = 1 s
    assert s["history"][-1]["t"] == pytest.approx(s["time"])
    assert tomllib.loads((folder / "case.toml").read_text())["solver"]["t_end"] == 2.0
    # solution.vtu is the last converged state, the last frame of the series
    last_t, last_file = pvd_entries(folder)[-1]
    assert last_t == pytest.approx(s["time"])
    final, last = meshio.read(folder / "solution.vtu"), meshio.read(folder / last_file)
    np.testing.assert_array_equal(final.point_data["A"], last.point_data["A"])
    amount = s["regions"]["domain"]["amount"]["A"]
    assert amount == pytest.approx(s["history"][-1]["amount"]["A"])
    assert amount > 2.0  # A(t) = 1/(1 - t) > 2 for t > 0.5
    assert np.all(np.isfinite(final.point_data["A"]))

    line = error_line(err)
    assert "did not converge" in line
    assert str(Path("results") / "blowup") in line


def test_failed_steady_solve_exits_3_with_complete_folder(tmp_path):
    write(tmp_path, "nonlinear.toml", NONLINEAR)
    code, _, err = femflux_cli("run", "nonlinear.toml", "--out", "failed",
                               "--set", "solver.steady=true", "--set", "solver.max_newton=1",
                               cwd=tmp_path)
    assert code == 3, err
    line = error_line(err)
    assert "did not converge" in line and "failed" in line
    s = assert_results_folder(tmp_path / "failed", ["A", "B"], transient=False)
    assert s["converged"] is False
    assert_no_staging(tmp_path)


def test_non_finite_boundary_value_fails_with_one_line(tmp_path):
    # sqrt(0.5 - t) is NaN after t = 0.5: found before solving (it is evaluated up to t_end)
    transient = "[solver]\nsteady = false\nt_end = 1.0\ndt = 0.1\nadaptive = false\n"
    write(tmp_path, "cliff.toml", STEADY.replace(
        "concentration = { A = 0.0 }", 'inward_flux = { A = "sqrt(0.5 - t)" }') + transient)
    code, _, err = femflux_cli("run", "cliff.toml", cwd=tmp_path)
    assert code == 2, err
    assert "inward_flux.A" in error_line(err) and "t = 0.75 s" in err
    assert not (tmp_path / "results").exists()
    # NaN only for 0.3 < t < 0.45, between the checked times: the step to 0.4 fails
    write(tmp_path, "gap.toml", STEADY.replace(
        "concentration = { A = 0.0 }", 'inward_flux = { A = "sqrt((t - 0.3)*(t - 0.45))" }')
        + transient)
    code, _, err = femflux_cli("run", "gap.toml", cwd=tmp_path)
    assert code == 3, err
    error_line(err)  # no RuntimeWarning from numpy on stderr
    s = summary(tmp_path / "results" / "gap")
    assert s["converged"] is False
    assert s["time"] == pytest.approx(0.3)


# -- nothing half-written, nothing of the user's destroyed ------------------------------


def test_rerun_replaces_existing_folder_completely(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    folder = tmp_path / "results" / "slab"
    code, _, err = femflux_cli("run", "slab.toml", "--quiet",
                               "--set", "species.A.diffusivity=2e-9", cwd=tmp_path)
    assert code == 0, err
    (folder / "A.png").write_text("a picture of the older run")  # what femflux plot writes
    (folder / "step_00007.vtu").write_text("not a vtu")

    code, _, err = femflux_cli("run", "slab.toml", "--quiet", cwd=tmp_path)
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["case.toml", "solution.vtu",
                                                        "summary.json"]
    assert fluxes(folder)["xmax"]["A"] == pytest.approx(1e-9, rel=1e-8)
    assert "diffusivity = 1e-09" in (folder / "case.toml").read_text()
    assert_no_staging(folder.parent)


def test_out_below_a_file_is_bad_input(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    code, _, err = femflux_cli("run", "slab.toml", "--out", "slab.toml/results", cwd=tmp_path)
    assert code == 2, err
    assert "slab.toml" in error_line(err)
    assert (tmp_path / "slab.toml").read_text() == STEADY
    assert_no_staging(tmp_path)


@pytest.mark.parametrize("out", [".", "notes.txt"])
def test_out_never_destroys_user_files(tmp_path, out):
    write(tmp_path, "slab.toml", STEADY)
    write(tmp_path, "notes.txt", "my notes\n")
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--out", out, cwd=tmp_path)
    assert code in (0, 2), err
    assert (tmp_path / "slab.toml").read_text() == STEADY
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"
    if code == 2:
        error_line(err)


# -- check, info, --version -------------------------------------------------------------


def test_check_prints_size_and_warnings_without_writing(tmp_path):
    write(tmp_path, "slab.toml", STEADY)
    before = listing(tmp_path)
    code, out, err = femflux_cli("check", "slab.toml", "--set", "species.A.charge=1",
                                 cwd=tmp_path)
    assert code == 0, err
    assert re.search(r"\b9 dofs\b", out), out  # 9 nodes, one species
    assert re.search(r"warning.*charge", out + err), out + err
    assert listing(tmp_path) == before


def test_check_rejects_bad_case(tmp_path):
    write(tmp_path, "slab.toml", STEADY + "[[boundary]]\nname = \"left\"\n")
    code, _, err = femflux_cli("check", "slab.toml", cwd=tmp_path)
    assert code == 2
    assert "left" in error_line(err)


def test_info_lists_named_boundaries_and_regions(tmp_path):
    code, out, err = femflux_cli("info", POROUS_MESH, cwd=tmp_path)
    assert code == 0, err
    for name in ("separator", "current_collector", "walls", "particles", "electrolyte"):
        assert re.search(rf"\b{name}\b", out), name
    assert re.search(r"\b3\b", out)  # dimension


def test_info_axisymmetric_measures_include_2_pi_r(tmp_path):
    pipette = str(Path(POROUS_MESH).with_name("pipette_tip.msh"))
    code, out, err = femflux_cli("info", pipette, "--scale", "1e-9", "--axisymmetric",
                                 cwd=tmp_path)
    assert code == 0, err
    assert "axisymmetric" in out
    code, out, err = femflux_cli("info", str(Path(POROUS_MESH)), "--axisymmetric",
                                 cwd=tmp_path)
    assert code == 2  # a 3D mesh cannot be axisymmetric
    assert "axisymmetric" in error_line(err)


def test_info_missing_mesh_exits_2(tmp_path):
    code, _, err = femflux_cli("info", "nowhere.msh", cwd=tmp_path)
    assert code == 2
    assert "nowhere.msh" in error_line(err)


def test_version(tmp_path):
    code, out, _ = femflux_cli("--version", cwd=tmp_path)
    assert code == 0
    assert femflux.__version__ in out


def test_console_script_version(tmp_path):
    script = shutil.which("femflux", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the femflux console script is not installed next to this Python")
    proc = subprocess.run([script, "--version"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"femflux {femflux.__version__}"
