"""The results of a run: ``Result`` (point and cell fields on the mesh, the
summary, the frames of a transient run) and ``Frame``; ``Result.save`` writes
the results folder (see :mod:`femflux.results.writers`) and ``Result.plot``
draws it (with :mod:`femflux.plot`, imported when called).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from femflux.case import Case
from femflux.mesh import FemMesh

from .history import as_table
from .vtk import to_pyvista
from .writers import write_folder


@dataclass
class Frame:
    """One written state of a transient run."""

    t: float
    point_data: dict[str, np.ndarray]
    cell_data: dict[str, np.ndarray]


@dataclass
class Result:
    """A solved case: point fields on the mesh vertices, cell fields, summary.

    ``fields[name]`` is an array over ``mesh.mesh.p`` (vertices); vectors and
    tensors have shape (nvertices, 3) and (nvertices, 9).
    """

    case: Case
    mesh: FemMesh
    fields: dict[str, np.ndarray]
    cell_fields: dict[str, np.ndarray]
    summary: dict
    series: list[Frame] = field(default_factory=list)
    #: the solver's unknown vector of the final state: ``femflux.solve(case,
    #: initial=result.state)`` starts another solve of the same model from it
    state: np.ndarray | None = None
    #: transient runs: the final checkpoint (:mod:`femflux.results.checkpoint`),
    #: saved as ``restart.npz``; None without checkpoints
    restart: dict | None = None

    @property
    def history(self):
        """The time-resolved observables (transient runs) as a table: columns
        named by their dotted paths (``boundaries.cathode.current``), SI
        units; a pandas DataFrame when pandas is installed, else a dict of
        numpy arrays (:mod:`femflux.results.history`)."""
        return as_table(self.summary.get("history", []))

    @property
    def converged(self) -> bool:
        return bool(self.summary.get("converged", False))

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the results folder of SPEC section 3 atomically; return its path.

        ``directory`` must be a new folder, an empty one or a femflux results
        folder holding nothing femflux did not write (an earlier run's, which
        is then replaced as a whole); anything else raises a CaseError naming
        it.  A full disk or a file-size limit raises a WriteError (a
        SolverError) and leaves the previous results as they were.  See
        :mod:`femflux.results.writers`.
        """
        return write_folder(self, directory)

    def plot(self, field: str | None = None, **options):
        """A PyVista plotter of ``field`` (off-screen when there is no display)."""
        from femflux.plot import plot_result

        options.setdefault("summary", self.summary)
        return plot_result(self.to_pyvista(), field=field, **options)

    def to_pyvista(self):
        """The final state as a ``pyvista.UnstructuredGrid``."""
        return to_pyvista(self.mesh, self.fields, self.cell_fields)
