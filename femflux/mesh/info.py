"""The text ``femflux info MESH`` prints: sizes, bounding box, named sets, warnings.

Boundary and region tables carry the measures of the mesh's geometry
(lengths, areas, volumes, and their 2 pi r / 4 pi r^2 weighted versions).
"""

from __future__ import annotations

from .femmesh import FemMesh, boundary_measure, region_measure


def _measure_columns(m: FemMesh):
    """Headers (and weighted flags) of the boundary and region measure columns."""
    if m.geometry == "axisymmetric":
        return (
            [("length (m)", False), ("2 pi r area (m^2)", True)],
            [("area (m^2)", False), ("2 pi r volume (m^3)", True)],
        )
    if m.geometry == "cylindrical":
        return (
            [("2 pi r (m^2 per m of axis)", True)],
            [("length (m)", False), ("2 pi r dr (m^3 per m)", True)],
        )
    if m.geometry == "spherical":
        return (
            [("4 pi r^2 (m^2)", True)],
            [("length (m)", False), ("4 pi r^2 dr (m^3)", True)],
        )
    return {
        1: ([], [("length (m)", False)]),
        2: ([("length (m)", False)], [("area (m^2)", False)]),
        3: ([("area (m^2)", False)], [("volume (m^3)", False)]),
    }[m.dim]


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned name column, right-aligned number columns."""
    cells = [[title] + header] + rows
    widths = [max(len(r[j]) for r in cells) for j in range(len(header) + 1)]
    lines = []
    for r in cells:
        text = r[0].ljust(widths[0]) + "".join(
            "   " + r[j].rjust(widths[j]) for j in range(1, len(r))
        )
        lines.append(("" if r is cells[0] else "  ") + text.rstrip())
    return lines


def mesh_info(m: FemMesh) -> str:
    """The text of ``femflux info MESH``: sizes, bounding box, named sets, warnings."""
    geometry = {
        "planar": "planar",
        "axisymmetric": "axisymmetric (x = r, y = z)",
        "cylindrical": "cylindrical (x = r)",
        "spherical": "spherical (x = r)",
    }[m.geometry]
    p = m.mesh.p
    lines = [
        f"mesh          {m.source}",
        f"dimension     {m.dim}",
        f"geometry      {geometry}",
        f"nodes         {m.mesh.nvertices}",
        f"cells         {m.mesh.nelements} {m.cell_type} (first order)",
        f"facets        {m.mesh.nfacets} ({len(m.mesh.boundary_facets())} on the exterior)",
    ]
    for i in range(m.dim):
        label = "bounding box" if i == 0 else ""
        lines.append(f"{label:<14}{'xyz'[i]} {p[i].min():.6g} .. {p[i].max():.6g} m")
    bnd_cols, reg_cols = _measure_columns(m)
    lines.append("")
    rows = [
        [name, str(len(f))] + [f"{boundary_measure(m, f, w):.6g}" for _, w in bnd_cols]
        for name, f in m.boundaries.items()
    ]
    if rows:
        lines += _table(f"boundaries ({len(rows)})", ["facets"] + [h for h, _ in bnd_cols], rows)
    else:
        lines.append("boundaries    none named")
    lines.append("")
    rows = [
        [name, str(len(e))] + [f"{region_measure(m, e, w):.6g}" for _, w in reg_cols]
        for name, e in m.regions.items()
    ]
    lines += _table(f"regions ({len(rows)})", ["elements"] + [h for h, _ in reg_cols], rows)
    if m.warnings:
        lines += ["", "warnings"] + [f"  - {w}" for w in m.warnings]
    return "\n".join(lines)
