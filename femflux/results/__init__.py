"""The results of a run (SPEC section 3): fields, summary, and the results folder.

- :mod:`.result` -- ``Result`` and ``Frame``; ``Result.save``, ``Result.plot``.
- :mod:`.writers` -- the results folder: where it may be written
  (``check_target``), the atomic swap (``write_folder``), ``write_vtu``,
  ``write_pvd``, ``summary.json``.
- :mod:`.case_toml` -- ``dump_toml``, the writer of ``case.toml``.
- :mod:`.history` -- the history of a transient run as a table:
  ``history.csv``, ``Result.history``, the units of its columns.
- :mod:`.vtk` -- ``to_meshio`` and ``to_pyvista``, the one conversion of a
  mesh and its fields to VTK (files and pictures both use it).
"""

from .case_toml import dump_toml
from .history import as_table, columns, unit
from .result import Frame, Result
from .vtk import to_meshio, to_pyvista
from .writers import write_folder, write_pvd, write_vtu

__all__ = ["Frame", "Result", "as_table", "columns", "dump_toml", "to_meshio", "to_pyvista",
           "unit", "write_folder", "write_pvd", "write_vtu"]
