"""Porous electrode cross-section: electrolyte-filled pore space around five particles.

A 40 x 20 x 20 um slab (coordinates in micrometres: use ``scale = 1e-6``) with
five spherical active-material particles cut out.  Run ``python
meshes/porous_electrode.py`` to regenerate ``meshes/porous_electrode.msh``
(MSH 4.1 ASCII, deterministic: one thread, fixed sizes).

Named groups
------------
region ``electrolyte``  the pore space (the only meshed volume)
``separator``           x = 0 face (towards the counter electrode)
``current_collector``   x = 40 face
``walls``               the four side faces y = 0, y = 20, z = 0, z = 20
``particles``           all particle surfaces
"""

from pathlib import Path

import gmsh

LENGTH, WIDTH, HEIGHT = 40.0, 20.0, 20.0  # um
#: particle centres (x, y, z) and radii in um; >= 1 um from each other and the walls
PARTICLES = [
    (8.0, 6.0, 7.0, 5.0),
    (10.0, 14.0, 14.0, 5.0),
    (21.0, 9.0, 12.0, 6.0),
    (31.0, 14.0, 6.0, 5.0),
    (32.0, 5.0, 15.0, 4.0),
]
SIZE_BULK = 2.0  # um, element size away from the particles
SIZE_PARTICLE = 1.0  # um, element size on the particle surfaces
OUTPUT = Path(__file__).with_suffix(".msh")


def build_geometry() -> int:
    """The box minus the particles; returns the volume tag."""
    box = gmsh.model.occ.addBox(0.0, 0.0, 0.0, LENGTH, WIDTH, HEIGHT)
    spheres = [gmsh.model.occ.addSphere(x, y, z, r) for x, y, z, r in PARTICLES]
    volumes, _ = gmsh.model.occ.cut([(3, box)], [(3, s) for s in spheres])
    gmsh.model.occ.synchronize()
    return volumes[0][1]


def classify_surfaces(volume: int) -> dict[str, list[int]]:
    """Boundary surfaces of the volume sorted into the named groups by position."""
    tol = 1e-6
    groups = {"separator": [], "current_collector": [], "walls": [], "particles": []}
    for _, tag in gmsh.model.getBoundary([(3, volume)], oriented=False):
        x0, y0, z0, x1, y1, z1 = gmsh.model.getBoundingBox(2, tag)
        if x1 < tol:
            groups["separator"].append(tag)
        elif x0 > LENGTH - tol:
            groups["current_collector"].append(tag)
        elif y1 < tol or y0 > WIDTH - tol or z1 < tol or z0 > HEIGHT - tol:
            groups["walls"].append(tag)
        else:
            groups["particles"].append(tag)
    return groups


def set_sizes(particle_surfaces: list[int]) -> None:
    """Fine on the particles, growing linearly to the bulk size over 4 um."""
    distance = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(distance, "SurfacesList", particle_surfaces)
    threshold = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(threshold, "InField", distance)
    gmsh.model.mesh.field.setNumber(threshold, "SizeMin", SIZE_PARTICLE)
    gmsh.model.mesh.field.setNumber(threshold, "SizeMax", SIZE_BULK)
    gmsh.model.mesh.field.setNumber(threshold, "DistMin", 0.0)
    gmsh.model.mesh.field.setNumber(threshold, "DistMax", 4.0)
    gmsh.model.mesh.field.setAsBackgroundMesh(threshold)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add("porous_electrode")
    volume = build_geometry()
    groups = classify_surfaces(volume)
    for name, surfaces in groups.items():
        gmsh.model.addPhysicalGroup(2, surfaces, name=name)
    gmsh.model.addPhysicalGroup(3, [volume], name="electrolyte")
    set_sizes(groups["particles"])
    gmsh.model.mesh.generate(3)
    gmsh.model.mesh.optimize("Netgen")
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.write(str(OUTPUT))
    gmsh.finalize()


if __name__ == "__main__":
    main()
