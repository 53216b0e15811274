"""Shared pieces of the Gmsh scripts in meshes/: element sizes that grow
with the distance from chosen curves, and the MSH 2.2 output femflux reads."""

from pathlib import Path

import gmsh


def size_near(curves, size_min, size_max, dist_min, dist_max, sampling=200) -> int:
    """A Threshold field: ``size_min`` within ``dist_min`` of ``curves``,
    growing linearly to ``size_max`` at ``dist_max`` (model units); its tag."""
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "CurvesList", list(curves))
    field.setNumber(distance, "Sampling", sampling)
    threshold = field.add("Threshold")
    field.setNumber(threshold, "InField", distance)
    field.setNumber(threshold, "SizeMin", size_min)
    field.setNumber(threshold, "SizeMax", size_max)
    field.setNumber(threshold, "DistMin", dist_min)
    field.setNumber(threshold, "DistMax", dist_max)
    return threshold


def mesh_by_field(field_tag: int, dim: int, output: Path) -> None:
    """Mesh in ``dim`` with sizes from the field alone and write MSH 2.2."""
    gmsh.model.mesh.field.setAsBackgroundMesh(field_tag)
    for key in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
        gmsh.option.setNumber(f"Mesh.{key}", 0)
    gmsh.model.mesh.generate(dim)
    gmsh.option.setNumber("Mesh.MshFileVersion", 2.2)
    gmsh.write(str(output))
