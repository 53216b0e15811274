"""Per-phase timers for the benchmarks (not part of femflux): wall time of
set-up (mesh and model), assembly, linear solves (SuperLU factorisation or
AMG set-up, plus Krylov), the rest (Newton's own work, post-processing), and the Krylov
iterations of every linear solve, by wrapping femflux functions in this
process only.

    with Phases() as phases:
        result = femflux.solve(case)
    phases.row()  # {"setup_s": ..., "assembly_s": ..., "linear_s": ..., ...,
                  #  the same in CPU seconds: "setup_cpu_s", ...}
"""

from __future__ import annotations

import logging
import re
import time

LOGGERS = ("femflux.linalg.krylov", "femflux.linalg.amg")


class _KrylovLog(logging.Handler):
    """Collects "... GMRES: N iterations" and "AMG-CG: N iterations" records."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.iterations: list[int] = []

    def emit(self, record):
        found = re.search(r"(\d+) iterations to rtol", record.getMessage())
        if found:
            self.iterations.append(int(found.group(1)))


class Phases:
    """Wraps femflux's set-up, assembly and linear solves while active."""

    def __init__(self):
        # amg_setup and factor are parts of linear
        self.seconds = {"setup": 0.0, "assembly": 0.0, "linear": 0.0, "amg_setup": 0.0,
                        "factor": 0.0}
        self.cpu = dict.fromkeys(self.seconds, 0.0)  # the same phases in CPU seconds
        self.krylov = _KrylovLog()
        self._undo = []

    def _wrap(self, owner, name: str, phase: str) -> None:
        original = getattr(owner, name)
        seconds, cpu = self.seconds, self.cpu

        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - t0
                cpu[phase] += time.process_time() - c0

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def __enter__(self):
        from femflux import simulation
        from femflux.linalg import LinearSolver, amg, coupled, direct
        from femflux.models.transport import SpeciesTransport

        self._wrap(simulation, "prepare", "setup")
        self._wrap(SpeciesTransport, "flux", "assembly")
        self._wrap(LinearSolver, "solve", "linear")
        self._wrap(amg, "_smoothed_aggregation", "amg_setup")
        self._wrap(coupled, "_smoothed_aggregation", "amg_setup")
        self._wrap(direct._Direct, "__init__", "factor")
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self.krylov)
            logger.setLevel(logging.DEBUG)
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.total = time.perf_counter() - self.started
        self.cpu_total = time.process_time() - self.cpu_started
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self.krylov)
        return False

    def row(self) -> dict:
        """Seconds per phase ("other": Newton's own work and post-processing)
        and the Krylov iterations of each linear solve."""
        row = {"krylov": list(self.krylov.iterations)}
        for suffix, s, total in (("s", self.seconds, self.total),
                                 ("cpu_s", self.cpu, self.cpu_total)):
            row.update({f"{k}_{suffix}": v for k, v in s.items()})
            row[f"other_{suffix}"] = total - s["setup"] - s["assembly"] - s["linear"]
        return row


def in_child(script: str, *args: str) -> dict:
    """Run ``script`` with ``args`` in a fresh process (each benchmark size
    on its own: peak memory is the process's); the JSON of its last line."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, script, *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])
