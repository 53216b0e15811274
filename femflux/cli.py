"""The ``femflux`` command (SPEC section 1): a thin layer over the Python API.

Exit codes: 0 solved; 2 bad input (case, mesh, option); 3 the solver did not
converge, or the results could not be written (no space, file too large);
130 interrupted (SIGINT), 143 terminated (SIGTERM).  Failures print one line
``femflux: error: ...`` (a traceback only with ``--debug``); warnings of
numpy, VTK and the like are not shown beside it.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import traceback
from pathlib import Path

from ._signals import catch_signals, quiet, restore_signals
from ._version import __version__
from .errors import CaseError, SolverError, clip_message


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as CaseError (exit 2, one line)."""

    def error(self, message):
        raise CaseError(message)


MAX_WINDOW = 8192  # pixels a side (femflux.plot.view.MAX_WINDOW)


def _window(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        size = int(w), int(h)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must look like 1200x900 (got {text[:40]!r})") from exc
    if not all(16 <= n <= MAX_WINDOW for n in size):
        raise argparse.ArgumentTypeError(f"{size[0]}x{size[1]}: each side must be 16 to "
                                         f"{MAX_WINDOW} pixels")
    return size


def _warp(text: str) -> str | float:
    """--warp: "auto" or a finite factor."""
    if text == "auto":
        return text
    try:
        factor = float(text)
    except ValueError:
        factor = float("nan")
    if factor != factor or abs(factor) == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a factor (a number) or nothing "
                                         f"(got {text[:40]!r})")
    return factor


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="femflux", description="Finite-element transport driven by "
                     "chemical-potential gradients.")
    parser.add_argument("--version", action="version", version=f"femflux {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="solve a case and write its results folder")
    run.add_argument("case", help="the case file (TOML)")
    run.add_argument("--out", help="results folder (default: [output] dir, "
                     "else results/<case stem>)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override one key by its dotted path; VALUE is a TOML value")
    run.add_argument("--restart", metavar="DIR", help="continue the transient run whose "
                     "results folder is DIR from its last checkpoint (a killed run's "
                     "DIR/../.DIR.checkpoint, else DIR/restart.npz) and write DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar or report")
    run.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    sweep = sub.add_parser("sweep", help="solve a case at many points (product or zip of "
                           "values) on Dask; DIR/points/NNNN, DIR/sweep.csv, DIR/sweep.png")
    sweep.add_argument("case", help="the case file (TOML); its [sweep] table gives what the "
                       "options do not")
    sweep.add_argument("--vary", action="append", metavar="KEY=VALUES",
                       help="a dotted key and its values: a TOML list, v1,v2,..., "
                       "linspace(a, b, n) or logspace(a, b, n) (replaces [sweep] vary)")
    sweep.add_argument("--zip", action=argparse.BooleanOptionalAction, default=None,
                       help="zip the value lists instead of their product")
    sweep.add_argument("--chain", action=argparse.BooleanOptionalAction, default=None,
                       help="run the points in order, each from the previous converged state")
    sweep.add_argument("--collect", action="extend", nargs="+", metavar="PATH",
                       help="dotted summary.json paths for the table (default: every "
                       "boundary's fluxes, current and potential)")
    sweep.add_argument("--out", help="sweep folder (default: results/<case stem>-sweep)")
    sweep.add_argument("--workers", type=int, help="worker processes of the embedded Dask "
                       "cluster (default: one per core)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, "
                       "e.g. tcp://host:8786, instead of the embedded cluster")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override one key of every point")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or report")
    sweep.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    check = sub.add_parser("check", help="validate a case and its mesh without solving")
    check.add_argument("case")
    check.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    check.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    info = sub.add_parser("info", help="describe a mesh file")
    info.add_argument("mesh")
    info.add_argument("--scale", type=float, default=1.0)
    info.add_argument("--axisymmetric", action="store_true",
                      help="read a 2D mesh as axisymmetric (x = r): measures include 2 pi r")
    info.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    plot = sub.add_parser("plot", help="picture of a result (.vtu or folder) or a mesh file")
    plot.add_argument("result")
    plot.add_argument("--field")
    plot.add_argument("--history", nargs="+", metavar="COLUMN",
                      help="line graph of history columns (e.g. boundaries.cathode.current)")
    plot.add_argument("--x", default="t", metavar="COLUMN",
                      help="the history column on the x axis (default t)")
    plot.add_argument("--out", help="PNG file (default: <field>.png in the results folder)")
    plot.add_argument("--slice", choices=["x", "y", "z", "xyz"], dest="slice_axis",
                      help="slice normal to an axis, or three orthogonal slices")
    plot.add_argument("--clip", action=argparse.BooleanOptionalAction, default=None,
                      help="cut away half of a 3D body (default in 3D) or not")
    plot.add_argument("--warp", nargs="?", const="auto", default=None, type=_warp,
                      help="warp by the displacement (optional factor; 0 = off)")
    plot.add_argument("--contours", type=int)
    plot.add_argument("--log", action="store_true", help="log10 colour scale")
    plot.add_argument("--camera", choices=["iso", "x", "y", "z"], default="iso")
    plot.add_argument("--window", type=_window, default=(1200, 900), metavar="WxH")
    plot.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    animate = sub.add_parser("animate", help="animation of a transient series")
    animate.add_argument("directory")
    animate.add_argument("--field", required=True)
    animate.add_argument("--out", required=True, help="FILE.gif (or .mp4)")
    animate.add_argument("--fps", type=int, default=10)
    animate.add_argument("--window", type=_window, default=(1000, 750), metavar="WxH")
    animate.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    own_process = argv is None  # an in-process call gets its signal handlers back
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    previous = catch_signals()
    try:
        with quiet(debug):
            args = build_parser().parse_args(argv)
            return COMMANDS[args.command](args)
    except CaseError as exc:
        return _fail(exc, 2, debug)
    except SolverError as exc:
        return _fail(exc, 3, debug)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        if _launched_rank() == 0:  # MPI: one line, from rank 0
            print(f"femflux: {'terminated' if signum == signal.SIGTERM else 'interrupted'}",
                  file=sys.stderr)
        return 128 + signum
    finally:
        if not own_process:
            restore_signals(previous)
        else:  # the process ends now: its last garbage collections need not traverse
            gc.freeze()  # the heap (0.3 s with Dask and matplotlib loaded, 1 s on a busy machine)


def _fail(exc: Exception, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    message = clip_message(" ".join(str(exc).splitlines()))
    if _launched_rank() == 0:  # MPI: one line, from rank 0
        print(f"femflux: error: {message}", file=sys.stderr)
    return code


def _launched_rank() -> int:
    from .parallel import launched_rank

    return launched_rank()


def _load(args):
    from .case import load_case

    return load_case(args.case, overrides=list(args.set))


def cmd_run(args) -> int:
    from .parallel import launched_size

    if launched_size() > 1 or os.environ.get("FEMFLUX_DISTRIBUTED") == "1":
        from .parallel.cli import run_distributed

        return run_distributed(args, _load, _check_out)
    from .results import checkpoint as checkpoints
    from .simulation import solve

    case = _load(args)
    if args.restart is not None and args.out is not None \
            and Path(args.out).resolve() != Path(args.restart).resolve():
        raise CaseError("--restart DIR writes DIR: give no other --out")
    out = Path(args.restart or args.out or case.output.dir
               or Path("results") / Path(args.case).stem)
    target = _check_out(out)
    transient = not case.solver.steady
    restart = None
    if args.restart is not None:
        if not transient:
            raise CaseError("--restart continues a transient run; this case is steady")
        source = checkpoints.find(target)
        restart = checkpoints.decode(source)
        restart["source"] = str(source)
    else:
        checkpoints.remove(target)  # a run started afresh drops a killed run's checkpoint
    folder = checkpoints.folder_for(target) if transient else None
    progress = not args.quiet and sys.stderr.isatty()
    try:
        result = solve(case, progress=progress, checkpoint=folder, restart=restart)
    except SolverError as exc:
        if exc.result is not None:
            exc.result.save(out)
            checkpoints.remove(target)  # restart.npz in out holds the last accepted step
            exc.args = (f"{exc.args[0]}; the last converged state (t = "
                        f"{exc.result.summary['time']:.6g} s) is in {out}",)
        raise
    result.save(out)
    checkpoints.remove(target)
    if not args.quiet:
        _report(result, out)
    return 0


def _check_out(out: Path) -> Path:
    """Before solving: refuse a results folder that femflux may not replace or
    cannot write (the rules of :mod:`femflux.results.writers`); return it resolved."""
    from .results.writers import check_target

    return check_target(out)


def _report(result, out: Path) -> None:
    s = result.summary
    for warning in s["warnings"]:
        print(f"femflux: warning: {warning}", file=sys.stderr)
    kind = "steady" if s["steady"] else f"t = {s['time']:.6g} s in {s['steps']} steps"
    print(f"solved {s['model']} ({kind}): {s['dofs']} dofs, {s['newton_iterations']} Newton "
          f"iterations, {s['wall_time_s']:.2f} s")
    for name, b in s["boundaries"].items():
        fluxes = ", ".join(f"{k} {v:.6g}" for k, v in b["flux"].items())
        print(f"  boundary {name:<16} outward flux: {fluxes}")
    print(f"results in {out}")


def cmd_sweep(args) -> int:
    from .study import run_sweep

    outcome = run_sweep(args.case, vary=args.vary, zip=args.zip, chain=args.chain,
                        collect=args.collect, out=args.out, workers=args.workers,
                        scheduler=args.scheduler, overrides=list(args.set),
                        progress=not args.quiet and sys.stderr.isatty())
    n, folder = len(outcome.rows), outcome.folder
    if not args.quiet:
        print(f"swept {n} points ({outcome.computed} solved now, {outcome.skipped} complete "
              f"before): {n - outcome.failed} ok, {outcome.failed} failed")
        print(f"table {folder.table_path}" + (f", graph {outcome.graph}" if outcome.graph
                                              else ""))
    if outcome.failed:
        raise SolverError(f"{outcome.failed} of {n} points failed (status and message in "
                          f"{folder.table_path})")
    return 0


def cmd_check(args) -> int:
    from .simulation import prepare

    case = _load(args)
    fem_mesh, model = prepare(case)
    m = fem_mesh.mesh
    print(f"case OK: {case.model.kind}, {'steady' if case.solver.steady else 'transient'}, "
          f"{len(case.species)} species")
    print(f"mesh: {fem_mesh.dim}D {fem_mesh.geometry}, {m.nvertices} nodes, "
          f"{m.nelements} cells ({type(m).__name__}), "
          f"boundaries {sorted(fem_mesh.boundaries)}, regions {list(fem_mesh.regions)}")
    print(f"problem size: {model.n} dofs")
    for warning in case.warnings:
        print(f"warning: {warning}")
    return 0


def cmd_info(args) -> int:
    from .mesh import mesh_info, read_mesh

    print(mesh_info(read_mesh(args.mesh, scale=args.scale, axisymmetric=args.axisymmetric)))
    return 0


_RESULT_SUFFIXES = {".vtu", ".vtk", ".pvd"}


def cmd_plot(args) -> int:
    from . import plot

    source = Path(args.result)
    if not source.exists():
        raise CaseError(f"no such file or folder: {source}")
    if args.history:
        folder = source if source.is_dir() else source.parent
        out = Path(args.out) if args.out else folder / "history.png"
        plot.plot_history(source, args.history, x=args.x, out=out, window=args.window)
        print(f"wrote {out}")
        return 0
    if source.is_dir() or source.suffix.lower() in _RESULT_SUFFIXES:
        folder = source if source.is_dir() else source.parent
        out = Path(args.out) if args.out else folder / f"{args.field or 'plot'}.png"
        plot.plot_result(source, field=args.field, out=out, slice_axis=args.slice_axis,
                         clip=args.clip, warp=args.warp, contours=args.contours, log=args.log,
                         camera=args.camera, window=args.window)
    else:
        out = Path(args.out) if args.out else Path(f"{source.stem}.png")
        plot.plot_mesh(source, out=out, window=args.window)
    print(f"wrote {out}")
    return 0


def cmd_animate(args) -> int:
    from . import plot

    path = plot.animate(args.directory, args.field, args.out, fps=args.fps, window=args.window)
    print(f"wrote {path}")
    return 0


COMMANDS = {"run": cmd_run, "sweep": cmd_sweep, "check": cmd_check, "info": cmd_info,
            "plot": cmd_plot, "animate": cmd_animate}

if __name__ == "__main__":
    sys.exit(main())
