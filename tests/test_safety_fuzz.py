"""Issue #15: fuzzing ``femflux run`` with mutated real cases (hypothesis).

Each example takes one of a few small real cases, changes one to three of its
keys, values or types (a value from a pool of troublemakers or drawn at
random, a key deleted or renamed, a table replaced by a scalar, a list
wrapped or emptied), writes it as TOML and runs it through the command line's
Python entry.  Whatever the input: the exit code is 0, 2 or 3; stderr is
empty (0) or one ``femflux: error:`` line of at most ~1000 characters
(2, 3), with no traceback and no library warning; exit 2 leaves no results
folder and exit 3 a complete one that says ``"converged": false``.  The
examples are derandomized (the same every run) and bounded in number.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import signal
import tomllib
from pathlib import Path

import pytest
from conftest import BLOWUP_CASE, SPEC_EXAMPLE, STEADY_SLAB

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from femflux import cli  # noqa: E402
from femflux.results.case_toml import dump_toml  # noqa: E402

SEEDS = {
    "slab": tomllib.loads(STEADY_SLAB),
    "blowup": tomllib.loads(BLOWUP_CASE + "[solver]\nsteady = false\nt_end = 2.0\n"
                                          "dt = 0.25\nadaptive = false\nmax_newton = 10\n"),
    "kcl": tomllib.loads(SPEC_EXAMPLE.replace("cells = [400]", "cells = [40]")),
    "trap": {
        "mesh": {"generate": {"shape": "interval", "length": [1e-3], "cells": [10]}},
        "model": {"kind": "diffusion", "temperature": 300.0},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 0.0}],
        "trap": [{"species": "H", "density": 1.0, "trapping": 1.0,
                  "detrapping": {"pre": 10.0, "energy": 1000.0}}],
        "boundary": [{"name": "xmin", "concentration": {"H": 1.0}},
                     {"name": "xmax", "inward_flux": {"H": "1e-6*x*t"}}],
        "solver": {"steady": False, "t_end": 1.0, "dt": 0.25},
        "output": {"probes": {"mid": [5e-4]}},
    },
    "stress": {
        "mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [6]}},
        "model": {"kind": "stress-diffusion"},
        "species": [{"name": "H", "diffusivity": 1e-9, "initial": 1.0,
                     "partial_molar_volume": 2e-6}],
        "elasticity": {"youngs_modulus": 2e11, "poisson_ratio": 0.3},
        "boundary": [{"name": "xmin", "displacement": [0.0]},
                     {"name": "xmax", "traction": [1e8]}],
    },
    "junction": {
        "mesh": {"generate": {"shape": "interval", "length": [1e-4], "cells": [20]}},
        "model": {"kind": "nernst-planck-poisson"},
        "species": [{"name": "K", "charge": 1, "diffusivity": 1.96e-9, "initial": 10.0},
                    {"name": "Cl", "charge": -1, "diffusivity": 2.03e-9, "initial": 10.0}],
        "electrostatics": {"electroneutral": True},
        "boundary": [{"name": "xmin", "concentration": {"K": 10.0, "Cl": 10.0},
                      "potential": 0.0},
                     {"name": "xmax", "concentration": {"K": 1.0, "Cl": 1.0}}],
    },
}

POOL = [0, 1, -1, 2, 0.5, -1e-9, 1e300, -1e300, 1e-300, float("inf"), float("-inf"),
        float("nan"), 10**30, True, False, "", "x", "t", "1/x", "log(x - 1)", "exp(1e4*t)",
        "max(x, t, 1)", "nan", "A", "K", "xmin", "domain", "interval", "direct",
        "q" * 5000, [], [0.0], [1.0, 2.0], ["x"], {}, {"A": 1.0}, {"pre": 1.0, "energy": -1e9}]

FACTORS = [2, 0.5, 10, 0.1, 1e3, 1e-3, 0, -1, 1e12, 1e-12, 1e100]

values = st.one_of(
    st.sampled_from(POOL),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**4, 10**4),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)


def places(data, path=()):
    """Every (container, key, path) of a case dict, inner tables and lists too."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        yield data, key, path + (key,)
        if isinstance(value, dict | list):
            yield from places(value, path + (key,))


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@st.composite
def mutated_cases(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = copy.deepcopy(SEEDS[name])
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["scale", "scale", "scale", "value", "value", "delete",
                                       "rename", "wrap"]))
        spots = list(places(data))
        if action == "scale":  # a number made larger, smaller, zero or negative
            spots = [spot for spot in spots if _number(spot[0][spot[1]])]
        if not spots:
            break
        container, key, path = spots[draw(st.integers(0, len(spots) - 1))]
        note(f"{name}: {action} {'.'.join(map(str, path))}")
        if action == "delete":
            del container[key]
        elif action == "rename" and isinstance(container, dict):
            new = draw(st.sampled_from(["", "Name", "diffusivty", "potential", "charge",
                                        "initial", "concentration", "zz"]))
            container[new] = container.pop(key)
        elif action == "scale":
            container[key] = container[key] * draw(st.sampled_from(FACTORS))
        elif action == "wrap":
            container[key] = [container[key]]
        else:
            container[key] = draw(values)
    return name, data


BUDGET = 3.0  # s of one example; a longer run is stopped (long runs are not failures here)


class Slow(Exception):
    """A run that takes longer than the example's budget (not a failure here)."""


def _slow(signum, frame):
    raise Slow


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str, folder: Path) -> None:
    assert code in (0, 2, 3), (code, err[-3000:])
    assert "Traceback" not in err and "Warning" not in err, err[-3000:]
    if code == 0:
        assert err == "", err[-3000:]
        assert json.loads((folder / "summary.json").read_text())["converged"] is True
        return
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("femflux: error: "), err[-3000:]
    assert len(lines[0]) <= 1100
    if code == 2:
        assert not folder.exists(), lines[0]
    elif "cannot be written" not in lines[0] and "no space left" not in lines[0]:
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["converged"] is False
        names = {p.name for p in folder.iterdir()}
        assert {"case.toml", "summary.json", "solution.vtu"} <= names, names
        tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_seed_cases_run(tmp_path, name):
    (tmp_path / "case.toml").write_text(dump_toml(SEEDS[name]), encoding="utf-8")
    folder = tmp_path / "res"
    code, out, err = run_cli(["run", str(tmp_path / "case.toml"), "--quiet", "--out",
                              str(folder)])
    assert code == (3 if name == "blowup" else 0), err
    check_outcome(code, out, err, folder)


def _found(name, path, value):
    data = copy.deepcopy(SEEDS[name])
    container = data
    for key in path[:-1]:
        container = container[key]
    if value is None:
        del container[path[-1]]
    else:
        container[path[-1]] = value
    return data


# cases the fuzzing found crashing (traceback or segmentation fault) and their exit codes
FOUND = [
    (_found("stress", ("species", 0, "partial_molar_volume"), None), 0),  # BlockSum pattern
    (_found("kcl", ("species", 0, "diffusivity"), 0), 2),  # empty rows: SuperLU crashed
    (_found("blowup", ("species", 0, "diffusivity"), {"pre": 1.0, "energy": -1e9}), 2),
    (_found("trap", ("trap", 0, "trapping"), {"pre": 1.0, "energy": -1e9}), 2),
    (_found("slab", ("mesh", "generate", "length"), [1e-300]), 3),  # ZeroDivisionError
]


@pytest.mark.parametrize("data, expected", FOUND)
def test_cases_found_by_fuzzing(tmp_path, data, expected):
    (tmp_path / "case.toml").write_text(dump_toml(data), encoding="utf-8")
    folder = tmp_path / "res"
    for _ in range(2):  # twice in one process: SuperLU's crash came on a second solve
        code, out, err = run_cli(["run", str(tmp_path / "case.toml"), "--quiet", "--out",
                                  str(folder)])
        assert code == expected, err
        check_outcome(code, out, err, folder)


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=mutated_cases())
def test_mutated_cases_exit_cleanly(tmp_path_factory, case):
    name, data = case
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "case.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    out_dir = folder / "res"
    previous = signal.signal(signal.SIGALRM, _slow)
    signal.setitimer(signal.ITIMER_REAL, BUDGET)
    try:
        code, out, err = run_cli(["run", str(path), "--quiet", "--out", str(out_dir)])
    except Slow:
        event(f"{name}: slow")
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    event(f"{name}: exit {code}")
    check_outcome(code, out, err, out_dir)
