"""Glass nanopipette tip in a bath, axisymmetric (x = r >= 0, y = z).

Coordinates in nanometres (use ``scale = 1e-9`` and ``axisymmetric = true``).
The conical pipette interior (tip opening radius 50 nm, 7 degree half-angle,
4 um long) opens at z = 0 into a bath 5 um wide and 5 um deep below the tip;
the glass wall (outer radius 1.6 times the inner one) is a hole in the mesh.
Elements are 4 nm at the tip and grow linearly with the distance from it;
inside the pipette they are at most 0.15 times the local inner radius.
Run ``python meshes/pipette_tip.py`` to regenerate ``meshes/pipette_tip.msh``
(MSH 2.2 ASCII, deterministic: built-in kernel, one thread).

Named groups
------------
regions ``pipette`` (the cone interior) and ``bath``
``axis``         r = 0, in the pipette and in the bath
``pipette_top``  z = 4 um, across the pipette interior (the far reservoir)
``bath_far``     the far bath: r = 5 um, z = -5 um and the bath top z = 4 um
``glass``        inner wall, outer wall and the annular tip face
"""

import math
from pathlib import Path

import gmsh

TIP_RADIUS = 50.0  # nm, inner radius of the opening
HALF_ANGLE = math.radians(7.0)
LENGTH = 4000.0  # nm, pipette length above the tip
WALL_RATIO = 1.6  # outer / inner glass radius
BATH_RADIUS = 5000.0  # nm
BATH_DEPTH = 5000.0  # nm below the tip
SIZE_TIP = 4.0  # nm
SIZE_GROWTH = 0.04  # element size increase per nm of distance from the tip
SIZE_MAX = 300.0  # nm
SIZE_PER_RADIUS = 0.15  # inside the pipette: element size / local inner radius
OUTPUT = Path(__file__).with_suffix(".msh")


def inner_radius(z: float) -> float:
    return TIP_RADIUS + z * math.tan(HALF_ANGLE)


def build_geometry() -> dict[str, list[int]]:
    """Points, lines and the two surfaces; returns the curve tags of each named group."""
    geo = gmsh.model.geo
    p = {
        "bath_bottom_axis": geo.addPoint(0.0, -BATH_DEPTH, 0.0),
        "bath_bottom_far": geo.addPoint(BATH_RADIUS, -BATH_DEPTH, 0.0),
        "bath_top_far": geo.addPoint(BATH_RADIUS, LENGTH, 0.0),
        "glass_top_outer": geo.addPoint(WALL_RATIO * inner_radius(LENGTH), LENGTH, 0.0),
        "tip_outer": geo.addPoint(WALL_RATIO * TIP_RADIUS, 0.0, 0.0),
        "tip_inner": geo.addPoint(TIP_RADIUS, 0.0, 0.0),
        "tip_axis": geo.addPoint(0.0, 0.0, 0.0),
        "glass_top_inner": geo.addPoint(inner_radius(LENGTH), LENGTH, 0.0),
        "top_axis": geo.addPoint(0.0, LENGTH, 0.0),
    }

    def line(a: str, b: str) -> int:
        return geo.addLine(p[a], p[b])

    bath_bottom = line("bath_bottom_axis", "bath_bottom_far")
    bath_side = line("bath_bottom_far", "bath_top_far")
    bath_top = line("bath_top_far", "glass_top_outer")
    outer_wall = line("glass_top_outer", "tip_outer")
    tip_face = line("tip_outer", "tip_inner")
    opening = line("tip_inner", "tip_axis")  # interior: pipette | bath
    bath_axis = line("tip_axis", "bath_bottom_axis")
    inner_wall = line("tip_inner", "glass_top_inner")
    top = line("glass_top_inner", "top_axis")
    pipette_axis = line("top_axis", "tip_axis")

    bath_loop = geo.addCurveLoop(
        [bath_bottom, bath_side, bath_top, outer_wall, tip_face, opening, bath_axis]
    )
    pipette_loop = geo.addCurveLoop([-opening, inner_wall, top, pipette_axis])
    bath = geo.addPlaneSurface([bath_loop])
    pipette = geo.addPlaneSurface([pipette_loop])
    geo.synchronize()
    gmsh.model.addPhysicalGroup(2, [pipette], name="pipette")
    gmsh.model.addPhysicalGroup(2, [bath], name="bath")
    return {
        "axis": [bath_axis, pipette_axis],
        "pipette_top": [top],
        "bath_far": [bath_bottom, bath_side, bath_top],
        "glass": [inner_wall, outer_wall, tip_face],
        "_tip": [tip_face, opening],
        "_pipette_curves": [inner_wall, top, pipette_axis],
        "_pipette_surface": [pipette],
    }


def set_sizes(curves: dict[str, list[int]]) -> None:
    """Size = SIZE_TIP + SIZE_GROWTH * (distance from the tip), at most SIZE_MAX,
    and at most SIZE_PER_RADIUS * inner radius inside the pipette."""
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "CurvesList", curves["_tip"])
    field.setNumber(distance, "Sampling", 50)
    tip = field.add("MathEval")
    field.setString(tip, "F", f"Min({SIZE_TIP} + {SIZE_GROWTH} * F{distance}, {SIZE_MAX})")
    cone = field.add("MathEval")
    field.setString(cone, "F", f"{SIZE_PER_RADIUS} * ({TIP_RADIUS} + y * {math.tan(HALF_ANGLE)!r})")
    inside = field.add("Restrict")
    field.setNumber(inside, "InField", cone)
    field.setNumbers(inside, "SurfacesList", curves["_pipette_surface"])
    field.setNumbers(inside, "CurvesList", curves["_pipette_curves"])
    size = field.add("Min")
    field.setNumbers(size, "FieldsList", [tip, inside])
    field.setAsBackgroundMesh(size)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add("pipette_tip")
    curves = build_geometry()
    for name, tags in curves.items():
        if not name.startswith("_"):
            gmsh.model.addPhysicalGroup(1, tags, name=name)
    set_sizes(curves)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay
    gmsh.model.mesh.generate(2)
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.write(str(OUTPUT))
    gmsh.finalize()


if __name__ == "__main__":
    main()
