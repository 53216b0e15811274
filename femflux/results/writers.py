"""Writing the results folder of SPEC section 3, safely.

``write_folder`` writes ``solution.vtu``, ``series.pvd`` with
``step_NNNNN.vtu``, ``history.csv`` and ``restart.npz`` (transient),
``summary.json`` and ``case.toml`` into a staging folder ``.NAME.partial-XXXXXXXX`` beside the
target and then swaps it into place; ``write_vtu`` and ``write_pvd`` write
one file each.

The rules (README, Results):

- The target is a new folder (its parents are created), an empty folder, or
  a femflux results folder: one whose ``summary.json`` is femflux's (it has
  ``femflux_version``) and which holds nothing but what femflux writes there
  (:func:`is_femflux_file`).  Anything else -- a file, the working directory
  or a folder that contains it, a folder with other files -- is refused with
  a :class:`CaseError` naming the path.  :func:`check_target` checks this
  (and that the folder can be created and written) before a solve.
- The swap is atomic: ``renameat2(RENAME_EXCHANGE)`` on Linux,
  ``renamex_np(RENAME_SWAP)`` on macOS.  Where neither works the old folder
  is moved to ``.NAME.old-XXXXXXXX/x`` and moved back if the new one cannot
  be put in place; after a hard kill the next save restores it.
- SIGINT and SIGTERM (whose Python handlers raise, as KeyboardInterrupt does)
  remove the staging folder; during the swap and the clean-up they wait.
  The debris of a killed save (``.NAME.partial-*``, ``.NAME.old-*`` of that
  target, not locked by a running save) is removed by the next save.
- No space left on the device or a file larger than the file-size limit is
  a :class:`WriteError` (exit 3) with the previous results left as they were.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from femflux.errors import CaseError, WriteError, clip

from .case_toml import dump_toml
from .checkpoint import encode as encode_checkpoint
from .history import write_csv
from .vtk import to_meshio

try:
    import fcntl
except ImportError:  # Windows: no locks; debris of a running save may then be removed
    fcntl = None

if TYPE_CHECKING:
    from femflux.mesh import FemMesh

    from .result import Result

#: the files femflux writes into a results folder (besides step_NNNNN.vtu and pictures)
RESULT_FILES = frozenset({"solution.vtu", "series.pvd", "summary.json", "case.toml",
                          "history.csv", "restart.npz", "solution.pvtu"})
#: a transient step, and the pieces of an MPI run (solution_pNNNN.vtu, step_NNNNN_pNNNN.vtu)
_STEP = re.compile(r"step_\d{5,}\.p?vtu|(solution|step_\d{5,})_p\d{4,}\.vtu")
_PICTURES = ("plot", "history")  # femflux plot's default names besides <field>.png
_COMPONENTS = ("x", "y", "z")
_FIELDS = ("phi", "u", "sigma", "sigma_h", "von_mises", "region")
_STAGING_SUFFIX = 18  # len(".") + len(".partial-") + 8 random characters


# =============================================================================
# Writing
# =============================================================================


def write_folder(result: Result | None, directory: str | os.PathLike, contents=None) -> Path:
    """Write the results folder of ``result`` (see the module docstring); return its path.

    ``contents(staging)``, if given, writes the files instead of ``result``'s
    (an MPI run: every rank writes its pieces into the staging folder)."""
    target = check_target(directory, probe=False)
    with _signals_deferred():
        _remove_debris(target)
    _make_parents(target, directory)
    staging, lock = _new_staging(target, directory)
    try:
        try:
            if contents is None:
                _write_contents(result, staging)
            else:
                contents(staging)
            with _signals_deferred():
                _refuse_foreign(target, directory)  # nothing of the user's came meanwhile
                old = _swap(staging, target)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            raise _write_error(exc, directory) from None
    except BaseException:
        with _signals_deferred():
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _unlock(lock)
    return target


def _write_contents(result: Result, staging: Path) -> None:
    """The files of the results folder, into ``staging``."""
    write_vtu(staging / "solution.vtu", result.mesh, result.fields, result.cell_fields)
    if result.series:
        names = []
        for k, frame in enumerate(result.series):
            name = f"step_{k:05d}.vtu"
            write_vtu(staging / name, result.mesh, frame.point_data, frame.cell_data)
            names.append((frame.t, name))
        write_pvd(staging / "series.pvd", names)
    write_records(staging, result.summary, result.case, getattr(result, "restart", None))


def write_records(staging: Path, summary: dict, case, restart=None) -> None:
    """history.csv (transient), summary.json, case.toml and the final
    checkpoint ``restart`` (restart.npz, when given) into ``staging``."""
    if "history" in summary:
        write_csv(staging / "history.csv", summary["history"])
    (staging / "summary.json").write_text(
        json.dumps(_jsonable(summary), indent=2) + "\n", encoding="utf-8")
    (staging / "case.toml").write_text(dump_toml(case.raw), encoding="utf-8")
    if restart is not None:  # the run's final checkpoint
        (staging / "restart.npz").write_bytes(encode_checkpoint(restart))


def write_vtu(path: Path, fem_mesh: FemMesh, point_data, cell_data) -> None:
    """solution.vtu: coordinates in metres, point and cell data as given."""
    import meshio

    meshio.write(path, to_meshio(fem_mesh, point_data, cell_data), file_format="vtu",
                 binary=True, compression=None)


def write_pvd(path: Path, frames: list[tuple[float, str]]) -> None:
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
             "  <Collection>"]
    lines += [f'    <DataSet timestep="{t:.17g}" group="" part="0" file="{name}"/>'
              for t, name in frames]
    lines += ["  </Collection>", "</VTKFile>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# =============================================================================
# Which folder may be written
# =============================================================================


def check_target(directory, probe: bool = True) -> Path:
    """The resolved results folder ``directory`` if femflux may write it, else a
    CaseError naming it (see the module docstring).

    With ``probe`` the folder's parent is also created and written to (a
    staging folder made and removed again, new parents removed again), so
    that a folder that cannot be created or written -- under ``/proc``, on a
    read-only file system, a name too long -- is reported before a solve.
    """
    shown = _shown(directory)
    try:
        text = os.fspath(directory)
    except TypeError:
        raise CaseError(f"a results folder is a path (got {type(directory).__name__})") from None
    if not isinstance(text, str):
        raise CaseError(f"results folder {shown}: the path must be text, not bytes")
    if "\0" in text:
        raise CaseError(f"results folder {shown}: a path cannot contain NUL")
    if not text.strip():
        raise CaseError("the results folder is an empty path")
    try:
        target = Path(text).expanduser().resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise CaseError(f"results folder {shown}: {_reason(exc)}") from None
    if target == cwd or target in cwd.parents:
        raise CaseError(f"results folder {shown} is the working directory or contains it")
    try:
        for parent in target.parents:
            if parent.exists() and not parent.is_dir():
                raise CaseError(f"results folder {shown}: {parent} is a file")
    except OSError as exc:  # a name too long, a folder that cannot be searched
        raise CaseError(f"results folder {shown}: {_reason(exc)}") from None
    if len(os.fsencode(target.name)) + _STAGING_SUFFIX > 255:
        raise CaseError(f"results folder {shown}: the name is too long for the file system")
    _refuse_foreign(target, directory)
    if probe:
        _probe(target, directory)
    return target


def is_femflux_file(name: str, species=()) -> bool:
    """Whether a results folder's file ``name`` is one femflux writes there:
    ``solution.vtu``, ``series.pvd``, ``step_NNNNN.vtu``, ``summary.json``,
    the parallel files of an MPI run (``solution.pvtu``, ``step_NNNNN.pvtu``
    and their pieces ``solution_pNNNN.vtu``, ``step_NNNNN_pNNNN.vtu``),
    ``case.toml``, ``history.csv``, ``restart.npz``, and the pictures ``femflux plot`` writes
    there by default: ``plot.png``, ``history.png`` and ``<field>.png`` for a
    field of the results (``phi``, ``u``, ``u_x``, ``sigma_xy``,
    ``von_mises``, a species ``S``, ``mu_S``, ``J_S``, ``J_S_x``, ...)."""
    if name in RESULT_FILES or _STEP.fullmatch(name):
        return True
    stem, dot, ext = name.rpartition(".")
    if not dot or ext != "png":
        return False
    if stem in _PICTURES or stem in _FIELDS:
        return True
    base, _, suffix = stem.rpartition("_")
    if base == "u" and suffix in _COMPONENTS:
        return True
    if base == "sigma" and len(suffix) == 2 and set(suffix) <= set(_COMPONENTS):
        return True
    names = set(species)
    if stem in names or (stem.startswith("mu_") and stem[3:] in names):
        return True
    flux = stem[2:] if stem.startswith("J_") else None
    if flux is None:
        return False
    return flux in names or (flux[-2:-1] == "_" and flux[-1] in _COMPONENTS
                             and flux[:-2] in names)


def _refuse_foreign(target: Path, directory) -> None:
    """CaseError unless ``target`` is absent, an empty folder or a femflux
    results folder holding only femflux's files."""
    shown = _shown(directory)
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise CaseError(f"results folder {shown} exists and is a file; choose another folder")
    try:
        entries = list(os.scandir(target))
    except OSError as exc:
        raise CaseError(f"results folder {shown}: cannot be read ({_reason(exc)})") from None
    if not entries:
        return
    summary = _femflux_summary(target / "summary.json")
    if summary is None:
        raise CaseError(f"results folder {shown} exists and is not a femflux results folder "
                        "(no femflux summary.json); choose another folder")
    species = _species(summary)
    for entry in entries:
        regular = entry.is_file(follow_symlinks=False)
        if not regular or not is_femflux_file(entry.name, species):
            what = "file" if regular else "entry"
            raise CaseError(
                f"results folder {shown} holds the {what} {clip(entry.name, 60)!r}, which "
                "femflux did not write; move it away or choose another folder")


def _femflux_summary(path: Path) -> dict | None:
    """The summary.json at ``path`` if it is femflux's (a dict with femflux_version)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return summary if isinstance(summary, dict) and "femflux_version" in summary else None


def _species(summary: dict) -> set[str]:
    """Species names of a summary (its boundary fluxes and region amounts)."""
    names: set[str] = set()
    for section, key in (("boundaries", "flux"), ("regions", "amount")):
        entries = summary.get(section)
        for entry in entries.values() if isinstance(entries, dict) else ():
            values = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(values, dict):
                names.update(str(name) for name in values)
    return names


def _probe(target: Path, directory) -> None:
    """Create the missing parents and a staging folder with a file in it, then
    remove them again: a CaseError if that fails."""
    created = []
    try:
        for parent in reversed(target.parents):
            if not parent.exists():
                parent.mkdir()
                created.append(parent)
        staging, lock = _new_staging(target, directory)
        try:
            (staging / "probe").write_bytes(b"")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            _unlock(lock)
    except OSError as exc:
        raise CaseError(f"results folder {_shown(directory)} cannot be written: "
                        f"{_reason(exc)}") from None
    finally:
        for parent in reversed(created):
            with contextlib.suppress(OSError):
                parent.rmdir()


def _make_parents(target: Path, directory) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CaseError(f"results folder {_shown(directory)} cannot be created: "
                        f"{_reason(exc)}") from None


def _shown(directory) -> str:
    """A path as messages show it: control characters escaped, clipped."""
    try:
        text = os.fspath(directory)
    except TypeError:
        return clip(repr(directory))
    text = text if isinstance(text, str) else os.fsdecode(text)
    return clip(text if text.isprintable() else repr(text)[1:-1])


def _reason(exc: BaseException) -> str:
    """An OSError as a short phrase (its strerror), else the exception's text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return clip(str(exc))


def _write_error(exc: OSError, directory) -> Exception:
    """The femflux error for an OSError met while writing a results folder:
    no space, a file too large or an I/O error -> WriteError (exit 3); a
    path that cannot be written -> CaseError (exit 2)."""
    shown = _shown(directory)
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)):
        return WriteError(f"no space left on the device writing results folder {shown}; "
                          "the previous results are unchanged")
    if code == errno.EFBIG:
        return WriteError(f"file too large writing results folder {shown} (file size "
                          "limit); the previous results are unchanged")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.ENOTDIR,
                errno.ENOENT, errno.ELOOP):
        return CaseError(f"results folder {shown} cannot be written: {_reason(exc)}")
    return WriteError(f"cannot write results folder {shown}: {_reason(exc)}; the previous "
                      "results are unchanged")


# =============================================================================
# Staging, swapping, debris
# =============================================================================


def _new_staging(target: Path, directory) -> tuple[Path, int | None]:
    """A new, locked staging folder ``.NAME.partial-XXXXXXXX`` beside ``target``
    with the permissions of a folder made by mkdir."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        lock = _lock(staging)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, lock


def _debris_pattern(target: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(target.name)}\.(partial|old)-[a-z0-9_]{{8}}")


def _remove_debris(target: Path) -> None:
    """Remove the staging and old folders of ``target`` that killed saves left
    behind (only ``.NAME.partial-XXXXXXXX`` / ``.NAME.old-XXXXXXXX`` folders not
    locked by a running save); when the target itself is missing, an old
    folder's results are put back first."""
    pattern, prefix = _debris_pattern(target), f".{target.name}."
    try:
        entries = [e for e in os.scandir(target.parent) if e.name.startswith(prefix)
                   and pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for entry in sorted(entries, key=lambda e: e.name):
        path = Path(entry.path)
        try:
            lock = _lock(path, wait=False)
        except OSError:  # locked by a running save, or gone
            continue
        try:
            kind = pattern.fullmatch(entry.name).group(1)
            old = path / "x"
            if kind == "old" and not os.path.lexists(target) and old.is_dir():
                with contextlib.suppress(OSError):
                    os.rename(old, target)
            shutil.rmtree(path, ignore_errors=True)
        finally:
            _unlock(lock)


def _swap(staging: Path, target: Path) -> Path | None:
    """Put ``staging`` at ``target``; return the folder that now holds the old
    results (to be removed), or None when there were none."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return None
    if _exchange(staging, target):
        return staging
    # no atomic exchange here: keep the old folder at a known place until the new is in
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    lock = _lock(old)
    try:
        os.rename(target, old / "x")
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old / "x", target)
            raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.rmdir(old)  # empty unless the old results could not be put back
        raise
    finally:
        _unlock(lock)
    return old


_RENAME_EXCHANGE = 2  # Linux renameat2 flag
_RENAME_SWAP = 2  # macOS renamex_np flag
_AT_FDCWD = -100


def _exchange_function():
    """The libc call that swaps two paths atomically, or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux"):
            function = libc.renameat2
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_uint]
            return lambda a, b: function(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)
        if sys.platform == "darwin":
            function = libc.renamex_np
            function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
            return lambda a, b: function(a, b, _RENAME_SWAP)
    except (OSError, AttributeError, TypeError):
        pass
    return None


_EXCHANGE = _exchange_function()


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` atomically; False where the system or the
    file system cannot."""
    if _EXCHANGE is None:
        return False
    ctypes.set_errno(0)
    if _EXCHANGE(os.fsencode(a), os.fsencode(b)) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _lock(path: Path, wait: bool = True) -> int | None:
    """A descriptor holding an exclusive lock on the folder ``path`` (None
    where there are no locks; unlocked where the file system has none);
    BlockingIOError when another process holds it, OSError when it is gone."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise
    except OSError:  # no locks on this file system (ENOLCK, EOPNOTSUPP)
        pass
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM while the body runs (a swap, a clean-up): their
    Python handlers run when it is done, so that an interrupt cannot land
    half-way.  Default and ignored dispositions are left alone, and outside
    the main thread (where Python runs no handlers) nothing is changed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}

    def hold(signum, frame):
        caught.append(signum)

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(signum)
            if callable(handler):
                previous[signum] = signal.signal(signum, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            previous[caught[0]](caught[0], None)
