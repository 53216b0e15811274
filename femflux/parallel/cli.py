"""``femflux run`` on several MPI ranks: the same command, exit codes and one
error line as a serial run; only rank 0 prints and owns the results folder."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from ..errors import CaseError, SolverError


def run_distributed(args, load, check_out) -> int:
    """The distributed ``femflux run``: every rank solves its share, rank 0
    reports.  An error that is not raised on every rank alike (a bug, a
    failure inside one rank's assembly) aborts all ranks with exit code 3
    after one error line, rather than leaving the others waiting."""
    from . import world

    comm = world()
    try:
        return _run(args, load, check_out, comm)
    except (CaseError, SolverError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - one rank alone: end all ranks
        if args.debug:
            traceback.print_exc()
        print(f"femflux: error: rank {comm.rank}: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(3)
        return 3


def _run(args, load, check_out, comm) -> int:
    from .run import collectively, solve

    if getattr(args, "restart", None) is not None:
        raise CaseError("--restart is not yet distributed over MPI ranks; run this case on "
                        "one rank (without mpirun)")
    case = collectively(comm, lambda: load(args))
    if (case.raw.get("output") or {}).get("checkpoint_every", 0):
        raise CaseError("[output] checkpoint_every is not yet distributed over MPI ranks "
                        "(MPI runs write no checkpoints); run this case on one rank or "
                        "set it to 0")
    out = Path(args.out or case.output.dir or Path("results") / Path(args.case).stem)
    if comm.rank == 0:
        collectively(comm, lambda: check_out(out))
    else:
        collectively(comm, lambda: None)
    try:
        result = solve(case, comm)
    except SolverError as exc:
        if exc.result is not None:
            exc.result.save(out, comm)
            exc.args = (f"{exc.args[0]}; the last converged state (t = "
                        f"{exc.result.summary['time']:.6g} s) is in {out}",)
        raise
    result.save(out, comm)
    if not args.quiet and comm.rank == 0:
        from ..cli import _report

        _report(result, out)
    return 0
