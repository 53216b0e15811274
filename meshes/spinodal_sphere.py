"""A ball of radius 30 (dimensionless phase-field units) for a 3D spinodal.

Run ``python meshes/spinodal_sphere.py`` to regenerate ``meshes/spinodal_sphere.msh``
(MSH 2.2 ASCII, OpenCASCADE ball, uniform tetrahedra of size SIZE, one thread).
SIZE = 2.5 resolves the fastest-growing Cahn-Hilliard wavelength of PFHub BM1
(2 pi / sqrt(|f''(0.5)| / 2 kappa) = 14) with about six elements.

Named groups
------------
region ``grain`` (the ball), boundary ``surface`` (the sphere)
"""

from pathlib import Path

import gmsh

RADIUS = 30.0
SIZE = 2.5
OUTPUT = Path(__file__).with_suffix(".msh")


def main() -> None:
    gmsh.initialize(readConfigFiles=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)
    gmsh.model.add("spinodal_sphere")
    ball = gmsh.model.occ.addSphere(0.0, 0.0, 0.0, RADIUS)
    gmsh.model.occ.synchronize()
    surfaces = [tag for _, tag in gmsh.model.getBoundary([(3, ball)], oriented=False)]
    gmsh.model.addPhysicalGroup(3, [ball], name="grain")
    gmsh.model.addPhysicalGroup(2, surfaces, name="surface")
    gmsh.option.setNumber("Mesh.MeshSizeMin", SIZE)
    gmsh.option.setNumber("Mesh.MeshSizeMax", SIZE)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)  # Delaunay
    gmsh.option.setNumber("Mesh.RandomSeed", 1)
    gmsh.model.mesh.generate(3)
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.option.setNumber("Mesh.SaveAll", 0)
    gmsh.write(str(OUTPUT))
    gmsh.finalize()


if __name__ == "__main__":
    main()
