"""Half of a steel plate with a blunted (U-shaped) edge notch, 2D (x, y).

Coordinates in millimetres (use ``scale = 1e-3``).  The plate is 20 mm wide
(x) and 40 mm high; by symmetry only y >= 0 is meshed.  The notch enters from
the left edge x = 0 along y = 0: a slot of half-width 0.5 mm ending in a
semicircular root of radius 0.5 mm at x = 5 mm (elastic stress concentration
K_t ~ 1 + 2 sqrt(a/rho) ~ 7).  Elements are 0.04 mm at the notch root and grow
to 1.5 mm far from it.  Run ``python meshes/notched_plate.py`` to regenerate
``meshes/notched_plate.msh`` (MSH 2.2 ASCII, built-in kernel, one thread).

Named groups
------------
region ``plate``
``notch``      the slot flank and the notch root
``symmetry``   the ligament y = 0, 5 mm <= x <= 20 mm
``top``        y = 20 mm (the loaded edge)
``left``, ``right``  the free edges x = 0 (above the slot) and x = 20 mm
"""

from pathlib import Path

import gmsh
from gmsh_sizes import mesh_by_field, size_near

WIDTH, HALF_HEIGHT = 20.0, 20.0  # mm
DEPTH, RADIUS = 5.0, 0.5  # notch depth (root at x = DEPTH) and root radius, mm
SIZE_ROOT, SIZE_FAR = 0.04, 1.5  # mm
OUTPUT = Path(__file__).with_suffix(".msh")


def main() -> None:
    gmsh.initialize(["-nt", "1"])
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("notched_plate")
    geo = gmsh.model.geo
    centre = geo.addPoint(DEPTH - RADIUS, 0.0, 0.0)
    root = geo.addPoint(DEPTH, 0.0, 0.0)
    flank_end = geo.addPoint(DEPTH - RADIUS, RADIUS, 0.0)
    flank_start = geo.addPoint(0.0, RADIUS, 0.0)
    corner_br = geo.addPoint(WIDTH, 0.0, 0.0)
    corner_tr = geo.addPoint(WIDTH, HALF_HEIGHT, 0.0)
    corner_tl = geo.addPoint(0.0, HALF_HEIGHT, 0.0)
    ligament = geo.addLine(root, corner_br)
    right = geo.addLine(corner_br, corner_tr)
    top = geo.addLine(corner_tr, corner_tl)
    left = geo.addLine(corner_tl, flank_start)
    flank = geo.addLine(flank_start, flank_end)
    arc = geo.addCircleArc(flank_end, centre, root)
    loop = geo.addCurveLoop([ligament, right, top, left, flank, arc])
    surface = geo.addPlaneSurface([loop])
    geo.synchronize()
    groups = {"notch": [flank, arc], "symmetry": [ligament], "top": [top], "left": [left],
              "right": [right]}
    for name, curves in groups.items():
        gmsh.model.setPhysicalName(1, gmsh.model.addPhysicalGroup(1, curves), name)
    gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, [surface]), "plate")
    mesh_by_field(size_near([arc], SIZE_ROOT, SIZE_FAR, 0.1, 8.0), 2, OUTPUT)
    gmsh.finalize()


if __name__ == "__main__":
    main()
