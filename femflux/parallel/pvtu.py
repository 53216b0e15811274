"""Parallel VTU output: every rank writes the cells it owns as one piece,
rank 0 writes the ``.pvtu`` that lists them (and ``series.pvd`` of
``.pvtu`` files for transients), read by PyVista, ParaView and ``femflux plot``.

Files in a results folder of an N-rank run:
``solution.pvtu`` with ``solution_pNNNN.vtu`` (one per rank), and for
transients ``step_NNNNN.pvtu`` with ``step_NNNNN_pNNNN.vtu`` and
``series.pvd``.  Cells on a rank boundary belong to one piece; the nodes
they share appear in both pieces with the same values.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..mesh import FemMesh
from ..results.writers import write_vtu

_ARRAY = re.compile(r"<DataArray\s+([^>]*?)/?>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def piece_name(stem: str, rank: int) -> str:
    return f"{stem}_p{rank:04d}.vtu"


class Piece:
    """The cells a rank writes: its own cells of the submesh, their vertices."""

    def __init__(self, part):
        fem_mesh = part.fem_mesh
        mesh = fem_mesh.mesh
        cells = np.flatnonzero(part.own_cells)
        self.cells = cells
        self.vertices = np.unique(mesh.t[:, cells])
        renumber = np.full(mesh.nvertices, -1, dtype=np.int64)
        renumber[self.vertices] = np.arange(len(self.vertices))
        sub = type(mesh)(np.ascontiguousarray(mesh.p[:, self.vertices]),
                         np.ascontiguousarray(renumber[mesh.t[:, cells]]))
        position = np.full(mesh.nelements, -1, dtype=np.int64)
        position[cells] = np.arange(len(cells))
        regions = {name: position[e][position[e] >= 0] for name, e in fem_mesh.regions.items()}
        self.fem_mesh = FemMesh(mesh=sub, boundaries={}, regions=regions,
                                geometry=fem_mesh.geometry)

    def write(self, path: Path, point_data: dict, cell_data: dict) -> None:
        points = {k: _rows(v, self.vertices) for k, v in point_data.items()}
        cells = {k: _rows(v, self.cells) for k, v in cell_data.items()}
        write_vtu(path, self.fem_mesh, points, cells)


def _rows(values, index):
    """Rows ``index`` of a point or cell array, (n,) or (n, k)."""
    return np.asarray(values)[index]


def _arrays(text: str, section: str) -> list[dict]:
    """The DataArray attributes inside ``<section>`` of a VTU file's header."""
    start = text.find(f"<{section}")
    if start < 0:
        return []
    end = text.find(f"</{section}>", start)
    return [dict(_ATTR.findall(m.group(1))) for m in _ARRAY.finditer(text, start, end)]


def write_pvtu(path: Path, first_piece: Path, pieces: list[str]) -> None:
    """``path`` (.pvtu) over the ``pieces`` (file names beside it), with the
    arrays declared as in ``first_piece``."""
    text = first_piece.read_bytes().decode("latin-1")
    head = text[: text.find("</Piece>")] if "</Piece>" in text else text

    def declare(section):
        lines = [f"    <P{section}>"]
        for a in _arrays(head, section):
            comps = a.get("NumberOfComponents", "1")
            lines.append(f'      <PDataArray type="{a.get("type", "Float64")}" '
                         f'Name="{a.get("Name", "")}" NumberOfComponents="{comps}"/>')
        lines.append(f"    </P{section}>")
        return lines

    points = _arrays(head, "Points")
    point_type = points[0].get("type", "Float64") if points else "Float64"
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="PUnstructuredGrid" version="0.1" byte_order="LittleEndian">',
             '  <PUnstructuredGrid GhostLevel="0">']
    lines += declare("PointData") + declare("CellData")
    lines += ["    <PPoints>",
              f'      <PDataArray type="{point_type}" NumberOfComponents="3"/>',
              "    </PPoints>"]
    lines += [f'    <Piece Source="{name}"/>' for name in pieces]
    lines += ["  </PUnstructuredGrid>", "</VTKFile>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
