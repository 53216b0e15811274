"""``femflux sweep`` and ``femflux.sweep`` (SPEC 6 "Sweeps") on real Dask clusters.

Every sweep here runs on Dask distributed as a user's would: an embedded
LocalCluster of worker processes, or a scheduler and workers started as
separate processes (``python -m dask scheduler`` / ``python -m dask worker``)
and reached by ``--scheduler``.  Nothing of Dask is mocked.  The cases are
small generated meshes (a point takes milliseconds to a second).
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import meshio
import numpy as np
import pytest
from conftest import BLOWUP_CASE, SPEC_EXAMPLE, femflux_cli, write, write_layered_mesh

import femflux
from femflux.case import parse_vary
from femflux.cli import main

TIMEOUT = 180  # s per command

# 1D Nernst-Planck-Poisson (SPEC 2.1): a nonlinear steady solve of a few Newton iterations
PNP = SPEC_EXAMPLE.replace("cells = [400]", "cells = [100]")

# 1D transient diffusion, 1000 fixed steps: about half a second per point
SLOW = """\
[mesh]
generate = { shape = "interval", length = [1.0], cells = [200] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 0.1
[[boundary]]
name = "xmin"
concentration = { A = 1.0 }
[solver]
steady = false
t_end = 1.0
dt = 0.001
adaptive = false
[output]
every = 100000
"""

# dA/dt = A^2 from A = 1 blows up at t = 1 s: a run to t_end > 1 s fails (exit 3)
BLOWUP = BLOWUP_CASE + """\
[solver]
steady = false
t_end = 0.5
dt = 0.1
adaptive = false
max_newton = 4
"""

# a closed steady slab: the prescribed fluxes must balance, else the point is bad input
BALANCE = """\
[mesh]
generate = { shape = "interval", length = [1.0], cells = [4] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 1e-9
initial = 1.0
[[boundary]]
name = "xmin"
inward_flux = { A = 1e-9 }
[[boundary]]
name = "xmax"
inward_flux = { A = -1e-9 }
"""


# -- helpers ----------------------------------------------------------------------------






def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def records(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((folder / "records").glob("*.json"))]


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def without_timing(value):
    """A summary without its wall time (the one entry two identical runs differ in)."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k != "wall_time_s"}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def assert_same_results(a: Path, b: Path) -> None:
    """Two results folders of the same run: same case.toml, summary, fields."""
    assert (a / "case.toml").read_text() == (b / "case.toml").read_text()
    assert without_timing(summary(a)) == without_timing(summary(b))
    ma, mb = meshio.read(a / "solution.vtu"), meshio.read(b / "solution.vtu")
    np.testing.assert_array_equal(ma.points, mb.points)
    assert set(ma.point_data) == set(mb.point_data)
    for name in ma.point_data:
        np.testing.assert_array_equal(ma.point_data[name], mb.point_data[name])


def column(table, name: str) -> list:
    values = table[name]
    return list(values.tolist() if hasattr(values, "tolist") else values)


def mtimes(folder: Path) -> dict[str, int]:
    """summary.json's modification time of every complete point (not of a
    folder being written: those are hidden until renamed into place)."""
    return {p.name: (p / "summary.json").stat().st_mtime_ns
            for p in (folder / "points").iterdir()
            if not p.name.startswith(".") and (p / "summary.json").is_file()}


# -- VALUES ---------------------------------------------------------------------------------


def test_vary_values():
    assert parse_vary("boundary.right.potential=linspace(-1, 1, 5)") == (
        "boundary.right.potential", [-1.0, -0.5, 0.0, 0.5, 1.0], False)
    key, values, log = parse_vary("species.K.diffusivity = logspace(-10, -8, 3)")
    assert key == "species.K.diffusivity" and log
    np.testing.assert_allclose(values, [1e-10, 1e-9, 1e-8], rtol=1e-14)
    assert parse_vary("solver.t_end=[1, 2.5]") == ("solver.t_end", [1, 2.5], False)
    assert parse_vary("solver.t_end=0.5,2") == ("solver.t_end", [0.5, 2], False)
    assert parse_vary("solver.linear=direct,iterative")[1] == ["direct", "iterative"]
    assert parse_vary("mesh.generate.cells=[[4], [8]]")[1] == [[4], [8]]
    for bad in ("boundary.right.potential", "=1,2", "k=", "k=linspace(0, 1)",
                "k=linspace(0, 1, 2.5)", "k=logspace(0, a, 3)", "k=[1, 2", "k=[]", "k=1,,2"):
        with pytest.raises(femflux.CaseError):
            parse_vary(bad)


# -- the points are the runs -------------------------------------------------------------------


def test_sweep_points_are_separate_runs_of_the_same_points(tmp_path):
    """A product sweep on a LocalCluster of two worker processes: every point's
    folder is what ``femflux run --set`` writes for its values, and the table
    holds its values and outputs."""
    write(tmp_path, "pnp.toml", PNP)
    code, out, err = femflux_cli("sweep", "pnp.toml",
                                 "--vary", "boundary.xmax.potential=[0.0, 0.05]",
                                 "--vary", "species.K.diffusivity=1e-9,2e-9", "--workers", "2",
                                 "--collect", "boundaries.xmax.current", "boundaries.xmax.flux.K",
                                 "--out", "sweep", cwd=tmp_path)
    assert code == 0, err
    assert "4 ok, 0 failed" in out
    folder = tmp_path / "sweep"
    assert len({r["pid"] for r in records(folder)}) == 2  # both worker processes solved points
    rows = read_csv(folder / "sweep.csv")
    assert list(rows[0]) == ["point", "boundary.xmax.potential", "species.K.diffusivity",
                             "status", "message", "boundaries.xmax.current",
                             "boundaries.xmax.flux.K"]
    expected = [(0.0, 1e-9), (0.0, 2e-9), (0.05, 1e-9), (0.05, 2e-9)]  # first key slowest
    for i, (potential, diffusivity) in enumerate(expected):
        row = rows[i]
        assert (float(row["boundary.xmax.potential"]), float(row["species.K.diffusivity"])) \
            == (potential, diffusivity)
        assert row["status"] == "ok" and row["message"] == ""
        code, _, err = femflux_cli("run", "pnp.toml", "--set",
                                   f"boundary.xmax.potential={potential!r}", "--set",
                                   f"species.K.diffusivity={diffusivity!r}", "--out", f"run{i}",
                                   "--quiet", cwd=tmp_path)
        assert code == 0, err
        point = folder / "points" / f"{i:04d}"
        assert_same_results(point, tmp_path / f"run{i}")
        b = summary(point)["boundaries"]["xmax"]
        assert float(row["boundaries.xmax.current"]) == b["current"]  # full precision
        assert float(row["boundaries.xmax.flux.K"]) == b["flux"]["K"]
    # the points differ as they should: the K flux doubles with D_K at no applied voltage
    assert float(rows[1]["boundaries.xmax.flux.K"]) == pytest.approx(
        2 * float(rows[0]["boundaries.xmax.flux.K"]), rel=1e-6)
    assert (folder / "sweep.png").stat().st_size > 10_000
    assert json.loads((folder / "sweep.json").read_text())["points"][3] == {
        "boundary.xmax.potential": 0.05, "species.K.diffusivity": 2e-9}


def test_sweep_table_of_a_case_file(tmp_path, monkeypatch, capsys):
    """A [sweep] table (zip, logspace, collect) through the Python API, the
    default folder, the table as returned and as sweep.csv; femflux run on
    the case solves the base case and warns."""
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "salt.toml", PNP + """
[sweep]
zip = true
collect = ["boundaries.xmax.current", "newton_iterations"]
[sweep.vary]
"boundary.xmax.concentration.K" = "logspace(-1, 1, 3)"
boundary.xmax.concentration.Cl = "logspace(-1, 1, 3)"  # unquoted: TOML nests it
""")
    table = femflux.sweep(path, workers=1)
    assert list(table) == ["point", "boundary.xmax.concentration.K",
                           "boundary.xmax.concentration.Cl", "status", "message",
                           "boundaries.xmax.current", "newton_iterations"]
    np.testing.assert_allclose(column(table, "boundary.xmax.concentration.Cl"), [0.1, 1, 10],
                               rtol=1e-14)
    assert column(table, "status") == ["ok"] * 3
    folder = tmp_path / "results" / "salt-sweep"
    rows = read_csv(folder / "sweep.csv")
    currents = [float(r["boundaries.xmax.current"]) for r in rows]
    assert currents == column(table, "boundaries.xmax.current")
    assert currents == [summary(folder / "points" / f"{i:04d}")["boundaries"]["xmax"]["current"]
                        for i in range(3)]
    assert len(set(currents)) == 3
    # the point's case.toml has the values and no [sweep]
    point_case = femflux.load_case(folder / "points" / "0002" / "case.toml")
    assert point_case.sweep is None
    xmax = next(b for b in point_case.boundaries if b.name == "xmax")
    assert xmax.concentration == {"K": pytest.approx(10.0), "Cl": pytest.approx(10.0)}

    assert main(["run", "salt.toml", "--out", "base"]) == 0
    err = capsys.readouterr().err
    assert "femflux: warning: [sweep] (3 points) is not run by femflux run" in err
    assert "femflux sweep" in err
    base = summary(tmp_path / "base")
    assert any("[sweep]" in w for w in base["warnings"])
    assert base["boundaries"]["xmax"]["flux"]["K"] == summary(folder / "points" / "0001")[
        "boundaries"]["xmax"]["flux"]["K"]  # c = 1 is the base case


# -- a separately started cluster ---------------------------------------------------------------


@pytest.fixture
def dask_processes(tmp_path):
    """``python -m dask scheduler`` and ``python -m dask worker`` (two single-threaded
    worker processes) on localhost, as a user starts them; torn down after."""
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed at teardown
    processes = [subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert processes[0].poll() is None, (tmp_path / "dask.log").read_text()
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole, but give the scheduler its listener
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            pids = set(client.run(os.getpid).values())
        yield address, pids
    finally:
        for proc in reversed(processes):
            proc.terminate()
        for proc in reversed(processes):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_sweep_on_a_running_scheduler(tmp_path, dask_processes):
    address, worker_pids = dask_processes
    write(tmp_path, "pnp.toml", PNP)
    code, out, err = femflux_cli("sweep", "pnp.toml", "--vary",
                                 "boundary.xmax.potential=linspace(0, 0.1, 4)",
                                 "--scheduler", address, "--out", "remote", cwd=tmp_path)
    assert code == 0, err
    folder = tmp_path / "remote"
    ran = records(folder)
    assert [r["status"] for r in ran] == ["ok"] * 4
    assert {r["pid"] for r in ran} <= worker_pids  # solved by the cluster's workers
    rows = read_csv(folder / "sweep.csv")
    # default outputs: every boundary's fluxes, current and potential
    assert list(rows[0])[4:] == ["boundaries.xmin.flux.K", "boundaries.xmin.flux.Cl",
                                 "boundaries.xmin.current", "boundaries.xmin.potential",
                                 "boundaries.xmax.flux.K", "boundaries.xmax.flux.Cl",
                                 "boundaries.xmax.current", "boundaries.xmax.potential"]
    np.testing.assert_allclose([float(r["boundaries.xmax.potential"]) for r in rows],
                               [0.0, 0.1 / 3, 0.2 / 3, 0.1], rtol=1e-12, atol=1e-15)
    # the same sweep on the embedded cluster gives the same table
    assert femflux.sweep(tmp_path / "pnp.toml",
                         vary={"boundary.xmax.potential": np.linspace(0, 0.1, 4)},
                         out=tmp_path / "local", workers=2) is not None
    local = read_csv(tmp_path / "local" / "sweep.csv")
    assert local == rows


# -- resume ------------------------------------------------------------------------------------


def test_resume_after_the_sweep_is_killed(tmp_path):
    """SIGKILL the sweep (the CLI and its workers) after two points: the re-run
    solves only the rest; no complete point is solved again, none is lost,
    and no half-written folder is left."""
    write(tmp_path, "slow.toml", SLOW)
    args = [sys.executable, "-m", "femflux.cli", "sweep", "slow.toml", "--vary",
            "species.A.diffusivity=linspace(0.1, 0.2, 8)", "--workers", "1", "--out", "sw",
            "--collect", "regions.domain.amount.A"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    folder = tmp_path / "sw"
    try:
        deadline = time.monotonic() + TIMEOUT
        while len(mtimes(folder) if (folder / "points").is_dir() else {}) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and the worker processes it started
        proc.wait()
    before = mtimes(folder)
    assert 2 <= len(before) < 8
    assert not (folder / "sweep.csv").exists()

    code, out, err = femflux_cli(*args[3:], cwd=tmp_path)
    assert code == 0, err
    assert f"({8 - len(before)} solved now, {len(before)} complete before)" in out
    after = mtimes(folder)
    assert len(after) == 8
    assert {name: after[name] for name in before} == before  # not solved again
    assert sorted(p.name for p in (folder / "points").iterdir()) == [f"{i:04d}" for i in range(8)]
    assert not [p for p in folder.rglob(".*")]  # no staging leftovers
    rows = read_csv(folder / "sweep.csv")
    assert [r["status"] for r in rows] == ["ok"] * 8
    amounts = [float(r["regions.domain.amount.A"]) for r in rows]
    assert all(b > a for a, b in zip(amounts, amounts[1:], strict=False))  # faster uptake
    # a third run solves nothing and writes the same table
    code, out, _ = femflux_cli(*args[3:], cwd=tmp_path)
    assert code == 0 and "(0 solved now, 8 complete before)" in out
    assert mtimes(folder) == after
    assert read_csv(folder / "sweep.csv") == rows


# -- failing points ------------------------------------------------------------------------------


def test_failing_points_are_recorded_and_the_sweep_goes_on(tmp_path):
    write(tmp_path, "blowup.toml", BLOWUP)
    code, out, err = femflux_cli("sweep", "blowup.toml", "--vary", "solver.t_end=[0.5, 2.0, 0.8]",
                                 "--workers", "2", "--collect", "time", "--out", "sw",
                                 cwd=tmp_path)
    assert code == 3
    assert err.strip().splitlines()[-1] == ("femflux: error: 1 of 3 points failed (status and "
                                            "message in sw/sweep.csv)")
    assert "2 ok, 1 failed" in out
    rows = read_csv(tmp_path / "sw" / "sweep.csv")
    assert [r["status"] for r in rows] == ["ok", "not_converged", "ok"]
    assert rows[1]["message"].startswith("the transient solve did not converge")
    assert "\n" not in rows[1]["message"]
    assert [r["time"] for r in rows] == ["0.5", "", "0.8"]
    # the failed point keeps its last converged state, complete, "converged": false
    failed = summary(tmp_path / "sw" / "points" / "0001")
    assert failed["converged"] is False and 0.5 < failed["time"] < 1.0
    # a re-run does not solve the failed point again (its folder is complete)
    code, out, _ = femflux_cli("sweep", "blowup.toml", "--vary", "solver.t_end=[0.5, 2.0, 0.8]",
                               "--collect", "time", "--out", "sw", cwd=tmp_path)
    assert code == 3 and "(0 solved now, 3 complete before)" in out

    # bad input of one point (unbalanced steady fluxes, found when its model is built)
    write(tmp_path, "balance.toml", BALANCE)
    table = femflux.sweep(tmp_path / "balance.toml",
                          vary={"boundary.xmin.inward_flux.A": [1e-9, 2e-9]},
                          out=tmp_path / "balance", workers=1)
    assert column(table, "status") == ["ok", "bad_input"]
    message = column(table, "message")[1]
    assert "cannot balance" in message
    assert not (tmp_path / "balance" / "points" / "0001").exists()  # no folder for bad input
    assert column(table, "boundaries.xmin.flux.A")[0] == pytest.approx(-1e-9)
    assert column(table, "boundaries.xmin.flux.A")[1] is None or math.isnan(
        column(table, "boundaries.xmin.flux.A")[1])


# -- continuation -----------------------------------------------------------------------------


def test_chain_starts_each_point_from_the_previous_state(tmp_path):
    """--chain: every point equals an independent solve of its case started from
    the previous point's converged state, and continuation saves Newton
    iterations over solving each point from the case's initial values."""
    path = write(tmp_path, "pnp.toml", PNP)
    voltages = "linspace(-0.2, 0.2, 5)"
    table = femflux.sweep(path, vary={"boundary.xmax.potential": voltages}, chain=True,
                          collect=["newton_iterations", "boundaries.xmax.current"],
                          out=tmp_path / "chain", workers=2)
    assert column(table, "status") == ["ok"] * 5
    folder = tmp_path / "chain"
    chained_iterations = column(table, "newton_iterations")
    independent = []
    for i, v in enumerate(np.linspace(-0.2, 0.2, 5)):
        case = femflux.load_case(path, overrides={"boundary.xmax.potential": float(v)})
        point = summary(folder / "points" / f"{i:04d}")
        initial = np.load(folder / "states" / f"{i - 1:04d}.npy") if i else None
        result = femflux.solve(case, initial=initial)
        assert without_timing(result.summary) == without_timing(point)
        np.testing.assert_array_equal(result.state, np.load(folder / "states" / f"{i:04d}.npy"))
        independent.append(femflux.solve(case).summary["newton_iterations"])
    assert chained_iterations[0] == independent[0]
    assert sum(chained_iterations[1:]) < sum(independent[1:])


def test_chain_needs_steady_points_and_fixed_initial_values(tmp_path):
    write(tmp_path, "pnp.toml", PNP)
    write(tmp_path, "slow.toml", SLOW)
    with pytest.raises(femflux.CaseError, match="chain needs steady points"):
        femflux.sweep(tmp_path / "slow.toml", vary={"solver.t_end": [0.1, 0.2]}, chain=True,
                      out=tmp_path / "x")
    with pytest.raises(femflux.CaseError, match="cannot vary initial values"):
        femflux.sweep(tmp_path / "pnp.toml", vary={"species.K.initial": [1.0, 2.0]}, chain=True,
                      out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


# -- bad input ----------------------------------------------------------------------------------


SWEEP_TABLE = """
[sweep]
vary = { "boundary.xmax.potential" = [0.0, 0.1] }
"""


@pytest.mark.parametrize("case_tail, options, message", [
    ("", ["--vary", "boundary.xmax.potential=linspace(0, 1)"],
     "--vary 'boundary.xmax.potential': linspace takes three arguments a, b, n"),
    ("", ["--vary", "boundary.xmax.potentail=[0.1]"],
     "--vary 'boundary.xmax.potentail' = 0.1: unknown key 'boundary.xmax.potentail' "
     "(did you mean 'potential'?)"),
    ("", ["--vary", "boundary.right.potential=[0.1]"],
     "no [[boundary]] named 'right' (names: xmin, xmax)"),
    ("", ["--vary", "species.K.diffusivity=[1e-9, -1e-9]"],
     "--vary 'species.K.diffusivity' = -1e-09: species 'K': diffusivity must be >= 0"),
    ("", ["--vary", "boundary.xmax.potential=[0, 1]", "--vary", "solver.dt=[1, 2, 3]", "--zip"],
     "zip needs lists of one length"),
    ("", ["--vary", "boundary.xmax.potential=[0, 1]", "--collect", "boundary.xmax.current"],
     "--collect 'boundary.xmax.current': summary.json has no 'boundary'"),
    ("", ["--vary", "boundary.xmax.potential=[0, 1]", "--collect", "boundaries.xmax.flux.Na"],
     "no species 'Na'"),
    ("", ["--vary", "boundary.xmax.potential=[0, 1]", "--workers", "0"], "--workers must be >= 1"),
    ("", ["--vary", "boundary.xmax.potential=[0, 1]", "--set", "boundary.xmax.potential=0.2"],
     "is also set by --set"),
    ("", [], "nothing to vary"),
    ("[sweep]\nvary = { \"boundary.xmax.potential\" = \"range(3)\" }\n", [],
     "[sweep] vary 'boundary.xmax.potential' must be a list of values, linspace(a, b, n) or "
     "logspace(a, b, n)"),
    ("[sweep]\nvary = { \"boundary.xmax.potential\" = [0.1] }\nchian = true\n", [],
     "unknown key 'sweep.chian' (did you mean 'chain'?)"),
    ("[sweep]\nvary = { \"boundary.xmax.potential\" = [\"0.1 V\"] }\n", [],
     "[sweep] vary 'boundary.xmax.potential' = '0.1 V'"),
    ("[sweep]\nvary = { \"boundary.xmax.potential\" = [0.1] }\nzip = 1\n", [],
     "[sweep] zip must be true or false"),
])
def test_bad_sweep_input_is_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, case_tail,
                                                      options, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pnp.toml", PNP + ("\n" + case_tail if case_tail else ""))
    assert main(["sweep", "pnp.toml", "--out", "sw", *options]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("femflux: error: "), err
    assert message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pnp.toml"]  # nothing written


def test_a_folder_of_something_else_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pnp.toml", PNP + SWEEP_TABLE)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["sweep", "pnp.toml", "--out", "other"]) == 2
    assert "is not a femflux sweep" in capsys.readouterr().err
    assert main(["sweep", "pnp.toml", "--out", "sw", "--workers", "1", "--quiet"]) == 0
    before = mtimes(tmp_path / "sw")
    # the same folder for other values: refused, nothing touched
    assert main(["sweep", "pnp.toml", "--out", "sw", "--vary", "boundary.xmax.potential=[0.2]"]) \
        == 2
    assert "holds another sweep (its points differ)" in capsys.readouterr().err
    assert main(["sweep", "pnp.toml", "--out", "sw", "--set", "solver.newton_rtol=1e-9"]) == 2
    assert "holds another sweep (its base case differs)" in capsys.readouterr().err
    assert mtimes(tmp_path / "sw") == before


# -- a worker keeps its mesh ------------------------------------------------------------------

# 2D KCl across a 1 um layer read from a Gmsh file: the mesh a worker keeps
LAYER = SPEC_EXAMPLE.replace(
    'generate = { shape = "interval", length = [1.0e-6], cells = [400] }',
    'file = "layer.msh"').replace('"xmin"', '"left"').replace('"xmax"', '"right"')


def test_kept_mesh_points_equal_separate_runs_and_a_varied_mesh_is_read(tmp_path):
    """One worker solves four points of a mesh file, two at each ``mesh.scale``
    (run from both ends inwards: points 0, 3 at scale 1, then 1, 2 at scale
    2): the second point of each scale uses the worker's kept mesh, the first
    at scale 2 reads the mesh anew (a stale mesh would give it the coordinates
    of scale 1); every point equals ``femflux run --set`` of its values, bit
    for bit."""
    write_layered_mesh(tmp_path / "layer.msh", [("water", 1e-6, 40)], dim=2, across=3)
    write(tmp_path, "layer.toml", LAYER)
    scales, potentials = [1.0, 2.0, 2.0, 1.0], [0.0, 0.0, 0.025, 0.025]
    code, out, err = femflux_cli("sweep", "layer.toml", "--vary", f"mesh.scale={scales}",
                                 "--vary", f"boundary.right.potential={potentials}", "--zip",
                                 "--workers", "1", "--out", "sweep", "--quiet", cwd=tmp_path)
    assert code == 0, err
    folder = tmp_path / "sweep"
    assert [r["mesh"] for r in records(folder)] == ["read", "read", "kept", "kept"]
    assert len({r["pid"] for r in records(folder)}) == 1
    for i, (scale, potential) in enumerate(zip(scales, potentials, strict=True)):
        assert main(["run", str(tmp_path / "layer.toml"), "--set", f"mesh.scale={scale!r}",
                     "--set", f"boundary.right.potential={potential!r}",
                     "--out", str(tmp_path / f"run{i}"), "--quiet"]) == 0
        assert_same_results(folder / "points" / f"{i:04d}", tmp_path / f"run{i}")
    # the meshes differ as they should: a 1 um and a 2 um layer
    lengths = [meshio.read(folder / "points" / f"{i:04d}" / "solution.vtu").points[:, 0].max()
               for i in range(4)]
    assert lengths == pytest.approx([1e-6, 2e-6, 2e-6, 1e-6], rel=1e-12)


def test_a_kept_mesh_is_a_fresh_copy_and_a_rewritten_file_is_read_again(tmp_path):
    """What a point does to its mesh does not reach the next point; a mesh file
    rewritten between points (same path) is read again, not taken from the kept one."""
    from femflux.study import meshes

    path = write_layered_mesh(tmp_path / "layer.msh", [("water", 1e-6, 10)], dim=2)
    spec = femflux.load_case(write(tmp_path, "layer.toml", LAYER)).mesh
    meshes.forget()
    first, kept = meshes.point_mesh(spec)
    assert not kept
    points = first.mesh.p.copy()
    first.mesh.p[:] = 0.0  # a point that spoils its mesh
    first.boundaries["left"][:] = 0
    second, kept = meshes.point_mesh(spec)
    assert kept and second is not first
    np.testing.assert_array_equal(second.mesh.p, points)
    np.testing.assert_array_equal(second.boundaries["left"],
                                  femflux.mesh.load_mesh(spec).boundaries["left"])
    write_layered_mesh(path, [("water", 2e-6, 12)], dim=2)  # another mesh, same file
    third, kept = meshes.point_mesh(spec)
    assert not kept
    assert third.mesh.p[0].max() == pytest.approx(2e-6, rel=1e-12)
    assert third.mesh.nelements == femflux.mesh.load_mesh(spec).mesh.nelements != \
        second.mesh.nelements
    meshes.forget()
