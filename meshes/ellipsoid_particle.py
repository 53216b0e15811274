"""An ellipsoidal battery particle: semi-axes 5 x 3 x 3 um (coordinates in
micrometres: use ``scale = 1e-6``).  Run ``python meshes/ellipsoid_particle.py``
to regenerate ``meshes/ellipsoid_particle.msh`` (MSH 4.1 ASCII, deterministic).

Named groups
------------
region ``particle``   the solid
``surface``           the whole particle surface (lithium enters here)
"""

from pathlib import Path

import gmsh

SEMI_AXES = (5.0, 3.0, 3.0)  # um
SIZE = 0.75  # um, element size
OUTPUT = Path(__file__).with_suffix(".msh")


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.RandomSeed", 1)
        gmsh.model.add("ellipsoid_particle")
        a, b, c = SEMI_AXES
        ball = gmsh.model.occ.addSphere(0.0, 0.0, 0.0, 1.0)
        gmsh.model.occ.dilate([(3, ball)], 0.0, 0.0, 0.0, a, b, c)
        gmsh.model.occ.synchronize()
        surfaces = [tag for _, tag in gmsh.model.getBoundary([(3, ball)], oriented=False)]
        gmsh.model.addPhysicalGroup(3, [ball], name="particle")
        gmsh.model.addPhysicalGroup(2, surfaces, name="surface")
        gmsh.option.setNumber("Mesh.MeshSizeMin", SIZE)
        gmsh.option.setNumber("Mesh.MeshSizeMax", SIZE)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.model.mesh.generate(3)
        gmsh.option.setNumber("Mesh.SaveAll", 0)
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.write(str(OUTPUT))
    finally:
        gmsh.finalize()


if __name__ == "__main__":
    main()
