"""Pictures and animations of femflux results and meshes.

Public functions
----------------
- :func:`plot_result` -- a picture of a results folder, a ``.vtu`` file or a
  PyVista dataset (PyVista for 2D and 3D, matplotlib for 1D).
- :func:`plot_mesh` -- the named boundaries and regions of a mesh, one colour
  each, so that users can check their tags.
- :func:`animate` -- a GIF (or MP4) of a transient series.
- :func:`plot_history` -- line graphs of a transient run's history columns
  (``boundaries.cathode.current`` against ``t`` or another column).
- :func:`to_pyvista` -- a scikit-fem mesh (or :class:`femflux.mesh.FemMesh`)
  with point and cell data as a :class:`pyvista.UnstructuredGrid` (from
  :mod:`femflux.results.vtk`, the conversion the results files use).
- :func:`field_unit` -- the SI unit of a result field.
- :func:`tag_colors` -- the colours :func:`plot_mesh` gives to each tag.

PyVista, VTK and matplotlib are imported inside the functions so that
``import femflux`` stays fast.  Pictures are rendered off-screen whenever a
file is written or no display is available.

Modules
-------
- :mod:`.loading` -- results folders, VTK files, series and mesh sources.
- :mod:`.fields` -- field names, units, kinds and scalar values.
- :mod:`.view` -- options and what stays fixed across frames (``_View``).
- :mod:`.colors` -- colour maps and categorical tag colours.
- :mod:`.camera` -- camera directions and fitting a box into the picture.
- :mod:`.arrows` -- arrows of flux fields.
- :mod:`.annotations` -- text, colour bar and labels.
- :mod:`.drawing` -- one 2D/3D frame into a plotter.
- :mod:`.lines` -- 1D line graphs (matplotlib).
- :mod:`.render` -- plotters, off-screen rendering, writing pictures.
- :mod:`.pictures` -- :func:`plot_result`.
- :mod:`.mesh_pictures` -- :func:`plot_mesh`.
- :mod:`.animation` -- :func:`animate`.
- :mod:`.history` -- :func:`plot_history`.
"""

from femflux.results.vtk import to_pyvista

from .animation import animate
from .colors import tag_colors
from .fields import field_unit
from .history import plot_history
from .mesh_pictures import plot_mesh
from .pictures import plot_result

__all__ = ["animate", "field_unit", "plot_history", "plot_mesh", "plot_result", "tag_colors",
           "to_pyvista"]
