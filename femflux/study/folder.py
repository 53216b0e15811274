"""The sweep folder DIR on disk: its layout, what is complete, and atomic writes.

::

    DIR/sweep.json          the manifest: the base case and every point's values
                            (a re-run with another manifest is refused: the
                            points' numbers would mean other values)
    DIR/points/NNNN/        one complete results folder per point (written
                            atomically by femflux.results)
    DIR/records/NNNN.json   the point's status, exit code and one-line message
                            (written after its folder)
    DIR/states/NNNN.npy     chained sweeps: the converged unknown vector, the
                            next point's start (written before its folder)
    DIR/sweep.csv, DIR/sweep.png

A point is complete when its results folder exists (it has ``summary.json``:
folders appear only complete); a point without one (not started, killed
mid-solve, bad input, a crashed worker) is run again.  Every file here is
written to a temporary name and renamed into place, so a sweep killed at any
moment leaves nothing half-written; the temporary folders of a killed write
are removed by :meth:`SweepFolder.clean`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import CaseError

MANIFEST = "sweep.json"
TABLE = "sweep.csv"
GRAPH = "sweep.png"
OK, NOT_CONVERGED, BAD_INPUT, ERROR = "ok", "not_converged", "bad_input", "error"


class SweepFolder:
    """DIR of a sweep of ``n`` points."""

    def __init__(self, root: str | os.PathLike, n: int):
        self.root = Path(root)
        self.n = n
        self.width = max(4, len(str(n - 1)))

    # -- layout -------------------------------------------------------------------------
    def name(self, i: int) -> str:
        return f"{i:0{self.width}d}"

    def point_dir(self, i: int) -> Path:
        return self.root / "points" / self.name(i)

    def record_path(self, i: int) -> Path:
        return self.root / "records" / f"{self.name(i)}.json"

    def state_path(self, i: int) -> Path:
        return self.root / "states" / f"{self.name(i)}.npy"

    @property
    def table_path(self) -> Path:
        return self.root / TABLE

    @property
    def graph_path(self) -> Path:
        return self.root / GRAPH

    # -- before anything is written ---------------------------------------------------------
    def check(self, manifest: dict) -> None:
        """Refuse a DIR that is a file, the working directory (or contains it),
        a folder of something else, or the folder of another sweep."""
        resolved = self.root.resolve()
        for parent in [resolved, *resolved.parents]:
            if parent.exists() and not parent.is_dir():
                raise CaseError(f"sweep folder {self.root}: {parent} is a file")
        cwd = Path.cwd().resolve()
        if resolved == cwd or resolved in cwd.parents:
            raise CaseError(f"sweep folder {self.root} is the working directory or contains it")
        if not resolved.is_dir() or not any(resolved.iterdir()):
            return
        path = resolved / MANIFEST
        if not path.is_file():
            raise CaseError(f"sweep folder {self.root} exists and is not a femflux sweep "
                            f"(no {MANIFEST}); choose another --out")
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CaseError(f"sweep folder {self.root}: {MANIFEST} cannot be read ({exc}); "
                            f"choose another --out") from None
        for key, what in (("base", "base case differs"), ("points", "points differ"),
                          ("chain", "chain setting differs")):
            if _canonical(old.get(key)) != _canonical(manifest[key]):
                raise CaseError(f"sweep folder {self.root} holds another sweep (its {what}): "
                                f"choose another --out, or remove it to start afresh")

    # -- what is done ----------------------------------------------------------------------
    def complete(self, i: int) -> bool:
        return (self.point_dir(i) / "summary.json").is_file()

    def summary(self, i: int) -> dict | None:
        try:
            return json.loads((self.point_dir(i) / "summary.json").read_text())
        except (OSError, ValueError):
            return None

    def record(self, i: int) -> dict | None:
        """The point's record; for a complete point whose record was not
        written (killed in between) one made from its summary."""
        try:
            record = json.loads(self.record_path(i).read_text())
        except (OSError, ValueError):
            record = None
        if self.complete(i):
            if record is None or record.get("status") not in (OK, NOT_CONVERGED):
                summary = self.summary(i) or {}
                converged = bool(summary.get("converged"))
                record = {"point": i, "status": OK if converged else NOT_CONVERGED,
                          "exit": 0 if converged else 3,
                          "message": "" if converged else "the solver did not converge"}
            return record
        return record

    def last_state_before(self, i: int) -> Path | None:
        """The converged state of the nearest earlier point that has one."""
        for k in range(i - 1, -1, -1):
            if self.state_path(k).is_file():
                return self.state_path(k)
        return None

    # -- writing -------------------------------------------------------------------------
    def prepare(self, manifest: dict) -> None:
        """Create DIR and its subfolders, write the manifest, remove what a
        killed write left behind (a CaseError if DIR cannot be written)."""
        try:
            for sub in ("points", "records", "states") if manifest["chain"] else ("points",
                                                                                  "records"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            write_text(self.root / MANIFEST, json.dumps(_jsonable(manifest), indent=1) + "\n")
        except OSError as exc:
            raise CaseError(f"sweep folder {self.root}: {exc.strerror or exc}") from None
        self.clean()

    def clean(self) -> None:
        for sub in ("points", "records", "states"):
            if not (self.root / sub).is_dir():
                continue
            for leftover in (self.root / sub).glob(".*"):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed into place)."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as stream:
        stream.write(text)
    os.replace(stream.name, path)


def write_record(path: Path, record: dict) -> None:
    write_text(path, json.dumps(_jsonable(record)) + "\n")


def write_state(path: Path, state: np.ndarray) -> None:
    """The unknown vector as ``.npy``, atomically."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as stream:
        np.save(stream, np.asarray(state, dtype=float))
    os.replace(stream.name, path)


def _canonical(value) -> str:
    return json.dumps(_jsonable(value), sort_keys=True)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
