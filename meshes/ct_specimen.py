"""A quarter of a 1T compact-tension (CT) steel specimen with a blunted crack tip, 3D.

Coordinates in millimetres (use ``scale = 1e-3``).  ASTM E399/E1820
proportions with W = 50 mm: the specimen spans x = -0.25 W (front face) to
x = W (back face), the load line (pin-hole centres) is x = 0, the overall
height is 1.2 W and the thickness B = 0.5 W = 25 mm; the pin holes have a
diameter 0.25 W with centres at y = +-0.275 W.  The notch enters from the front
face along y = 0: a machined slot 3 mm wide up to x = 18 mm, a 60 degree
chamfer, then a slit of half-width rho (the fatigue pre-crack, idealised as
blunted) ending in a semicircular crack tip of radius rho = 0.15 mm at
x = a = 0.5 W = 25 mm.

By symmetry only a quarter is meshed: y >= 0 (crack plane y = 0) and
0 <= z <= B/2 (mid-thickness plane z = 0).  The mesh is swept: the (x, y)
profile is meshed with triangles of 0.01 mm at the crack tip (rho/15) growing
to 3 mm 20 mm away, then extruded through the half-thickness in 4 layers that
thin geometrically from 7.7 mm at the mid-plane to 0.5 mm at the free face
(where the stress state leaves plane strain), each prism cut into 3
tetrahedra: 38,232 tetrahedra, 8,465 nodes.  A swept mesh resolves the steep
in-plane gradients at the tip without the millions of tetrahedra an isotropic
0.01 mm mesh along a 12.5 mm crack front would take; fields that do not vary
with z are reproduced exactly by the 2D profile's P1 interpolation.

Run ``python meshes/ct_specimen.py`` to regenerate ``meshes/ct_specimen.msh``
(MSH 2.2 ASCII, built-in kernel, one thread, deterministic);
``build(path, size_tip=..., layers=...)`` writes coarser or finer variants
(the case test runs on a coarse one).

Named groups
------------
region ``steel``
``pin``          upper half of the pin hole (y >= 0.275 W): the loading pin bears on it
``hole``         lower half of the pin hole (free)
``tip``          the semicircular crack-tip surface (radius rho)
``notch``        the notch flanks: slot, chamfer and slit (free)
``symmetry_y``   the uncracked ligament on the crack plane y = 0, a <= x <= W
``symmetry_z``   the mid-thickness plane z = 0
``outer``        the free outer faces: front (x = -0.25 W), back (x = W), top
                 (y = 0.6 W) and side (z = B/2)
"""

import math
from pathlib import Path

import gmsh

W = 50.0  # mm, width (load line to back face)
B = 0.5 * W  # thickness
A = 0.5 * W  # crack length from the load line, a/W = 0.5
RHO = 0.15  # crack-tip radius
X_FRONT, HALF_HEIGHT = -0.25 * W, 0.6 * W
HOLE_Y, HOLE_R = 0.275 * W, 0.125 * W
SLOT_HALF_WIDTH, SLOT_END = 1.5, 18.0  # machined slot; then a 60 degree chamfer
SIZE_TIP, SIZE_HOLE, SIZE_FAR = 0.01, 1.0, 3.0
LAYERS, LAYER_RATIO = 4, 0.4  # half-thickness layers, each this fraction of the previous
OUTPUT = Path(__file__).with_suffix(".msh")


def layer_heights(layers: int, ratio: float) -> list[float]:
    """Cumulative layer heights (fractions of B/2), thinning towards the free face."""
    thickness = [ratio**k for k in range(layers)]
    total = sum(thickness)
    return [sum(thickness[: k + 1]) / total for k in range(layers)]


def build(path: Path = OUTPUT, size_tip: float = SIZE_TIP, size_far: float = SIZE_FAR,
          layers: int = LAYERS, layer_ratio: float = LAYER_RATIO) -> Path:
    """Mesh the quarter specimen and write it to ``path`` (MSH 2.2); sizes in mm."""
    gmsh.initialize(readConfigFiles=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.model.add("ct_specimen")
        geo = gmsh.model.geo
        chamfer_end = SLOT_END + (SLOT_HALF_WIDTH - RHO) / math.tan(math.radians(30.0))
        tip = geo.addPoint(A, 0.0, 0.0)
        tip_centre = geo.addPoint(A - RHO, 0.0, 0.0)
        corners = [geo.addPoint(x, y, 0.0) for x, y in [
            (W, 0.0), (W, HALF_HEIGHT), (X_FRONT, HALF_HEIGHT), (X_FRONT, SLOT_HALF_WIDTH),
            (SLOT_END, SLOT_HALF_WIDTH), (chamfer_end, RHO), (A - RHO, RHO)]]
        ring = [tip, *corners]
        curves = {}
        names = ["symmetry_y", "outer", "outer", "outer", "notch", "notch", "notch"]
        for k, name in enumerate(names):
            curves.setdefault(name, []).append(geo.addLine(ring[k], ring[k + 1]))
        curves["tip"] = [geo.addCircleArc(ring[-1], tip_centre, tip)]
        loop = geo.addCurveLoop([c for name in ("symmetry_y", "outer", "notch", "tip")
                                 for c in curves[name]])
        centre = geo.addPoint(0.0, HOLE_Y, 0.0)
        east, north, west, south = [geo.addPoint(HOLE_R * dx, HOLE_Y + HOLE_R * dy, 0.0)
                                    for dx, dy in [(1, 0), (0, 1), (-1, 0), (0, -1)]]
        curves["pin"] = [geo.addCircleArc(east, centre, north),
                         geo.addCircleArc(north, centre, west)]
        curves["hole"] = [geo.addCircleArc(west, centre, south),
                          geo.addCircleArc(south, centre, east)]
        hole = geo.addCurveLoop(curves["pin"] + curves["hole"])
        profile = geo.addPlaneSurface([loop, hole])
        heights = layer_heights(layers, layer_ratio)
        out = geo.extrude([(2, profile)], 0.0, 0.0, B / 2, numElements=[1] * layers,
                          heights=heights)
        geo.synchronize()
        # extrude returns the top face, the volume, then one lateral face per
        # profile curve in the order of the curve loops
        top, volume, lateral = out[0][1], out[1][1], [tag for _, tag in out[2:]]
        order = [c for name in ("symmetry_y", "outer", "notch", "tip") for c in curves[name]]
        order += curves["pin"] + curves["hole"]
        face_of = dict(zip(order, lateral, strict=True))
        groups = {name: [face_of[c] for c in cs] for name, cs in curves.items()}
        groups["outer"].append(top)
        groups["symmetry_z"] = [profile]
        for name in ("pin", "hole", "tip", "notch", "symmetry_y", "symmetry_z", "outer"):
            gmsh.model.addPhysicalGroup(2, groups[name], name=name)
        gmsh.model.addPhysicalGroup(3, [volume], name="steel")

        field = gmsh.model.mesh.field
        to_tip = field.add("Distance")
        field.setNumbers(to_tip, "CurvesList", curves["tip"])
        field.setNumber(to_tip, "Sampling", 100)
        near_tip = field.add("Threshold")
        field.setNumber(near_tip, "InField", to_tip)
        field.setNumber(near_tip, "SizeMin", size_tip)
        field.setNumber(near_tip, "SizeMax", size_far)
        field.setNumber(near_tip, "DistMin", 0.05)
        field.setNumber(near_tip, "DistMax", 20.0)
        to_hole = field.add("Distance")
        field.setNumbers(to_hole, "CurvesList", curves["pin"] + curves["hole"])
        field.setNumber(to_hole, "Sampling", 100)
        near_hole = field.add("Threshold")
        field.setNumber(near_hole, "InField", to_hole)
        field.setNumber(near_hole, "SizeMin", min(SIZE_HOLE, size_far))
        field.setNumber(near_hole, "SizeMax", size_far)
        field.setNumber(near_hole, "DistMin", 0.0)
        field.setNumber(near_hole, "DistMax", 5.0)
        smallest = field.add("Min")
        field.setNumbers(smallest, "FieldsList", [near_tip, near_hole])
        field.setAsBackgroundMesh(smallest)
        for key in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
            gmsh.option.setNumber(f"Mesh.{key}", 0)
        gmsh.model.mesh.generate(3)
        gmsh.option.setNumber("Mesh.SaveAll", 0)
        gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()
    return Path(path)


if __name__ == "__main__":
    build()
