"""Cylindrical nanopore through a membrane, joining two cylindrical reservoirs (3D).

Coordinates in nanometres (use ``scale = 1e-9``).  The pore (radius 3 nm) runs
along the z axis through a 10 nm thick membrane (-5 <= z <= 5); the membrane
itself is a hole in the mesh.  Reservoirs of radius 25 nm and height 25 nm sit
above and below it, so the domain spans -30 <= z <= 30.  Elements are 0.65 nm
in the pore and within 1 nm of the pore wall and the two pore mouths; beyond,
at distance d from them, the size grows as 0.65 + 4.85 ((d - 1) / 24)^2 nm,
reaching 5.5 nm at d = 25 nm (slow growth keeps the access region near the
mouths fine).  About 65,000 tetrahedra.  Run ``python
meshes/nanopore.py`` to regenerate ``meshes/nanopore.msh`` (MSH 4.1 ASCII,
deterministic: one thread, fixed sizes).

Named groups
------------
regions ``reservoir_top`` (z > 5), ``pore`` (r < 3, -5 < z < 5) and
``reservoir_bottom`` (z < -5)
``top``          z = 30, the upper reservoir end
``bottom``       z = -30, the lower reservoir end
``pore_wall``    r = 3, -5 <= z <= 5
``membrane``     the two annular membrane faces z = +-5, 3 <= r <= 25
``outer``        r = 25, the reservoir side walls
The pore mouths (z = +-5, r < 3) are interior faces between the regions and
carry no name.
"""

from pathlib import Path

import gmsh

PORE_RADIUS = 3.0  # nm
MEMBRANE_THICKNESS = 10.0  # nm, the membrane spans -5 <= z <= 5
RESERVOIR_RADIUS = 25.0  # nm
RESERVOIR_HEIGHT = 25.0  # nm, above and below the membrane
SIZE_PORE = 0.65  # nm, in the pore, on its wall and at the mouths
SIZE_FAR = 5.5  # nm, far from the pore
DIST_FINE = 1.0  # nm from the pore wall and mouths: still SIZE_PORE
DIST_COARSE = 25.0  # nm from the pore wall and mouths: SIZE_FAR
OUTPUT = Path(__file__).with_suffix(".msh")

HALF = MEMBRANE_THICKNESS / 2
TOP = HALF + RESERVOIR_HEIGHT


def build_geometry() -> dict[str, int]:
    """Three coaxial cylinders fragmented into one conforming model; returns the volume tags."""
    occ = gmsh.model.occ
    bottom = occ.addCylinder(0, 0, -TOP, 0, 0, RESERVOIR_HEIGHT, RESERVOIR_RADIUS)
    pore = occ.addCylinder(0, 0, -HALF, 0, 0, MEMBRANE_THICKNESS, PORE_RADIUS)
    top = occ.addCylinder(0, 0, HALF, 0, 0, RESERVOIR_HEIGHT, RESERVOIR_RADIUS)
    occ.fragment([(3, bottom), (3, pore), (3, top)], [])
    occ.synchronize()
    volumes = {}
    for _, tag in gmsh.model.getEntities(3):
        _, _, z0, _, _, z1 = gmsh.model.getBoundingBox(3, tag)
        z_mid = 0.5 * (z0 + z1)
        name = "reservoir_top" if z_mid > HALF else "reservoir_bottom" if z_mid < -HALF else "pore"
        volumes[name] = tag
    if sorted(volumes) != ["pore", "reservoir_bottom", "reservoir_top"]:
        raise RuntimeError(f"unexpected volumes after fragment: {volumes}")
    return volumes


def classify_surfaces() -> dict[str, list[int]]:
    """All surfaces sorted into the named groups (and the unnamed pore mouths) by position."""
    tol = 1e-6
    groups = {
        "top": [],
        "bottom": [],
        "pore_wall": [],
        "membrane": [],
        "outer": [],
        "_mouths": [],
    }
    for _, tag in gmsh.model.getEntities(2):
        x0, _, z0, x1, _, z1 = gmsh.model.getBoundingBox(2, tag)
        radius = 0.5 * (x1 - x0)
        if z0 > TOP - tol:
            groups["top"].append(tag)
        elif z1 < -TOP + tol:
            groups["bottom"].append(tag)
        elif z1 - z0 > tol:  # a cylindrical side
            near_pore = abs(radius - PORE_RADIUS) < 1e-3
            groups["pore_wall" if near_pore else "outer"].append(tag)
        elif radius < PORE_RADIUS + 1e-3:  # the disc r < 3 at z = +-5
            groups["_mouths"].append(tag)
        else:  # the annulus 3 < r < 25 at z = +-5
            groups["membrane"].append(tag)
    counts = {name: len(tags) for name, tags in groups.items()}
    expected = {"top": 1, "bottom": 1, "pore_wall": 1, "membrane": 2, "outer": 2, "_mouths": 2}
    if counts != expected:
        raise RuntimeError(f"unexpected surfaces: {counts}")
    return groups


def set_sizes(groups: dict[str, list[int]], pore_volume: int) -> None:
    """SIZE_PORE in the pore and near its wall and mouths, growing to SIZE_FAR."""
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "SurfacesList", groups["pore_wall"] + groups["_mouths"])
    field.setNumber(distance, "Sampling", 60)
    growth = field.add("MathEval")  # SIZE_PORE -> SIZE_FAR, quadratic in the distance
    ramp = f"Min(Max((F{distance} - {DIST_FINE!r}) / {DIST_COARSE - DIST_FINE!r}, 0), 1)"
    field.setString(growth, "F", f"{SIZE_PORE!r} + {SIZE_FAR - SIZE_PORE!r} * ({ramp})^2")
    constant = field.add("MathEval")
    field.setString(constant, "F", repr(SIZE_PORE))
    inside = field.add("Restrict")
    field.setNumber(inside, "InField", constant)
    field.setNumbers(inside, "VolumesList", [pore_volume])
    field.setNumbers(inside, "SurfacesList", groups["pore_wall"] + groups["_mouths"])
    size = field.add("Min")
    field.setNumbers(size, "FieldsList", [growth, inside])
    field.setAsBackgroundMesh(size)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add("nanopore")
    volumes = build_geometry()
    groups = classify_surfaces()
    for name, tags in groups.items():
        if not name.startswith("_"):
            gmsh.model.addPhysicalGroup(2, tags, name=name)
    for name in ("reservoir_top", "pore", "reservoir_bottom"):
        gmsh.model.addPhysicalGroup(3, [volumes[name]], name=name)
    set_sizes(groups, volumes["pore"])
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay surfaces
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay (serial, deterministic)
    gmsh.option.setNumber("Mesh.Optimize", 1)
    gmsh.model.mesh.generate(3)
    gmsh.model.mesh.optimize("Netgen")
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.write(str(OUTPUT))
    gmsh.finalize()


if __name__ == "__main__":
    main()
