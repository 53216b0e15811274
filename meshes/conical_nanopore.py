"""Conical nanopore through a 1 um membrane, axisymmetric (x = r >= 0, y = z).

Coordinates in nanometres (use ``scale = 1e-9`` and ``axisymmetric = true``).
The pore narrows from a base radius of 100 nm at the top membrane face
(z = 1000) to a tip radius of 5 nm at the bottom face (z = 0); the membrane
itself is a hole in the mesh.  The reservoirs are the rectangles
0 <= r <= 1000, -1000 <= z <= 0 (below the tip) and 0 <= r <= 1000,
1000 <= z <= 2000 (above the base).  Element sizes: 0.5 nm at the tip (the rim
r = 5, z = 0 and the tip mouth), growing by 0.05 nm per nm of distance from it;
2 nm along the cone wall, growing by 0.05 nm per nm of distance from the wall;
inside the pore at most 0.2 times the local pore radius; at most 75 nm.
Run ``python meshes/conical_nanopore.py`` to regenerate
``meshes/conical_nanopore.msh`` (MSH 2.2 ASCII, deterministic: built-in
kernel, one thread).

Named groups
------------
regions ``reservoir_top`` (z > 1000), ``pore`` (the cone, 0 < z < 1000) and
``reservoir_bottom`` (z < 0)
``axis``         r = 0, -1000 <= z <= 2000 (all three regions)
``top``          the far boundary of the upper reservoir: z = 2000 and r = 1000
``bottom``       the far boundary of the lower reservoir: z = -1000 and r = 1000
``pore_wall``    the cone wall from (5, 0) to (100, 1000)
``membrane``     the membrane faces z = 0, 5 <= r <= 1000 and z = 1000, 100 <= r <= 1000
The pore mouths (z = 0, r < 5 and z = 1000, r < 100) are interior lines
between the regions and carry no name.
"""

from pathlib import Path

import gmsh

TIP_RADIUS = 5.0  # nm, pore radius at z = 0
BASE_RADIUS = 100.0  # nm, pore radius at z = THICKNESS
THICKNESS = 1000.0  # nm, membrane thickness
RESERVOIR_RADIUS = 1000.0  # nm
RESERVOIR_DEPTH = 1000.0  # nm, below the tip and above the base
SIZE_TIP = 0.5  # nm, at the tip rim and across the tip mouth
SIZE_WALL = 2.0  # nm, along the cone wall
SIZE_GROWTH = 0.05  # element size increase per nm of distance from the tip / wall
SIZE_PER_RADIUS = 0.2  # inside the pore: element size / local pore radius
SIZE_MAX = 75.0  # nm
OUTPUT = Path(__file__).with_suffix(".msh")


def build_geometry() -> dict[str, list[int]]:
    """Points, lines and the three surfaces; returns the curve tags of each named group."""
    geo = gmsh.model.geo
    top = THICKNESS + RESERVOIR_DEPTH
    p = {
        "bottom_axis": geo.addPoint(0.0, -RESERVOIR_DEPTH, 0.0),
        "bottom_far": geo.addPoint(RESERVOIR_RADIUS, -RESERVOIR_DEPTH, 0.0),
        "membrane_low_far": geo.addPoint(RESERVOIR_RADIUS, 0.0, 0.0),
        "tip_rim": geo.addPoint(TIP_RADIUS, 0.0, 0.0),
        "tip_axis": geo.addPoint(0.0, 0.0, 0.0),
        "base_rim": geo.addPoint(BASE_RADIUS, THICKNESS, 0.0),
        "base_axis": geo.addPoint(0.0, THICKNESS, 0.0),
        "membrane_high_far": geo.addPoint(RESERVOIR_RADIUS, THICKNESS, 0.0),
        "top_far": geo.addPoint(RESERVOIR_RADIUS, top, 0.0),
        "top_axis": geo.addPoint(0.0, top, 0.0),
    }

    def line(a: str, b: str) -> int:
        return geo.addLine(p[a], p[b])

    bottom_end = line("bottom_axis", "bottom_far")
    bottom_side = line("bottom_far", "membrane_low_far")
    membrane_low = line("membrane_low_far", "tip_rim")
    tip_mouth = line("tip_rim", "tip_axis")  # interior: pore | reservoir_bottom
    bottom_axis = line("tip_axis", "bottom_axis")
    wall = line("tip_rim", "base_rim")
    base_mouth = line("base_rim", "base_axis")  # interior: pore | reservoir_top
    pore_axis = line("base_axis", "tip_axis")
    membrane_high = line("base_rim", "membrane_high_far")
    top_side = line("membrane_high_far", "top_far")
    top_end = line("top_far", "top_axis")
    top_axis = line("top_axis", "base_axis")

    loops = {
        "reservoir_bottom": [bottom_end, bottom_side, membrane_low, tip_mouth, bottom_axis],
        "pore": [-tip_mouth, wall, base_mouth, pore_axis],
        "reservoir_top": [-base_mouth, membrane_high, top_side, top_end, top_axis],
    }
    surfaces = {name: geo.addPlaneSurface([geo.addCurveLoop(c)]) for name, c in loops.items()}
    geo.synchronize()
    for name in ("reservoir_top", "pore", "reservoir_bottom"):
        gmsh.model.addPhysicalGroup(2, [surfaces[name]], name=name)
    return {
        "axis": [bottom_axis, pore_axis, top_axis],
        "top": [top_side, top_end],
        "bottom": [bottom_end, bottom_side],
        "pore_wall": [wall],
        "membrane": [membrane_low, membrane_high],
        "_tip_mouth": [tip_mouth],
        "_tip_rim": [p["tip_rim"]],
        "_pore_curves": [tip_mouth, wall, base_mouth, pore_axis],
        "_pore_surface": [surfaces["pore"]],
    }


def set_sizes(tags: dict[str, list[int]]) -> None:
    """Min of: SIZE_TIP + SIZE_GROWTH * (distance from the tip), SIZE_WALL +
    SIZE_GROWTH * (distance from the cone wall), SIZE_MAX, and inside the pore
    SIZE_PER_RADIUS * local pore radius."""
    field = gmsh.model.mesh.field
    tip_distance = field.add("Distance")
    field.setNumbers(tip_distance, "PointsList", tags["_tip_rim"])
    field.setNumbers(tip_distance, "CurvesList", tags["_tip_mouth"])
    field.setNumber(tip_distance, "Sampling", 50)
    wall_distance = field.add("Distance")
    field.setNumbers(wall_distance, "CurvesList", tags["pore_wall"])
    field.setNumber(wall_distance, "Sampling", 4000)  # 0.25 nm apart
    graded = field.add("MathEval")
    tip = f"{SIZE_TIP!r} + {SIZE_GROWTH!r} * F{tip_distance}"
    wall = f"{SIZE_WALL!r} + {SIZE_GROWTH!r} * F{wall_distance}"
    field.setString(graded, "F", f"Min(Min({tip}, {wall}), {SIZE_MAX!r})")
    slope = (BASE_RADIUS - TIP_RADIUS) / THICKNESS
    cone = field.add("MathEval")
    field.setString(cone, "F", f"{SIZE_PER_RADIUS!r} * ({TIP_RADIUS!r} + {slope!r} * y)")
    inside = field.add("Restrict")
    field.setNumber(inside, "InField", cone)
    field.setNumbers(inside, "SurfacesList", tags["_pore_surface"])
    field.setNumbers(inside, "CurvesList", tags["_pore_curves"])
    size = field.add("Min")
    field.setNumbers(size, "FieldsList", [graded, inside])
    field.setAsBackgroundMesh(size)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add("conical_nanopore")
    tags = build_geometry()
    for name, curves in tags.items():
        if not name.startswith("_"):
            gmsh.model.addPhysicalGroup(1, curves, name=name)
    set_sizes(tags)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay
    gmsh.model.mesh.generate(2)
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.write(str(OUTPUT))
    gmsh.finalize()


if __name__ == "__main__":
    main()
