"""Half of a divertor monoblock (ITER-like), 2D cross-section (x, y).

Coordinates in millimetres (use ``scale = 1e-3``).  A tungsten block 28 mm
wide and 28 mm high, centred on a cooling pipe of CuCrZr (inner radius 6 mm,
outer 7.5 mm) with a 1 mm pure-copper interlayer (7.5 to 8.5 mm); the
plasma-facing surface is the top y = 14 mm.  By symmetry only x >= 0 is
meshed.  Elements are 0.15 mm at the plasma-facing surface and at the
interfaces and grow to 1 mm in the block.  Run ``python meshes/monoblock.py``
to regenerate ``meshes/monoblock.msh`` (MSH 2.2 ASCII, OpenCASCADE kernel,
one thread).

Named groups
------------
regions ``W``, ``Cu``, ``CuCrZr``
``plasma``     the top y = 14 mm (plasma-facing)
``coolant``    the pipe's inner wall r = 6 mm
``symmetry``   x = 0 (the block's, interlayer's and pipe's halves)
``sides``      x = 14 mm and y = -14 mm (the other faces of the block)
"""

from pathlib import Path

import gmsh
from gmsh_sizes import mesh_by_field, size_near

HALF = 14.0  # mm, half the block's width and height
R_PIPE, R_CUCRZR, R_CU = 6.0, 7.5, 8.5  # mm: coolant wall, pipe, interlayer
SIZE_FINE, SIZE_FAR = 0.15, 1.0  # mm
OUTPUT = Path(__file__).with_suffix(".msh")


def main() -> None:
    gmsh.initialize(["-nt", "1"])
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("monoblock")
    occ = gmsh.model.occ
    block = occ.addRectangle(0.0, -HALF, 0.0, HALF, 2 * HALF)
    disks = [occ.addDisk(0.0, 0.0, 0.0, r, r) for r in (R_PIPE, R_CUCRZR, R_CU)]
    half = occ.addRectangle(0.0, -HALF, 0.0, HALF, 2 * HALF)
    hole, pipe, interlayer = (occ.intersect([(2, d)], [(2, half)], removeTool=k == 2)[0][0][1]
                              for k, d in enumerate(disks))
    occ.synchronize()
    # W = block - interlayer disk; Cu = interlayer - pipe disk; CuCrZr = pipe - hole
    w = occ.cut([(2, block)], [(2, interlayer)], removeTool=False)[0][0][1]
    cu = occ.cut([(2, interlayer)], [(2, pipe)], removeTool=False)[0][0][1]
    cucrzr = occ.cut([(2, pipe)], [(2, hole)])[0][0][1]
    occ.fragment([(2, w), (2, cu), (2, cucrzr)], [])
    occ.synchronize()
    surfaces = {"W": [], "Cu": [], "CuCrZr": []}
    for _, tag in gmsh.model.getEntities(2):  # by the largest x each reaches
        reach = gmsh.model.getBoundingBox(2, tag)[3]
        name = "W" if reach > R_CU + 1.0 else ("Cu" if reach > R_CUCRZR + 0.5 else "CuCrZr")
        surfaces[name].append(tag)
    curves = {"plasma": [], "coolant": [], "symmetry": [], "sides": []}
    eps = 1e-6
    for _, tag in gmsh.model.getEntities(1):
        xmin, ymin, _, xmax, ymax, _ = gmsh.model.getBoundingBox(1, tag)
        if abs(ymin - HALF) < eps and abs(ymax - HALF) < eps:
            curves["plasma"].append(tag)
        elif xmax < eps:
            curves["symmetry"].append(tag)
        elif abs(xmin - HALF) < eps or abs(ymax + HALF) < eps:
            curves["sides"].append(tag)
        elif max(abs(xmax), abs(ymin), abs(ymax)) <= R_PIPE + eps:
            curves["coolant"].append(tag)
    for name, tags in curves.items():
        gmsh.model.setPhysicalName(1, gmsh.model.addPhysicalGroup(1, tags), name)
    for name, tags in surfaces.items():
        gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, tags), name)
    interfaces = [tag for _, tag in gmsh.model.getEntities(1)
                  if tag not in curves["symmetry"] + curves["sides"]]
    mesh_by_field(size_near(interfaces, SIZE_FINE, SIZE_FAR, 0.3, 5.0), 2, OUTPUT)
    gmsh.finalize()


if __name__ == "__main__":
    main()
