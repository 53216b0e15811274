"""A worker's mesh, read once and kept across the points of a sweep.

The points of a sweep usually share one mesh (no ``mesh.*`` key varies); a
loop of separate runs reads it at every point (``cases/nanopore.toml``: 0.3 s
of a 2 s point to read the Gmsh file and find its facets, 0.05 s more for the
facet-element adjacency the checks need).  A worker process keeps the last
mesh it loaded, keyed by

- the ``[mesh]`` table as the case gives it (``repr`` of the whole
  :class:`~femflux.case.MeshSpec`: ``file``, ``generate``, ``scale``,
  ``axisymmetric``, ``symmetry``; :func:`femflux.mesh.load_mesh` reads
  nothing else of the case), and
- for a file, its resolved path, size, modification time (ns) and inode,

and gives each point a deep copy of it: a point may do with its mesh
whatever a separate run does with its own (skfem fills its lazy caches,
femflux drops them), and the next point still starts from the mesh as read.
A changed key (a varied ``mesh.*`` value, a rewritten file) reads the mesh
anew; only one mesh is kept (per worker process, shared by its threads
under a lock), and workers that outlive the sweep (a running scheduler's)
drop it at its end.  Nothing derived from the case's other keys is
kept, so a point equals a separate ``femflux run`` of it bit for bit.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path

from ..mesh import FemMesh, load_mesh

_kept: tuple[tuple, FemMesh] | None = None
_lock = threading.Lock()  # a worker of several threads runs points at once


def mesh_key(spec) -> tuple | None:
    """What identifies the mesh ``spec`` loads (None: a file that cannot be
    stat'ed, which is then loaded, and fails, as in a separate run)."""
    if spec.file is None:
        return (repr(spec),)
    try:
        path = Path(spec.file).resolve()
        stat = path.stat()
    except OSError:
        return None
    return (repr(spec), str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_dev)


def point_mesh(spec) -> tuple[FemMesh, bool]:
    """The mesh of ``spec`` for one point and whether it is a copy of the kept
    one (its key unchanged), else read (and kept); raises what
    :func:`~femflux.mesh.load_mesh` raises."""
    global _kept
    key = mesh_key(spec)
    if key is None:
        return load_mesh(spec), False
    with _lock:
        entry = _kept
        kept = entry is not None and entry[0] == key
        if not kept:
            _kept = entry = None  # free the old mesh before reading the new one
            fem_mesh = load_mesh(spec)
            fem_mesh.mesh.f2t  # noqa: B018 - skfem's lazy adjacency, built once for every copy
            _kept = entry = (key, fem_mesh)
        return copy.deepcopy(entry[1]), kept


def forget() -> None:
    """Drop the kept mesh (a sweep on a running scheduler's workers, which
    outlive it, ends with this)."""
    global _kept
    with _lock:
        _kept = None
