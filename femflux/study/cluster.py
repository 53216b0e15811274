"""Dask distributed for sweeps: where the points run, and running them there.

:func:`dask_client` opens an embedded ``LocalCluster`` (one single-threaded
worker process per core, or ``workers``) or connects to a running scheduler
(``tcp://host:8786``; its workers must import femflux and see the sweep
folder and the case's files at the same paths).  :func:`run_points` submits
the points and hands each record to a callback as it arrives: all at once
(from both ends of the sweep inwards), or with ``chain`` one after the other,
each starting from the state file of the last converged point before it.
Dask does the scheduling, the data transfer and the recovery from lost
workers; a point whose task fails in Dask (a worker killed twice, say) is
recorded as an ``error``.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CaseError
from .folder import ERROR, write_record
from .plan import PointTask
from .point import run_point

CONNECT_TIMEOUT = 20  # s to reach a scheduler
#: Dask settings of the embedded cluster (points are long, single-threaded tasks):
#: - Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which turns
#:   glibc's dynamic mmap threshold off: every large temporary array is then a
#:   fresh mmap, with 8x the page faults and 15 % more time per nanopore solve
#:   (measured); femflux gives freed memory back itself (femflux.memory.trim);
#: - the statistical profiler samples the solving thread every 10 ms: 4 % of a
#:   solve (measured), for a dashboard nobody looks at;
#: - a worker takes its next point when it is free (no second point queued on
#:   a busy worker while another worker idles);
#: - on Linux the worker processes are forked from this one, which has femflux
#:   imported already: the cluster is up in 0.6 s instead of 4 s (each spawned
#:   worker imports distributed and femflux anew: 2 s of the 8-point nanopore
#:   sweep's 18 s), and closes in 0.05 s instead of 1 s.  The fork happens
#:   while this process only waits for the cluster; the worker resets the
#:   signal handlers it inherits (:func:`femflux.study.point.dask_setup`).
#: - the timers of an idle cluster (the nanny polling its worker's memory every
#:   100 ms, the system monitors every 0.5 s, the event loops' 20 ms ticks)
#:   cost 50 ms of CPU a second on 2 cores (measured), taken from the points'
#:   solving; every 1 s, 2 s and 0.2 s: 13 ms a second;
#: BLAS stays single-threaded (Dask's default, and femflux's).
LOCAL_CLUSTER = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                 "distributed.worker.profile.enabled": False,
                 "distributed.scheduler.worker-saturation": 1.0,
                 "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.admin.system-monitor.interval": "2s",
                 "distributed.admin.tick.interval": "200ms",
                 **({"distributed.worker.multiprocessing-method": "fork"}
                    if sys.platform.startswith("linux") else {})}


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                tasks: int = 1) -> Iterator:
    """A ``distributed.Client``: of the scheduler at ``scheduler``, else of a
    LocalCluster of ``workers`` (default: one per core, at most ``tasks``)
    single-threaded worker processes, closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        if workers is not None:
            raise CaseError("--workers and --scheduler exclude each other: the scheduler's "
                            "cluster has its own workers")
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CaseError(f"--scheduler {scheduler}: no Dask scheduler reached "
                            f"({' '.join(str(exc).split())})") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers is not None and workers < 1:
        raise CaseError(f"--workers must be >= 1 (got {workers})")
    n = max(1, min(workers or default_workers(), tasks))
    with dask.config.set(LOCAL_CLUSTER):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR,
                               preload=["femflux.study.point"])
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def run_points(client, tasks: list[PointTask], chain: bool, last_state: Callable,
               on_done: Callable[[dict], None]) -> None:
    """Run ``tasks`` on ``client``'s cluster, calling ``on_done(record)`` for each.

    Without ``chain`` they are submitted at once, started from both ends of the
    sweep inwards (:func:`_ends_first`).  With ``chain`` they run in order, each
    with ``initial`` set to ``last_state(index)`` (the state file of the last
    converged point before it, or None) once the point before it has finished.
    """
    from distributed import as_completed

    tag = uuid.uuid4().hex[:8]

    def submit(task, priority=0):
        return client.submit(run_point, task, key=f"femflux-point-{task.index}-{tag}",
                             pure=False, priority=priority)

    if chain:
        for task in tasks:
            initial = last_state(task.index)
            task.initial = None if initial is None else str(initial)
            future = submit(task)
            on_done(_outcome(future, task))
            future.release()
        return
    futures = {}
    for rank, task in enumerate(_ends_first(tasks)):
        futures[submit(task, priority=len(tasks) - rank)] = task
    for future in as_completed(futures):
        on_done(_outcome(future, futures[future]))
        future.release()


def _ends_first(tasks: list) -> list:
    """The tasks from both ends of the sweep inwards (first, last, second, ...).

    The cost of a point often grows towards one end of a range (more salt,
    more voltage, a thinner layer): started in order, the dearest points would
    start last, on one worker, while the others idle at the end.  From both
    ends they start early; for costs without a trend the order is neutral.
    """
    order = []
    low, high = 0, len(tasks) - 1
    while low <= high:
        order.append(tasks[low])
        if high != low:
            order.append(tasks[high])
        low, high = low + 1, high - 1
    return order


def _outcome(future, task: PointTask) -> dict:
    """The point's record, or an ``error`` record when its task failed in Dask."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker, a crash: recorded, not raised
        record = {"point": task.index, "status": ERROR, "exit": 1,
                  "message": " ".join(f"{type(exc).__name__}: {exc}".split())}
        try:
            write_record(Path(task.record), record)
        except OSError:
            pass  # the client's table still shows it
        return record
