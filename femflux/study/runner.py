"""A sweep from start to end: plan (every point checked, nothing written),
folder (refuse another sweep's), skip the complete points, run the rest on
Dask, then the table and the graph.  :func:`sweep` is ``femflux.sweep``;
:func:`run_sweep` returns the whole :class:`SweepOutcome` (the CLI uses it).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import CaseError
from . import graph, table
from .cluster import dask_client, default_workers, run_points
from .folder import OK, SweepFolder
from .meshes import forget
from .plan import PointTask, SweepPlan, make_plan


@dataclass
class SweepOutcome:
    """What a sweep did: its folder, table, and how many points ran or failed."""

    folder: SweepFolder
    plan: SweepPlan
    columns: list[str]
    rows: list[dict]
    computed: int  # points run now
    skipped: int  # complete points of an earlier run
    graph: Path | None

    @property
    def failed(self) -> int:
        return sum(row["status"] != OK for row in self.rows)

    def table(self):
        data = table.as_table(self.columns, self.rows)
        if hasattr(data, "attrs"):
            data.attrs["folder"] = str(self.folder.root)
        return data


def sweep(case, vary=None, *, zip: bool | None = None, chain: bool | None = None,
          collect=None, out=None, workers: int | None = None, scheduler: str | None = None,
          overrides=None, progress: bool = False):
    """Run a sweep and return its table (a pandas DataFrame if pandas is
    importable, else a dict of lists; the same as ``DIR/sweep.csv``).

    Parameters
    ----------
    case : path, dict or Case
        The base case; its ``[sweep]`` table gives whatever is not given here.
    vary : dict or list of str, optional
        ``{"boundary.right.potential": "linspace(-1, 1, 21)"}`` (values: a list,
        an array, ``linspace(a, b, n)`` or ``logspace(a, b, n)``) or
        ``["KEY=VALUES", ...]`` as on the command line.
    zip : bool
        Zip the value lists (equal lengths) instead of taking their product.
    chain : bool
        Run the points in order, each starting from the previous converged
        state (continuation; steady cases).
    collect : list of str
        Dotted summary.json paths for the table (default: every boundary's
        fluxes, current and potential).
    out : path
        The sweep folder (default ``results/<case stem>-sweep``).
    workers : int
        Worker processes of the embedded Dask LocalCluster (default: one per core).
    scheduler : str
        Address of a running Dask scheduler (``tcp://host:8786``) instead.
    overrides : dict or list of str
        ``--set`` overrides of every point.
    progress : bool
        A progress bar over the points (tqdm, on stderr).

    Points that fail are rows with their status and message (they do not raise);
    bad input raises :class:`CaseError` before anything is written.  Scripts
    that use the embedded cluster need the ``if __name__ == "__main__":``
    guard (its worker processes are spawned).
    """
    return run_sweep(case, vary=vary, zip=zip, chain=chain, collect=collect, out=out,
                     workers=workers, scheduler=scheduler, overrides=overrides,
                     progress=progress).table()


def run_sweep(case, vary=None, *, zip=None, chain=None, collect=None, out=None, workers=None,
              scheduler=None, overrides=None, progress=False) -> SweepOutcome:
    """:func:`sweep`, returning the :class:`SweepOutcome`."""
    plan = make_plan(case, vary=vary, zip=zip, chain=chain, collect=collect,
                     overrides=overrides)
    n = len(plan.points)
    folder = SweepFolder(out if out is not None else Path("results") / f"{plan.stem}-sweep", n)
    manifest = plan.manifest()
    folder.check(manifest)
    records: list[dict | None] = [folder.record(i) if folder.complete(i) else None
                                  for i in range(n)]
    todo = [_task(plan, folder, i) for i in range(n) if records[i] is None]
    if todo:
        with dask_client(workers, scheduler, tasks=1 if plan.sweep.chain else len(todo)) as client:
            folder.prepare(manifest)
            bar = _progress_bar(n, n - len(todo), progress)
            idle = _IdleCore(client, scheduler, len(todo))

            def done(record: dict) -> None:
                records[record["point"]] = record
                idle.finished()
                if bar is not None:
                    bar.update(1)

            try:
                run_points(client, todo, plan.sweep.chain, folder.last_state_before, done)
            finally:
                if bar is not None:
                    bar.close()
                if scheduler is not None:  # its workers outlive the sweep: not its mesh
                    _forget_meshes(client)
    else:
        folder.prepare(manifest)
    return _finish(plan, folder, records, computed=len(todo))


class _IdleCore:
    """Imports matplotlib for the graph (:func:`graph.import_in_background`)
    as soon as a core of this machine idles: at once when the embedded
    cluster's workers do not fill the cores (fewer points than cores, a chain,
    a remote scheduler), else when the points still running are fewer than
    the workers (every point has started and one worker is done)."""

    def __init__(self, client, scheduler: str | None, points: int):
        self.remaining = points
        self.workers = 0 if scheduler is not None else len(client.nthreads())
        self.started = False
        self._check()

    def finished(self) -> None:
        self.remaining -= 1
        self._check()

    def _check(self) -> None:
        if not self.started and min(self.remaining, self.workers) < default_workers():
            self.started = True
            graph.import_in_background()


def _forget_meshes(client) -> None:
    try:
        client.run(forget)
    except Exception:  # noqa: BLE001, S110 - a lost worker has forgotten it already
        pass


def _task(plan: SweepPlan, folder: SweepFolder, i: int) -> PointTask:
    return PointTask(index=i, source=plan.source, overrides=plan.point_overrides(i),
                     folder=str(folder.point_dir(i).resolve()),
                     record=str(folder.record_path(i).resolve()),
                     state=str(folder.state_path(i).resolve()) if plan.sweep.chain else None)


def _progress_bar(total: int, initial: int, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="point", desc="sweep", file=sys.stderr,
                dynamic_ncols=True)


def _finish(plan: SweepPlan, folder: SweepFolder, records, computed: int) -> SweepOutcome:
    """The table and the graph from the records and the points' summaries."""
    n = len(plan.points)
    summaries = [folder.summary(i) if folder.complete(i) else None for i in range(n)]
    collect = plan.sweep.collect or table.default_collect(summaries)
    columns, rows = table.rows(plan.points, records, summaries, collect)
    table.write_csv(folder.table_path, columns, rows)
    picture = None
    if collect:
        picture = graph.draw(folder.graph_path, rows, plan.keys, collect[0],
                             plan.sweep.log_keys, plan.case.title, zipped=plan.sweep.zip)
    outcome = SweepOutcome(folder=folder, plan=plan, columns=columns, rows=rows,
                           computed=computed, skipped=n - computed, graph=picture)
    absent = table.missing(plan.sweep.collect, [s for s in summaries if s is not None])
    if absent and any(s is not None for s in summaries):
        example = next(s for s in summaries if s is not None)
        names = ", ".join(example.get("boundaries", {})) or "none"
        raise CaseError(f"--collect {absent[0]!r}: no point's summary.json has it "
                        f"(boundaries: {names}); the table {folder.table_path} leaves it empty")
    return outcome
