"""Checkpoints of transient runs (SPEC 6, Restart): what ``femflux run CASE
--restart DIR`` continues from.

A checkpoint is one ``.npz`` file (numpy arrays, no pickles) holding
everything a run needs to continue bit for bit: the stepper's state (time,
next step, the last three states for BDF2 and the predictor, their stored
amounts), the counters, the history rows, the states of the frames written
so far (``step_NNNNN.vtu`` / ``series.pvd``) and a fingerprint of the case
(model, species, unknowns, mesh) that a restart must match.

Where (``DIR`` = the results folder the run writes, its ``--out``):

- while a run is under way, every ``[output] checkpoint_every`` seconds of
  wall time, in ``.DIR.checkpoint/checkpoint.npz`` beside ``DIR`` (e.g.
  ``results/.slab.checkpoint/`` for ``results/slab``), written to a
  temporary file in that folder and renamed over the previous one
  (``os.replace``), so a kill at any moment leaves the previous checkpoint
  or the new one; SIGINT and SIGTERM write one more at the last accepted
  step before the command exits;
- when the run ends (solved, or failed with exit 3) its results folder holds
  the final one as ``DIR/restart.npz``, and ``.DIR.checkpoint`` is removed.

``--restart DIR`` reads ``.DIR.checkpoint/checkpoint.npz`` when it exists (a
killed run), else ``DIR/restart.npz`` (a finished or failed run: with a later
``solver.t_end`` the run is extended).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from femflux.errors import CaseError, clip

FORMAT = 1
FILE = "checkpoint.npz"
RESTART_FILE = "restart.npz"


def folder_for(target: Path) -> Path:
    """The checkpoint folder of the results folder ``target``: ``.NAME.checkpoint`` beside it."""
    return target.parent / f".{target.name}.checkpoint"


def fingerprint(model) -> dict:
    """What a checkpoint's case and the restarting case must share: the model
    kind, the species (in order), the number of unknowns and the mesh (a
    hash of its coordinates and cells)."""
    mesh = model.fem_mesh.mesh
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(mesh.p, dtype=float), np.ascontiguousarray(mesh.t)):
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return {"model": model.case.model.kind,
            "species": [s.name for s in model.case.species],
            "dofs": int(model.n),
            "mesh": f"{mesh.p.shape[1]} nodes, {mesh.t.shape[1]} cells, "
                    f"sha256 {digest.hexdigest()[:16]}"}


def check_fingerprint(found: dict, expected: dict, source: Path) -> None:
    """CaseError naming the first item where the checkpoint's case differs."""
    for key, what in (("model", "model kind"), ("species", "species"), ("mesh", "mesh"),
                      ("dofs", "number of unknowns")):
        if found.get(key) != expected[key]:
            raise CaseError(f"checkpoint {clip(str(source))} is of another case: its {what} is "
                            f"{clip(str(found.get(key)), 80)}, this case's "
                            f"{clip(str(expected[key]), 80)}")


def encode(payload: dict) -> bytes:
    """The bytes of a checkpoint file (an uncompressed npz)."""
    arrays, meta = {}, {}
    for key, value in payload.items():
        if key == "arrays":
            continue
        meta[key] = value
    for key, value in payload["arrays"].items():
        arrays[key] = np.ascontiguousarray(value)
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=_plain).encode(), dtype=np.uint8)
    stream = io.BytesIO()
    np.savez(stream, **arrays)
    return stream.getvalue()


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} in a checkpoint")


def decode(path: Path) -> dict:
    """A checkpoint file as written by :func:`encode`; CaseError when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError) as exc:
        raise CaseError(f"checkpoint {clip(str(path))} cannot be read: {clip(str(exc), 80)}"
                        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CaseError(f"checkpoint {clip(str(path))} is not a femflux checkpoint "
                        f"(format {FORMAT})")
    meta["arrays"] = arrays
    return meta


def write(folder: Path, payload: dict) -> None:
    """Write ``folder/checkpoint.npz`` atomically (a temporary file in the
    folder, flushed, then renamed over the previous checkpoint)."""
    data = encode(payload)
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{FILE}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, folder / FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    for entry in folder.iterdir():  # temporary files of killed writes
        if entry.name.startswith(f".{FILE}.") and entry.name != Path(temp).name:
            with contextlib.suppress(OSError):
                entry.unlink()


def remove(target: Path) -> None:
    """Remove the checkpoint folder of the results folder ``target``."""
    shutil.rmtree(folder_for(target), ignore_errors=True)


def find(target: Path) -> Path:
    """The checkpoint ``--restart target`` continues from (see the module
    docstring); CaseError when there is none."""
    running = folder_for(target) / FILE
    if running.is_file():
        return running
    final = target / RESTART_FILE
    if final.is_file():
        return final
    raise CaseError(f"--restart {clip(str(target))}: no checkpoint there (neither "
                    f"{clip(str(running))} nor {clip(str(final))}); checkpoints are "
                    "written by transient runs with [output] checkpoint_every > 0")
