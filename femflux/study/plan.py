"""What a sweep runs: the base case, the :class:`~femflux.case.Sweep` (from
``--vary``/the API or the case's ``[sweep]`` table), every point's overrides
and the :class:`PointTask` a worker receives.

A point's case is loaded exactly as ``femflux run CASE --set KEY=VALUE ...``
loads it: the case file (or the base case dict), the ``--set`` overrides of
the whole sweep, then the point's values, then ``[sweep]`` removed (a point is
one run).  Every point is loaded here before anything is written, so bad
input is an exit-2 error naming the key, and nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..case import Case, Sweep, base_raw, check_sweep, load_case, parse_vary, read_collect
from ..case.overrides import _override_items, _plain
from ..case.sweep import parse_values
from ..errors import CaseError


@dataclass
class PointTask:
    """One point as a worker receives it (small and picklable)."""

    index: int
    source: str | dict  # the case file (absolute), or the base case as a dict
    overrides: dict[str, Any]  # --set overrides, the point's values, "sweep": None
    folder: str  # its results folder DIR/points/NNNN
    record: str  # DIR/records/NNNN.json
    state: str | None = None  # chained: where its converged state goes
    initial: str | None = None  # chained: the state file it starts from (None: the case's)


@dataclass
class SweepPlan:
    """The base case, the sweep, and how each point is loaded."""

    case: Case  # the base case (with the sweep's --set overrides)
    sweep: Sweep
    source: str | dict
    overrides: dict[str, Any]  # --set overrides applied to the case file (file sources)
    points: list[dict[str, Any]]

    @property
    def keys(self) -> list[str]:
        return list(self.sweep.vary)

    @property
    def stem(self) -> str:
        return self.case.path.stem if self.case.path is not None else "case"

    def point_overrides(self, i: int) -> dict[str, Any]:
        """The overrides that make point ``i``'s case from ``source``."""
        return {**self.overrides, **self.points[i], "sweep": None}

    def manifest(self) -> dict:
        """What identifies the sweep (and a record of it) for DIR/sweep.json."""
        return {"femflux_version": __version__,
                "case": str(self.case.path) if self.case.path is not None else None,
                "base": base_raw(self.case), "keys": self.keys, "zip": self.sweep.zip,
                "chain": self.sweep.chain, "collect": self.sweep.collect,
                "points": self.points}


def make_plan(case, vary=None, zip: bool | None = None, chain: bool | None = None,
              collect=None, overrides=None) -> SweepPlan:
    """Load the base case and the sweep and check every point (CaseError on bad input).

    ``case``: a case file, a dict or a :class:`Case`; ``vary``: a dict
    ``{key: VALUES}`` (a list, an array or a ``linspace``/``logspace``
    string) or ``--vary`` strings ``KEY=VALUES``; None takes the case's
    ``[sweep]``.  ``zip``, ``chain``, ``collect`` default to the case's
    ``[sweep]`` values; ``overrides`` are ``--set`` overrides of every point.
    """
    base_overrides = dict(_override_items(overrides))
    if isinstance(case, Case):
        if base_overrides:
            raise CaseError("overrides apply to a case file or dict, not to a loaded Case")
        base, source = case, base_raw(case)
    elif isinstance(case, dict):
        base = load_case(case, overrides=base_overrides)
        source = base_raw(base)  # overrides applied, mesh.file absolute
        base_overrides = {}
    elif isinstance(case, str | os.PathLike):
        base = load_case(case, overrides=base_overrides)
        source = str(Path(case).resolve())
    else:
        raise CaseError(f"a case is a TOML file, a dict or a Case (got {type(case).__name__})")

    own = base.sweep or Sweep()
    if vary is not None:
        sweep, label = Sweep(vary={}, log_keys=[]), "--vary"
        for key, values, log in _vary_items(vary):
            if key in sweep.vary:
                raise CaseError(f"--vary {key!r} is given twice")
            sweep.vary[key] = values
            if log:
                sweep.log_keys.append(key)
    else:
        sweep, label = Sweep(vary=dict(own.vary), log_keys=list(own.log_keys)), "[sweep]"
    sweep.zip = own.zip if zip is None else bool(zip)
    sweep.chain = own.chain if chain is None else bool(chain)
    sweep.collect = own.collect if collect is None else read_collect(list(collect), "--collect")
    for key in sweep.vary:
        if key in base_overrides:
            raise CaseError(f"{label} {key!r} is also set by --set: give it one way")
    check_sweep(base, sweep, label)
    plan = SweepPlan(case=base, sweep=sweep, source=source, overrides=base_overrides,
                     points=sweep.points)
    if len(sweep.vary) > 1:  # each key was checked on its own; now their combinations
        for i in range(len(plan.points)):
            try:
                load_case(base_raw(base), overrides=plan.points[i])
            except CaseError as exc:
                shown = ", ".join(f"{k} = {v!r}" for k, v in plan.points[i].items())
                raise CaseError(f"sweep point {i} ({shown}): {exc}") from None
    return plan


def _vary_items(vary):
    """(key, values, from logspace) of ``vary``: a dict or ``KEY=VALUES`` strings."""
    if isinstance(vary, str):
        vary = [vary]
    if isinstance(vary, dict):
        for key, value in vary.items():
            if isinstance(value, np.ndarray | tuple | range):
                value = list(value)
            if not isinstance(value, list | str):
                value = [value]  # one value
            values, log = parse_values(_plain(value), f"--vary {key!r}")
            yield str(key).strip(), values, log
        return
    if not isinstance(vary, list | tuple):
        raise CaseError(f"vary is a dict {{KEY: VALUES}} or a list of 'KEY=VALUES' strings "
                        f"(got {type(vary).__name__})")
    for text in vary:
        yield parse_vary(text)
