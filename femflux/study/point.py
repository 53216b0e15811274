"""One point of a sweep, run on a Dask worker: load its case, solve, write
its results folder and its record (see :mod:`.folder` for the order).

The outcome is the record (also returned to the client)::

    {"point": i, "status": "ok" | "not_converged" | "bad_input" | "error",
     "exit": 0 | 3 | 2 | 1, "message": one line, "wall_time_s": s,
     "host": the worker's host name, "pid": its process id,
     "mesh": "read" | "kept" (read for this point, or the worker's copy
     of the mesh it read for an earlier point: see :mod:`.meshes`)}

``not_converged`` (a :class:`SolverError`, exit 3) keeps the last converged
state as a complete folder whose summary says ``"converged": false``;
``bad_input`` (a :class:`CaseError`, exit 2) writes no folder; ``error`` is
anything else (a bug, not the user's input), reported the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np

from ..case import load_case
from ..errors import CaseError, SolverError
from ..simulation import solve
from .folder import BAD_INPUT, ERROR, NOT_CONVERGED, OK, write_record, write_state
from .meshes import point_mesh
from .plan import PointTask


def dask_setup(worker) -> None:
    """Worker preload (embedded LocalCluster): a worker forked from the
    ``femflux`` command inherits its SIGINT/SIGTERM handlers (which end a run
    with exit 130/143 and clean up its folder); a worker's signals belong to
    its nanny, so Python's defaults are put back."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_point(task: PointTask) -> dict:
    """Solve one point and write its folder and record; return the record.
    The worker keeps the mesh for its next points (:mod:`.meshes`)."""
    started = time.perf_counter()
    mesh: dict = {}
    try:
        case = load_case(task.source, overrides=task.overrides)
        initial = np.load(task.initial) if task.initial else None
        fem_mesh, kept = point_mesh(case.mesh)
        mesh["mesh"] = "kept" if kept else "read"
        result = solve(case, initial=initial, mesh=fem_mesh)
    except CaseError as exc:
        return _finish(task, BAD_INPUT, 2, exc, started, mesh)
    except SolverError as exc:
        if exc.result is not None:
            exc.result.save(task.folder)
        return _finish(task, NOT_CONVERGED, 3, exc, started, mesh)
    except Exception as exc:  # noqa: BLE001 - a worker reports, the client decides
        return _finish(task, ERROR, 1, f"{type(exc).__name__}: {exc}", started, mesh)
    if task.state is not None:  # before the folder: a complete chained point has its state
        write_state(Path(task.state), result.state)
    result.save(task.folder)
    return _finish(task, OK, 0, "", started, mesh)


def _finish(task: PointTask, status: str, code: int, message, started: float,
            mesh: dict) -> dict:
    record = {"point": task.index, "status": status, "exit": code,
              "message": " ".join(str(message).split()),
              "wall_time_s": time.perf_counter() - started, "host": socket.gethostname(),
              "pid": os.getpid(), **mesh}
    write_record(Path(task.record), record)
    return record
