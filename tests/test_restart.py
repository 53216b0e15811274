"""Checkpoint and restart of transient runs (README, Results: checkpoints).

A run killed with SIGKILL midway and continued with ``--restart DIR`` gives
the results of an uninterrupted run (fields and history to 1e-10; measured:
bit for bit); a finished run restarted with a later t_end equals one run
through (with the first end time as an output time); SIGINT, SIGTERM and
SIGKILL at random moments of a run and of its save leave the old complete
results or the new complete ones, and no debris after the next run; a
checkpoint of another case is an exit-2 error naming what differs.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import meshio
import numpy as np
import pytest
from conftest import error_line, femflux_cli

import femflux
from femflux.results import checkpoint as checkpoints

TIMEOUT = 120

#: release from a slab (c = 0 at both faces), adaptive BDF2, a checkpoint every 10 ms
SLAB = """\
[mesh]
generate = { shape = "interval", length = [1.0e-3], cells = [60] }
[model]
kind = "diffusion"
[[species]]
name = "A"
diffusivity = 1e-9
initial = 1.0
[[boundary]]
name = "xmin"
concentration = { A = 0.0 }
[[boundary]]
name = "xmax"
concentration = { A = 0.0 }
[solver]
steady = false
t_end = 100.0
dt = 0.01
time_rtol = 1e-5
[output]
every = 7
probes = { mid = [5e-4] }
checkpoint_every = 0.01
"""


def _start(folder: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "femflux.cli", "run", "slab.toml", "--quiet",
                             *args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def _same_results(folder: Path, reference: Path) -> None:
    """Fields, history and series of two results folders agree to 1e-10."""
    a, b = _summary(folder), _summary(reference)
    for key in ("time", "steps", "newton_iterations", "rejected_steps", "converged"):
        assert a[key] == b[key], key
    assert len(a["history"]) == len(b["history"])
    for row, ref in zip(a["history"], b["history"], strict=True):
        assert row.keys() == ref.keys()
        np.testing.assert_allclose(_numbers(row), _numbers(ref), rtol=1e-10, atol=0)
    for name in ("solution.vtu", *sorted(p.name for p in reference.glob("step_*.vtu"))):
        got, want = meshio.read(folder / name), meshio.read(reference / name)
        np.testing.assert_allclose(got.point_data["A"], want.point_data["A"], rtol=1e-10,
                                   atol=1e-10 * np.abs(want.point_data["A"]).max())
    assert (folder / "series.pvd").read_text() == (reference / "series.pvd").read_text()
    assert sorted(p.name for p in folder.glob("step_*")) == \
        sorted(p.name for p in reference.glob("step_*"))


def _numbers(entry) -> list[float]:
    if isinstance(entry, dict):
        return [v for key in sorted(entry) for v in _numbers(entry[key])]
    return [np.nan if entry is None else float(entry)]


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".res."))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run (and the folder the tests work in)."""
    folder = tmp_path_factory.mktemp("restart")
    (folder / "slab.toml").write_text(SLAB)
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--out", "ref", cwd=folder)
    assert code == 0, err
    assert _summary(folder / "ref")["steps"] > 100
    assert (folder / "ref" / "restart.npz").is_file()
    assert not checkpoints.folder_for(folder / "ref").exists()  # removed when done
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--out", "old", "--set",
                               "solver.t_end=2.0", cwd=folder)
    assert code == 0, err
    return folder


def _wait_for_checkpoint(folder: Path, proc: subprocess.Popen, after: float,
                         may_finish: bool = False) -> float | None:
    """Wait until the run's checkpoint is past t = ``after``; return its time
    (None: the run finished first, allowed with ``may_finish``: the whole run
    takes a fraction of a second, and a busy machine may not poll in time)."""
    path = checkpoints.folder_for(folder / "res") / checkpoints.FILE
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if may_finish and proc.poll() is not None:
            return None
        assert proc.poll() is None, proc.communicate()
        if path.is_file():
            try:
                t = checkpoints.decode(path)["t"]
            except femflux.CaseError:
                t = -1.0  # replaced while being read
            if t > after:
                return t
        time.sleep(0.002)
    raise AssertionError("no checkpoint appeared")


def test_sigkill_midway_then_restart_equals_the_uninterrupted_run(reference):
    folder = reference
    proc = _start(folder, "--out", "res")
    try:
        t_killed = _wait_for_checkpoint(folder, proc, after=5.0)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert 5.0 < t_killed < 100.0
    assert not (folder / "res").exists()  # nothing was saved: the run was midway
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--restart", "res", cwd=folder)
    assert code == 0, err
    _same_results(folder / "res", folder / "ref")
    assert _debris(folder) == []


def test_a_finished_run_restarted_with_a_later_t_end_continues(tmp_path):
    (tmp_path / "slab.toml").write_text(SLAB)
    assert femflux_cli("run", "slab.toml", "--quiet", "--out", "res", "--set",
                       "solver.t_end=40.0", cwd=tmp_path)[0] == 0
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--restart", "res", "--set",
                               "solver.t_end=100.0", cwd=tmp_path)
    assert code == 0, err
    # one run through 100 s that stops at 40 s on the way (as the first run did)
    assert femflux_cli("run", "slab.toml", "--quiet", "--out", "through", "--set",
                       "output.times=[40.0]", cwd=tmp_path)[0] == 0
    _same_results(tmp_path / "res", tmp_path / "through")
    assert _summary(tmp_path / "res")["time"] == 100.0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("phase", ["run", "save"])
def test_a_signal_leaves_old_or_new_results_and_restart_completes(reference, tmp_path,
                                                                   signum, phase):
    (tmp_path / "slab.toml").write_text(SLAB)
    shutil.copytree(reference / "old", tmp_path / "res")  # a run to t = 2 s
    rng = random.Random(f"{signum}-{phase}")
    proc = _start(tmp_path, "--out", "res")
    try:
        if phase == "run":
            _wait_for_checkpoint(tmp_path, proc, after=rng.uniform(3.0, 60.0), may_finish=True)
        else:
            _wait_for_staging(tmp_path, proc)
            time.sleep(rng.uniform(0.0, 0.02))
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    if proc.returncode != 0:  # else the signal came after the run had finished
        expected = -signum if signum == signal.SIGKILL else 128 + signum
        assert proc.returncode == expected, err
    t = _summary(tmp_path / "res")["time"]  # the old results, or the new, complete
    assert t in (2.0, 100.0)
    assert (tmp_path / "res" / "restart.npz").is_file()
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--restart", "res", cwd=tmp_path)
    assert code == 0, err
    _same_results(tmp_path / "res", reference / "ref")
    assert _debris(tmp_path) == []


def _wait_for_staging(folder: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        staging = [p for p in folder.iterdir() if p.name.startswith(".res.partial-")]
        if staging and (staging[0] / "solution.vtu").exists():
            return
        time.sleep(0.0005)
    raise AssertionError("no staging folder appeared")


@pytest.mark.parametrize("change, culprit", [
    (("cells = [60]", "cells = [50]"), "mesh"),
    (("[solver]", '[[species]]\nname = "B"\ndiffusivity = 1e-9\n[solver]'), "species"),
])
def test_a_checkpoint_of_another_case_is_bad_input(reference, change, culprit):
    (reference / "other.toml").write_text(SLAB.replace(*change))
    before = {p.name: p.stat().st_mtime_ns for p in (reference / "ref").iterdir()}
    code, _, err = femflux_cli("run", "other.toml", "--restart", "ref", "--set",
                               "solver.t_end=200.0", cwd=reference)
    assert code == 2
    line = error_line(err)
    assert "another case" in line and f"its {culprit}" in line, line
    assert {p.name: p.stat().st_mtime_ns for p in (reference / "ref").iterdir()} == before


def test_restart_without_a_checkpoint_or_past_t_end_is_bad_input(reference):
    code, _, err = femflux_cli("run", "slab.toml", "--restart", "nowhere", cwd=reference)
    assert code == 2 and "no checkpoint" in error_line(err)
    assert not (reference / "nowhere").exists()
    code, _, err = femflux_cli("run", "slab.toml", "--restart", "ref", "--set",
                               "solver.t_end=50.0", cwd=reference)
    assert code == 2 and "after [solver] t_end" in error_line(err)
    code, _, err = femflux_cli("run", "slab.toml", "--restart", "ref", "--out", "other",
                               cwd=reference)
    assert code == 2 and "--restart" in error_line(err)


def test_checkpoint_every_is_read_and_checked():
    case = {"model": {"kind": "diffusion"},
            "mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [2]}},
            "species": [{"name": "A", "diffusivity": 1e-9}],
            "solver": {"steady": False, "t_end": 1.0, "dt": 0.5}}
    assert femflux.load_case(case).output.checkpoint_every == 300.0
    with pytest.raises(femflux.CaseError, match="checkpoint_every"):
        femflux.load_case(case | {"output": {"checkpoint_every": -1.0}})
    steady = case | {"solver": {"steady": True}, "output": {"checkpoint_every": 10.0}}
    assert any("checkpoint_every" in w for w in femflux.load_case(steady).warnings)
    # 0 disables checkpoints: no restart.npz
    result = femflux.solve(femflux.load_case(case | {"output": {"checkpoint_every": 0.0}}))
    assert result.restart is None
