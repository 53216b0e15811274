"""One run on N MPI ranks: case -> partitioned mesh -> the rank's model ->
distributed Newton / BDF -> globally reduced summary and parallel VTU.

Every rank reads the case; rank 0 alone reads the mesh file, partitions the
nodes and sends each rank its piece (:mod:`.partition`); each rank builds
the serial model on its submesh and solves its share (:mod:`.system`,
:mod:`.newton`, :mod:`.timestep`); the summary is the sum of the ranks'
owned shares (:mod:`.report`), the fields are written as one piece per rank
(:mod:`.pvtu`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._version import __version__
from ..case import Case, check_against_mesh
from ..errors import CaseError, NewtonFailure, SolverError
from ..mesh import load_mesh
from ..models import build_model
from ..physics.closed import conserved_combinations
from ..solver import NewtonOptions, Stats, TimeOptions
from . import elastic, onsager
from .continuation import pseudo_transient
from .linear import PetscLinearSolver, choose
from .newton import newton
from .partition import partition
from .probes import DistributedProbes
from .pvtu import Piece, piece_name, write_pvtu
from .report import global_report
from .system import DistributedSystem, _not_yet, check_distributable
from .timestep import DistributedStepper


@dataclass
class DistributedResult:
    """A rank's part of a run's results: the global ``summary`` (same on every
    rank) and this rank's frames ``(t, point_data, cell_data)`` of its piece."""

    case: Case
    summary: dict
    piece: Piece
    final: tuple
    series: list = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return bool(self.summary["converged"])

    def save(self, directory, comm) -> Path:
        """Write the results folder (collective; rank 0 owns the folder)."""
        return save(self, directory, comm)


def collectively(comm, action):
    """Run ``action()`` on every rank; if it raised on any rank, raise the error
    of the lowest such rank on all of them (CaseError or SolverError keep
    their kind, anything else becomes a SolverError naming the rank)."""
    try:
        value, failure = action(), None
    except (CaseError, SolverError, NewtonFailure) as exc:
        value, failure = None, (type(exc).__name__, str(exc))
    except Exception as exc:  # noqa: BLE001 - reported on every rank
        value, failure = None, ("SolverError", f"rank {comm.rank}: {type(exc).__name__}: {exc}")
    failures = comm.allgather(failure)
    first = next((f for f in failures if f is not None), None)
    if first is not None:
        kind, message = first
        raise CaseError(message) if kind == "CaseError" else SolverError(message)
    return value


def prepare(case: Case, comm):
    """The rank's partition, model and distributed system (collective)."""
    check_distributable(case)
    if case.solver.steady and len(conserved_combinations(case)):
        raise _not_yet("a steady run with closed species (amount constraints)")

    def mesh():  # rank 0 only: the whole mesh, checked against the case
        if comm.rank:
            return None
        fem_mesh = load_mesh(case.mesh)
        check_against_mesh(case, fem_mesh)
        return fem_mesh

    fem_mesh = collectively(comm, mesh)
    part = collectively(comm, lambda: partition(fem_mesh, comm))
    fem_mesh = None  # rank 0 lets the whole mesh go
    case.warnings.extend(w for w in part.fem_mesh.warnings if w not in case.warnings)
    model = collectively(comm, lambda: build_model(case, part.fem_mesh))
    if model.elastic is not None:
        elastic.prepare(model, comm)
    system = DistributedSystem(model, part, comm)
    release_mesh_caches(part.fem_mesh.mesh)
    return part, model, system


#: scikit-fem's lazily computed arrays of a mesh's affine mapping: per cell
#: A, b, A^-1, det A (22 doubles a tetrahedron), per facet B, c, det B (10 a
#: triangle, and a tetrahedral mesh has 2 facets a cell)
_MAPPING_CACHES = ("_A", "_b", "_invA", "_detA", "_B", "_c", "_detB")
#: and of the mesh: facets, cell -> facets (int64), facet -> cells, edges
_MESH_CACHES = ("_facets", "_t2f", "_f2t", "_edges", "_t2e")


def release_mesh_caches(mesh) -> None:
    """Drop scikit-fem's cached tables of the rank's submesh once the model is
    built (its spaces, boundaries and points keep what they need; the
    residual and Jacobian use none of them): 0.2 GB a rank of PNP-BENCH at
    1e6 tets on 2 ranks, during the Newton iterations of a steady run.
    scikit-fem recomputes them, the same, when something asks again (the
    summary's boundary report does)."""
    mapping = getattr(mesh, "_cached_mapping", None)
    for owner, names in ((mapping, _MAPPING_CACHES), (mesh, _MESH_CACHES)):
        for name in names:
            if owner is not None and name in vars(owner):
                delattr(owner, name)


def solve(case: Case, comm) -> DistributedResult:
    """Solve ``case`` on the ranks of ``comm``; raise SolverError (with the last
    converged state as ``.result``) when the solver fails (collective)."""
    started = time.perf_counter()
    part, model, system = prepare(case, comm)
    piece = Piece(part)
    s = case.solver
    options = NewtonOptions(rtol=s.newton_rtol, atol=s.newton_atol, max_iterations=s.max_newton)
    method = choose(s.linear, system.numbering.N, system.dim)
    stats = Stats()
    x0 = system.initial_state()
    fixed, values = system.dirichlet(0.0)
    x0[fixed] = values
    if model.elastic is not None:
        x0 = elastic.equilibrium(system, x0, method)
    run = _Run(case, system, piece, stats, started, method)
    if s.steady:
        solver = run.solver = PetscLinearSolver.for_system(system, method)
        solver.configure = elastic.split(system)
        try:
            x = _steady(system, x0, fixed, solver, options, stats)
        except NewtonFailure as exc:
            result = run.result(x0, np.zeros(system.n), 0.0, converged=False)
            raise SolverError(f"the steady solve did not converge: {exc}", result) from exc
        finally:
            solver.release()
        return run.result(x, np.zeros(system.n), 0.0, converged=True)

    out = case.output
    wanted = {float(t) for t in out.times}
    run.frame(0.0, x0)
    run.history_entry(0.0, 0.0, 0, x0, np.zeros(system.n), None)
    time_options = TimeOptions(t_end=s.t_end, dt=s.dt, scheme=s.scheme, adaptive=s.adaptive,
                               output_times=sorted(wanted), rtol=s.time_rtol)
    stepper = DistributedStepper(system, time_options, options, method, stats, x0)
    run.solver = stepper.solver
    stepper.solver.configure = elastic.split(system)
    try:
        for accepted in stepper.run():
            for snap in accepted:
                stats.steps += 1
                at_time = any(abs(snap.t - t) <= 1e-9 * max(abs(t), 1e-300) for t in wanted)
                final = snap.t >= s.t_end * (1 - 1e-12)
                if stats.steps % out.every == 0 or at_time or final:
                    run.frame(snap.t, snap.x)
                run.history_entry(snap.t, snap.dt, snap.newton_iterations, snap.x, snap.rate,
                                  snap.residual)
    except SolverError as exc:
        last = stepper.history[-1]
        exc.result = run.result(last.x, last.rate, last.t, converged=False)
        exc.args = (f"the transient solve did not converge: {exc}",)
        raise
    finally:
        stepper.solver.release()
    last = stepper.history[-1]
    return run.result(last.x, last.rate, last.t, converged=True)


def _steady(system, x0, fixed, solver, options, stats) -> np.ndarray:
    """Newton from x0; if it fails, pseudo-transient continuation, then Newton
    (as the serial :func:`~femflux.solver.solve_steady`)."""
    def steady(z):
        return system.flux(z, 0.0)

    try:
        return newton(system, steady, x0, fixed, solver, options, stats,
                      damp=system.damp_update)
    except NewtonFailure as first:
        stats.messages.append(f"Newton from the initial guess failed ({first}); "
                              "using pseudo-transient continuation")
    x = pseudo_transient(system, x0, fixed, solver, options, stats)
    return newton(system, steady, x, fixed, solver, options, stats, damp=system.damp_update)


class _Run:
    """The frames and history of a run, and its result."""

    def __init__(self, case, system, piece, stats, started, method):
        self.case, self.system, self.piece = case, system, piece
        self.stats, self.started, self.method = stats, started, method
        self.frames: list = []
        self.history: list = []
        self.solver = None  # the PetscLinearSolver, for its Krylov iterations
        self.probes = DistributedProbes(system.part, case.output.probes, system.comm)

    def fields(self, x_owned):
        model = self.system.model
        xl = self.system.local(x_owned)
        return model.point_fields(xl), model.cell_fields(xl)

    def frame(self, t, x_owned):
        self.system.model.at_time(t)
        self.frames.append((t, *self.fields(x_owned)))

    def history_entry(self, t, dt, iterations, x, rate, residual):
        report = global_report(self.system, x, rate, t, residual)
        for entry in report["boundaries"].values():
            entry.pop("measure")
        row = {"t": t, "dt": dt, "newton_iterations": iterations}
        if "temperature" in report:  # T(x, y, z, t): its volume mean, as in serial
            row["temperature"] = report["temperature"]["integral"] \
                / report["temperature"]["volume"]
        elif self.case.model.temperature_program is not None:
            row["temperature"] = self.case.model.temperature_at(t)
        row |= {"amount": report["amount"], "free_energy": onsager.free_energy(self.system, x),
                "boundaries": report["boundaries"], "regions": report["regions"]}
        if self.probes:
            row["probes"] = self.probes.values(self.fields(x)[0])
        self.history.append(row)

    def _mpi(self) -> dict:
        """summary.json's mpi entry: ranks, linear method and preconditioner,
        Krylov iterations (all solves), per rank the wall and CPU seconds in
        KSP (set-up and solves) and the peak memory (GB, ru_maxrss)."""
        import resource

        comm, solver = self.system.comm, self.solver
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
        wall, cpu = solver.seconds
        return {"ranks": comm.size, "linear": self.method,
                "preconditioner": solver.preconditioner,
                "krylov_iterations": solver.iterations,
                "linear_s": [round(v, 3) for v in comm.allgather(wall)],
                "linear_cpu_s": [round(v, 3) for v in comm.allgather(cpu)],
                "peak_memory_gb": [round(v, 3) for v in comm.allgather(peak)]}

    def result(self, x, rate, t, converged) -> DistributedResult:
        case, system, stats = self.case, self.system, self.stats
        report = global_report(system, x, rate, t)
        model = system.model
        summary = {
            "converged": converged,
            "model": case.model.kind,
            "steady": case.solver.steady,
            "time": float(t),
            "steps": stats.steps,
            "newton_iterations": stats.newton_iterations,
            "rejected_steps": stats.rejected_steps,
            "continuation_steps": stats.continuation_steps,
            "dofs": int(system.numbering.N),
            "wall_time_s": time.perf_counter() - self.started,
            "femflux_version": __version__,
            "region_names": {str(k): name for k, name in model.fem_mesh.region_names.items()},
            "warnings": list(case.warnings),
            "solver_messages": list(stats.messages) + model.notes(),
            "boundaries": report["boundaries"],
            "regions": report["regions"],
            "mpi": self._mpi(),
        }
        if self.probes:
            summary["probes"] = self.probes.values(self.fields(x)[0])
        summary["wall_time_s"] = system.comm.allreduce(summary["wall_time_s"], op=_max())
        if not case.solver.steady:
            summary["history"] = self.history
        frames = self.frames
        if frames and frames[-1][0] != t:
            frames = frames + [(t, *self.fields(x))]
        final = frames[-1][1:] if frames else self.fields(x)
        return DistributedResult(case=case, summary=summary, piece=self.piece, final=final,
                                 series=frames if not case.solver.steady else [])


def _max():
    from mpi4py import MPI

    return MPI.MAX


def save(result: DistributedResult, directory, comm) -> Path:
    """The results folder of an MPI run: rank 0 stages and swaps it (the rules
    of :func:`femflux.results.writers.write_folder`), every rank writes its
    pieces into the staging folder (collective; the same error on every rank)."""
    from ..results.writers import write_folder, write_pvd, write_records

    def pieces(staging: Path):
        for stem, (_, point, cell) in _frames(result):
            result.piece.write(staging / piece_name(stem, comm.rank), point, cell)

    sent = []

    def contents(staging: Path):
        sent.append(True)
        comm.bcast(str(staging), root=0)
        collectively(comm, lambda: pieces(staging))
        names = [piece_name("solution", r) for r in range(comm.size)]
        write_pvtu(staging / "solution.pvtu", staging / names[0], names)
        if result.series:
            listed = []
            for stem, (t, _, _) in _frames(result)[1:]:
                step = [piece_name(stem, r) for r in range(comm.size)]
                write_pvtu(staging / f"{stem}.pvtu", staging / step[0], step)
                listed.append((t, f"{stem}.pvtu"))
            write_pvd(staging / "series.pvd", listed)
        write_records(staging, result.summary, result.case)

    if comm.rank == 0:
        outcome = None
        try:
            return write_folder(None, directory, contents=contents)
        except BaseException as exc:
            outcome = (type(exc).__name__, str(exc))
            raise
        finally:  # the outcome (or, if no staging folder was made, the failure)
            comm.bcast(outcome, root=0)
    message = comm.bcast(None, root=0)
    if isinstance(message, str):  # the staging folder: write the pieces
        try:
            collectively(comm, lambda: pieces(Path(message)))
        except (CaseError, SolverError):
            pass  # rank 0 fails too and says why
        message = comm.bcast(None, root=0)
    if message is not None:
        kind, text = message
        raise CaseError(text) if kind == "CaseError" else SolverError(text)
    return Path(directory)


def _frames(result: DistributedResult):
    """(stem, frame) of every file set: the solution, then the steps."""
    out = [("solution", (result.summary["time"], *result.final))]
    out += [(f"step_{k:05d}", frame) for k, frame in enumerate(result.series)]
    return out
