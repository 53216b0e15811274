"""Issue #15: no data loss, bad input found early, one-line errors.

- ``Result.save`` and ``femflux run --out`` write only into a new folder or
  replace a femflux results folder that holds nothing else; the swap of the
  old folder for the new one is atomic, SIGINT/SIGTERM clean up (exit 130 /
  143) and the next run removes what a killed run left;
- case.toml is UTF-8 TOML that runs again (emoji in the title);
- unwritable or too-long results folders, too deep TOML and a tiny dt are
  exit 2 before solving; a full disk or a file-size limit is exit 3 with the
  previous results intact; ``plot --window`` / ``--warp`` are checked;
- the Python API raises only CaseError / SolverError for bad input;
- error lines are one line, without library warnings, with long values cut.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import resource
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import BLOWUP_CASE, error_line, femflux_cli
from conftest import STEADY_SLAB as STEADY

import femflux
from femflux.results import writers

TIMEOUT = 120


# A transient run whose results folder has many files: saving it takes a while.
MANY_STEPS = """\
title = "many steps"
[mesh]
generate = { shape = "interval", length = [1.0], cells = [20] }
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
dt = 0.002
adaptive = false
"""


def case_dict(**extra) -> dict:
    data = {"mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
            "model": {"kind": "diffusion"},
            "species": [{"name": "A", "diffusivity": 1e-9}],
            "boundary": [{"name": "xmin", "concentration": {"A": 1.0}},
                         {"name": "xmax", "concentration": {"A": 0.0}}]}
    data.update(extra)
    return data


@pytest.fixture(scope="module")
def steady_result():
    return femflux.solve(case_dict())


@pytest.fixture(scope="module")
def transient_result():
    solver = {"steady": False, "t_end": 0.1, "dt": 0.02, "adaptive": False}
    return femflux.solve(case_dict(solver=solver))






def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (relative paths, hidden ones included)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def complete_time(folder: Path) -> float:
    """The final time of a complete results folder (every file it names is there)."""
    names = {p.name for p in folder.iterdir()}
    summary = json.loads((folder / "summary.json").read_text())
    tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    assert "solution.vtu" in names
    if not summary["steady"]:
        pvd = (folder / "series.pvd").read_text()
        steps = {n for n in names if n.startswith("step_")}
        listed = {part.split('"')[0] for part in pvd.split('file="')[1:]}
        assert listed == steps
        assert "history.csv" in names
        assert len(summary["history"]) == len((folder / "history.csv").read_text().splitlines()) - 1
    return summary["time"]


# -- 1. Result.save writes only where it may --------------------------------------------


def test_save_refuses_an_existing_file(tmp_path, steady_result):
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    with pytest.raises(femflux.CaseError, match="notes.txt"):
        steady_result.save(path)
    assert path.read_text() == "mine\n"
    assert debris(tmp_path) == []


@pytest.mark.parametrize("where", [".", "..", ""])
def test_save_refuses_the_working_directory_and_its_parents(tmp_path, monkeypatch, where,
                                                            steady_result):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine\n")
    (tmp_path / "other.txt").write_text("also mine\n")
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    with pytest.raises(femflux.CaseError):
        steady_result.save(where)
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt", "work"]


def test_save_refuses_a_folder_of_the_users(tmp_path, steady_result):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "data.csv").write_text("1,2\n")
    (folder / "solution.vtu").write_text("not femflux's\n")
    before = snapshot(tmp_path)
    with pytest.raises(femflux.CaseError, match="mine.*not a femflux results folder"):
        steady_result.save(folder)
    (folder / "summary.json").write_text('{"author": "me"}\n')  # a summary, but not femflux's
    before = snapshot(tmp_path)
    with pytest.raises(femflux.CaseError, match="mine"):
        steady_result.save(folder)
    assert snapshot(tmp_path) == before
    assert debris(tmp_path) == []


@pytest.mark.parametrize("extra", ["notes.txt", ".hidden", "sub/"])
def test_save_refuses_a_results_folder_holding_other_files(tmp_path, steady_result, extra):
    folder = steady_result.save(tmp_path / "res")
    if extra.endswith("/"):
        (folder / extra).mkdir()
        (folder / extra / "x.txt").write_text("mine\n")
    else:
        (folder / extra).write_text("mine\n")
    before = snapshot(tmp_path)
    with pytest.raises(femflux.CaseError, match=f"res.*{extra.rstrip('/')}"):
        steady_result.save(folder)
    assert snapshot(tmp_path) == before
    assert debris(tmp_path) == []


def test_save_replaces_a_results_folder_with_femflux_pictures(tmp_path, steady_result,
                                                              transient_result):
    folder = transient_result.save(tmp_path / "res")
    for name in ("A.png", "mu_A.png", "J_A.png", "J_A_x.png", "plot.png", "history.png",
                 "u_x.png", "sigma_xy.png", "von_mises.png", "step_00042.vtu"):
        (folder / name).write_bytes(b"\x89PNG old")
    assert steady_result.save(folder) == folder.resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["case.toml", "solution.vtu",
                                                        "summary.json"]
    assert json.loads((folder / "summary.json").read_text())["steady"] is True
    assert debris(tmp_path) == []


def test_femflux_files_are_recognised():
    ours = ["solution.vtu", "series.pvd", "step_00000.vtu", "step_123456.vtu", "summary.json",
            "case.toml", "history.csv", "plot.png", "history.png", "phi.png", "K.png",
            "mu_K.png", "J_K.png", "J_K_z.png", "sigma_h.png", "sigma_zz.png", "region.png"]
    theirs = ["notes.txt", "K.jpg", "Na.png", "J_Na.png", "step_1.vtu", "solution.vtu.bak",
              "summary.json~", "sigma_xw.png", ".summary.json", "results.png"]
    for name in ours:
        assert writers.is_femflux_file(name, {"K"}), name
    for name in theirs:
        assert not writers.is_femflux_file(name, {"K"}), name


def test_save_into_new_and_empty_folders(tmp_path, steady_result):
    assert steady_result.save(tmp_path / "a" / "b" / "res") == (tmp_path / "a/b/res").resolve()
    (tmp_path / "empty").mkdir()
    steady_result.save(tmp_path / "empty")
    assert complete_time(tmp_path / "empty") == 0.0
    assert debris(tmp_path) == [] and debris(tmp_path / "a" / "b") == []


@pytest.mark.parametrize("bad", ["/proc/femflux/res", "x" * 300, "a\0b", 42, b"bytes"])
def test_save_refuses_paths_it_cannot_write(tmp_path, monkeypatch, steady_result, bad):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(femflux.CaseError):
        steady_result.save(bad)
    assert list(tmp_path.iterdir()) == []


def test_cli_out_refuses_a_results_folder_with_user_files(tmp_path):
    (tmp_path / "slab.toml").write_text(STEADY)
    code, _, err = femflux_cli("run", "slab.toml", "--quiet", "--out", "res", cwd=tmp_path)
    assert code == 0, err
    (tmp_path / "res" / "notes.txt").write_text("my notes\n")
    before = snapshot(tmp_path)
    code, out, err = femflux_cli("run", "slab.toml", "--out", "res", cwd=tmp_path)
    assert code == 2, err
    assert "notes.txt" in error_line(err) and "res" in error_line(err)
    assert out == ""  # refused before solving
    assert snapshot(tmp_path) == before
    assert debris(tmp_path) == []


# -- 1b. the swap, signals, debris -------------------------------------------------------


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "fa").write_text("a")
    (b / "fb").write_text("b")
    if not writers._exchange(a, b):
        pytest.skip("no atomic exchange on this system or file system")
    assert [p.name for p in a.iterdir()] == ["fb"] and [p.name for p in b.iterdir()] == ["fa"]


def test_swap_without_exchange_keeps_the_old_folder_on_failure(tmp_path, monkeypatch,
                                                               steady_result,
                                                               transient_result):
    monkeypatch.setattr(writers, "_EXCHANGE", None)
    folder = transient_result.save(tmp_path / "res")
    steady_result.save(folder)  # the fallback path works
    assert complete_time(folder) == 0.0
    assert debris(tmp_path) == []
    before = snapshot(tmp_path)

    rename = os.rename

    def failing(src, dst):
        if Path(src).name.startswith(".res.partial-"):
            raise OSError(errno.EIO, "Input/output error")
        return rename(src, dst)

    monkeypatch.setattr(writers.os, "rename", failing)
    with pytest.raises(femflux.SolverError, match="res"):
        transient_result.save(folder)
    assert snapshot(tmp_path) == before  # the old results, where they were
    assert debris(tmp_path) == []


def test_next_save_removes_debris_of_killed_runs_and_restores_old_results(
        tmp_path, monkeypatch, steady_result, transient_result):
    old = tmp_path / ".res.old-abcd1234"
    transient_result.save(old / "x")  # a kill between the two renames of the fallback
    partial = tmp_path / ".res.partial-k1ll3d_x"
    partial.mkdir()
    (partial / "step_00000.vtu").write_text("half")
    keep = [tmp_path / ".other.partial-abcd1234", tmp_path / ".res.partial-notours",
            tmp_path / "res.partial-abcd1234"]
    for path in keep:
        path.mkdir()
    (tmp_path / ".res.old-file0000").write_text("a file, not a folder of ours")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:  # the next save fails, but first cleans up
        m.setattr(writers, "write_vtu", no_space)
        with pytest.raises(femflux.WriteError, match="no space left"):
            steady_result.save(tmp_path / "res")
    assert complete_time(tmp_path / "res") == pytest.approx(0.1)  # the old results are back
    assert debris(tmp_path) == sorted([".other.partial-abcd1234", ".res.old-file0000",
                                       ".res.partial-notours", "res.partial-abcd1234"])
    steady_result.save(tmp_path / "res")
    assert complete_time(tmp_path / "res") == 0.0


def test_debris_locked_by_a_running_save_is_left(tmp_path, steady_result):
    running = tmp_path / ".res.partial-running1"
    running.mkdir()
    fd = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        steady_result.save(tmp_path / "res")
        assert running.is_dir()
    finally:
        os.close(fd)
    steady_result.save(tmp_path / "res")
    assert not running.exists()


def _start(tmp_path: Path, out: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "femflux.cli", "run", "many.toml", "--quiet",
                             "--out", out], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_staging(tmp_path: Path, proc: subprocess.Popen, late: bool) -> Path:
    """The staging folder of a running save, once it exists (``late``: once the
    series is written, the swap is near)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        staging = [p for p in tmp_path.iterdir() if p.name.startswith(".res.partial-")]
        # solution.vtu: the save (not the check before the solve) has begun
        if staging and (staging[0] / ("series.pvd" if late else "solution.vtu")).exists():
            return staging[0]
        time.sleep(0.0005)
    raise AssertionError("no staging folder appeared")


@pytest.mark.parametrize("signum, late", [(signal.SIGINT, False), (signal.SIGTERM, False),
                                          (signal.SIGINT, True), (signal.SIGTERM, True),
                                          (signal.SIGKILL, False)])
def test_a_signal_during_save_leaves_old_or_new_results(tmp_path, signum, late):
    (tmp_path / "many.toml").write_text(MANY_STEPS)
    code, _, err = femflux_cli("run", "many.toml", "--quiet", "--out", "res",
                               "--set", "solver.t_end=0.01", cwd=tmp_path)
    assert code == 0, err
    assert complete_time(tmp_path / "res") == pytest.approx(0.01)

    proc = _start(tmp_path, "res")
    try:
        _wait_for_staging(tmp_path, proc, late)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + signum, err
        assert err.strip() in ("femflux: interrupted", "femflux: terminated"), err
        assert debris(tmp_path) == []
    t = complete_time(tmp_path / "res")  # the old results, or the new, complete
    assert t == pytest.approx(0.01) or t == pytest.approx(1.0)
    if not late:
        assert t == pytest.approx(0.01)

    code, _, err = femflux_cli("run", "many.toml", "--quiet", "--out", "res",
                               "--set", "solver.t_end=0.02", cwd=tmp_path)
    assert code == 0, err
    assert complete_time(tmp_path / "res") == pytest.approx(0.02)
    assert debris(tmp_path) == []


def test_keyboard_interrupt_during_result_save_cleans_up(tmp_path):
    """Python API: Ctrl-C in Result.save leaves the old results and no staging folder."""
    (tmp_path / "many.toml").write_text(MANY_STEPS)
    script = ("import sys, femflux\n"
              "t_end = {'solver.t_end': float(sys.argv[1])}\n"
              "case = femflux.load_case('many.toml', overrides=t_end)\n"
              "femflux.solve(case).save('res')\n")
    (tmp_path / "save.py").write_text(script)
    subprocess.run([sys.executable, "save.py", "0.01"], cwd=tmp_path, check=True,
                   timeout=TIMEOUT)
    before = snapshot(tmp_path / "res")
    proc = subprocess.Popen([sys.executable, "save.py", "1.0"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_staging(tmp_path, proc, late=False)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert "KeyboardInterrupt" in err
    assert snapshot(tmp_path / "res") == before
    assert debris(tmp_path) == []


# -- 1c. case.toml in UTF-8 --------------------------------------------------------------


TITLE = 'drops 💧, sparks ⚡ and 𝛼: "quoted", back\\slash, tab\t, DEL\x7f, é'


def test_case_toml_with_emoji_runs_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = femflux.load_case(case_dict(title=TITLE))
    folder = femflux.solve(case).save(tmp_path / "res")
    text = (folder / "case.toml").read_bytes().decode("utf-8")
    assert "💧" in text and "\\ud83d" not in text.lower()
    again = femflux.load_case(folder / "case.toml")
    assert again.title == TITLE
    assert again.raw == case.raw

    text = f'title = "⚡ {chr(0x1F4A7)}"\n' + STEADY.split("\n", 1)[1]
    (tmp_path / "emoji.toml").write_text(text, encoding="utf-8")
    code, _, err = femflux_cli("run", "emoji.toml", "--quiet", "--out", "first", cwd=tmp_path)
    assert code == 0, err
    code, _, err = femflux_cli("run", "first/case.toml", "--quiet", "--out", "second",
                               cwd=tmp_path)
    assert code == 0, err
    assert femflux.load_case(tmp_path / "second" / "case.toml").title == "⚡ 💧"


# -- 2. errors found before solving, and while writing ----------------------------------


@pytest.mark.parametrize("out, fragment", [("/proc/femflux/res", "/proc/femflux/res"),
                                           ("y" * 300, "too long"),
                                           ("deep/" + "z" * 260 + "/res", "too long")])
def test_unwritable_out_is_bad_input_before_solving(tmp_path, out, fragment):
    (tmp_path / "slab.toml").write_text(STEADY)
    code, stdout, err = femflux_cli("run", "slab.toml", "--out", out, cwd=tmp_path)
    assert code == 2, err
    assert fragment in error_line(err)
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slab.toml"]


# dA/dt = A^2 from A = 1 blows up at t = 1 s: a run to 2 s fails (exit 3)
BLOWUP = BLOWUP_CASE + """\
[solver]
steady = false
t_end = 2.0
dt = 0.1
adaptive = false
[output]
dir = "/proc/femflux/out"
"""


def test_unwritable_output_dir_is_bad_input_before_solving(tmp_path):
    # the solve of this case would fail (exit 3): exit 2 shows the check came first
    (tmp_path / "case.toml").write_text(BLOWUP)
    code, _, err = femflux_cli("run", "case.toml", cwd=tmp_path)
    assert code == 2, err
    assert "/proc/femflux/out" in error_line(err)


def test_too_deep_toml_is_bad_input(tmp_path):
    (tmp_path / "deep.toml").write_text("title = " + "[" * 20000 + "]" * 20000 + "\n")
    for command in ("run", "check"):
        code, _, err = femflux_cli(command, "deep.toml", cwd=tmp_path)
        assert code == 2, err
        assert "deep.toml" in error_line(err) and "nested too deeply" in err
    with pytest.raises(femflux.CaseError, match="nested too deeply"):
        femflux.load_case(tmp_path / "deep.toml")


def test_tiny_dt_is_bad_input(tmp_path):
    (tmp_path / "many.toml").write_text(MANY_STEPS)
    code, _, err = femflux_cli("run", "many.toml", "--set", "solver.dt=1e-20", cwd=tmp_path)
    assert code == 2, err
    assert "[solver] dt" in error_line(err)
    assert femflux.load_case(case_dict(solver={"dt": 1e-20})).solver.steady  # steady: no dt


def _file_size_limit(limit: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return set_limit


def test_file_size_limit_is_exit_3_and_keeps_old_results(tmp_path):
    (tmp_path / "many.toml").write_text(MANY_STEPS)
    args = ("run", "many.toml", "--quiet", "--out", "res", "--set", "solver.t_end=0.2")
    code, _, err = femflux_cli(*args, "--set", "species.A.diffusivity=0.2", cwd=tmp_path)
    assert code == 0, err
    before = snapshot(tmp_path)
    # 100 steps: every vtu (3 kB) and history.csv fit, summary.json (50 kB) does not
    code, _, err = femflux_cli(*args, cwd=tmp_path, preexec_fn=_file_size_limit(20_000))
    assert code == 3, err
    assert "file too large" in error_line(err) and "res" in err
    assert snapshot(tmp_path) == before
    assert debris(tmp_path) == []


def test_no_space_left_is_a_write_error_and_keeps_old_results(tmp_path, monkeypatch, capsys,
                                                              steady_result, transient_result):
    from femflux import cli

    folder = transient_result.save(tmp_path / "res")
    before = snapshot(tmp_path)
    write_csv = writers.write_csv

    def full(path, history):
        write_csv(path, history)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(writers, "write_csv", full)
    with pytest.raises(femflux.WriteError, match="no space left") as info:
        transient_result.save(folder)
    assert isinstance(info.value, femflux.SolverError)
    assert snapshot(tmp_path) == before
    assert debris(tmp_path) == []

    (tmp_path / "many.toml").write_text(MANY_STEPS)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "many.toml", "--quiet", "--out", "res",
                     "--set", "solver.t_end=0.01"]) == 3
    assert "no space left" in error_line(capsys.readouterr().err)
    assert snapshot(tmp_path) == before | {"many.toml": MANY_STEPS.encode()}
    assert debris(tmp_path) == []


@pytest.mark.parametrize("option", [["--window", "9000x100"], ["--window", "100x100000"],
                                    ["--window", "0x100"], ["--window", "-5x100"],
                                    ["--warp", "abc"], ["--warp", "nan"], ["--warp", "inf"]])
def test_plot_options_out_of_range_are_bad_input(tmp_path, steady_result, option):
    steady_result.save(tmp_path / "res")
    code, _, err = femflux_cli("plot", "res", *option, cwd=tmp_path)
    assert code == 2, err
    assert option[0] in error_line(err)
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["case.toml", "solution.vtu",
                                                                   "summary.json"]


# -- 3. the Python API raises femflux exceptions ----------------------------------------


def _self_referencing():
    data = case_dict()
    data["species"][0]["more"] = data
    return data


def _deep():
    value = 1.0
    for _ in range(5000):
        value = {"a": value}
    return case_dict(title=value)


@pytest.mark.parametrize("source, overrides", [
    (case_dict(species=[{"name": "A", "diffusivity": 10**400}]), None),
    (case_dict(), {"solver.t_end": 10**400}),
    (case_dict(), ["solver.t_end=1" + "0" * 400]),
    (case_dict(mesh={"generate": {"shape": "interval", "length": [10**400], "cells": [4]}}),
     None),
    (case_dict(mesh={"generate": {"shape": "interval", "length": [1.0], "cells": [10**30]}}),
     None),
    (_self_referencing(), None),
    (_deep(), None),
    (case_dict(), 123),
    (case_dict(), b"solver.t_end=2"),
    (case_dict(), {"solver.t_end": object()}),
    (case_dict(), {"solver.t_end": {1, 2}}),
    (case_dict(), [("solver.t_end", 2.0)]),
    (case_dict(title="lone \ud800 surrogate"), None),
    (case_dict(), ["title=\udcff"]),
    ("case\0.toml", None),
    (case_dict(mesh={"file": "mesh\0.msh"}), None),
    (42, None),
])
def test_api_bad_input_raises_case_error(tmp_path, monkeypatch, source, overrides):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(femflux.CaseError):
        femflux.load_case(source, overrides=overrides)
    if overrides is None:
        with pytest.raises(femflux.CaseError):
            femflux.solve(source)


def test_overrides_self_referencing_value():
    value = {}
    value["x"] = value
    with pytest.raises(femflux.CaseError, match="nested too deeply"):
        femflux.load_case(case_dict(), overrides={"solver": value})


# -- 4. error lines -----------------------------------------------------------------------


def test_a_huge_expression_is_not_echoed_whole(tmp_path):
    huge = "1+" * 500_000 + "x"
    with pytest.raises(femflux.CaseError) as info:
        femflux.load_case(case_dict(boundary=[{"name": "xmin", "concentration": {"A": huge}}]))
    message = str(info.value)
    assert len(message) < 1000 and "…" in message and "concentration.A" in message
    text = STEADY.replace("concentration = { A = 1.0 }", f'concentration = {{ A = "{huge}" }}')
    (tmp_path / "huge.toml").write_text(text)
    code, _, err = femflux_cli("run", "huge.toml", cwd=tmp_path)
    assert code == 2
    line = error_line(err)
    assert len(line) < 1100 and "concentration.A" in line and "longer than" in line


def test_long_messages_are_capped():
    error = femflux.CaseError("key 'k': " + "v" * 100_000 + " is wrong")
    assert len(str(error)) <= 1100
    assert str(error).startswith("key 'k': vvv") and str(error).endswith(" is wrong")


@pytest.mark.parametrize("content", ["garbage\n", '<?xml version="1.0"?><VTKFile '
                                     'type="UnstructuredGrid"><UnstructuredGrid><Piece '
                                     'NumberOfPoints="3" NumberOfCells="1"></Piece>'
                                     '</UnstructuredGrid></VTKFile>'])
def test_broken_vtu_is_one_line_without_vtk_messages(tmp_path, content):
    (tmp_path / "bad.vtu").write_text(content)
    code, _, err = femflux_cli("plot", "bad.vtu", cwd=tmp_path)
    assert code == 2
    assert "bad.vtu" in error_line(err)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_command_starts_is_130_or_143(tmp_path, signum):
    """The ``femflux`` command, signalled while it still imports numpy and the
    rest (before its own handlers): 128 + signum and one line, never killed."""
    command = Path(sys.executable).with_name("femflux")
    if not command.exists():
        pytest.skip("no femflux command beside this Python")
    (tmp_path / "many.toml").write_text(MANY_STEPS)
    proc = subprocess.Popen([str(command), "run", "many.toml", "--quiet", "--out", "res"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(0.25)  # the interpreter is up; femflux's imports take ~1 s
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 128 + signum, err
    assert err.strip() in ("femflux: interrupted", "femflux: terminated"), err
    assert not (tmp_path / "res").exists() and debris(tmp_path) == []
