"""Which array a picture shows and how it is named.

Owns the names, units and kinds of result fields (``field_unit``), the
resolution of a user's ``--field`` (``u_x``, ``sigma_xy``, ``J_K``, ...) to an
array of a dataset and a reduction to scalars (magnitude, von Mises,
component), the default field and the scalar values of a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from femflux.errors import CaseError

from ..results.units import amount_unit

if TYPE_CHECKING:
    import pyvista as pv


_AXES = "xyz"
_TENSOR_SUFFIX = {a + b: 3 * i + j for i, a in enumerate(_AXES) for j, b in enumerate(_AXES)}
_INTERNAL = {"vtkOriginalPointIds", "vtkOriginalCellIds", "vtkGhostType", "vtkValidPointMask"}
_SCALAR = "femflux_scalar"  # the array a picture is coloured by


def field_unit(name: str) -> str:
    """SI unit of the result field ``name`` (section 3 of the spec).

    Species are concentrations (mol/m³, or atoms/m³ while
    :func:`~femflux.results.units.amounts_in` says so); ``phi`` is in V, ``u`` in m, stresses
    in Pa, ``mu_*`` in J/mol, fluxes ``J_*`` in mol/(m² s) and ``region`` has
    no unit.  Component names (``u_x``, ``sigma_xy``) have the unit of their field.
    """
    base, _, suffix = name.rpartition("_")
    if name == "phi":
        return "V"
    if name == "u" or (base == "u" and suffix in _AXES):
        return "m"
    if name in ("sigma", "sigma_h", "von_mises") or (base == "sigma" and suffix in _TENSOR_SUFFIX):
        return "Pa"
    if name.startswith("mu_"):
        return "J/mol"
    amount = amount_unit()
    if name.startswith("J_"):
        return f"{amount}/(m² s)"
    if name == "region":
        return ""
    return f"{amount}/m³"


def _kind(array: str) -> str:
    """Category of a result array, which sets its colour map."""
    if array == "phi":
        return "phi"
    if array == "u":
        return "displacement"
    if array in ("sigma", "von_mises"):
        return "stress"
    if array == "sigma_h":
        return "signed"
    if array.startswith("mu_"):
        return "mu"
    if array.startswith("J_"):
        return "flux"
    if array == "region":
        return "region"
    return "species"


@dataclass(frozen=True)
class _Field:
    """A plottable quantity: one array of the dataset reduced to a scalar.

    ``reduction`` is ``scalar``, ``magnitude`` (vectors), ``von_mises``
    (tensors), ``component`` (``u_x``, ``sigma_xy``) or ``region``.
    """

    name: str
    array: str
    association: str
    reduction: str
    component: int = 0

    @property
    def kind(self) -> str:
        return "signed" if self.reduction == "component" else _kind(self.array)

    @property
    def label(self) -> str:
        """Colour-bar title: the field name and its SI unit."""
        shown = f"|{self.name}|" if self.reduction == "magnitude" else self.name
        if self.reduction == "von_mises":
            shown = f"von Mises ({self.name})"
        unit = field_unit(self.name)
        return f"{shown} ({unit})" if unit else shown


def _ncomp(array: np.ndarray) -> int:
    return 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))


def _available(ds: pv.DataSet) -> list[str]:
    """Names of the point and cell arrays of ``ds`` a user may ask for."""
    names = [*ds.point_data.keys(), *ds.cell_data.keys()]
    return [n for n in dict.fromkeys(names) if n not in _INTERNAL and n != _SCALAR]


def _resolve_field(ds: pv.DataSet, name: str, where: str) -> _Field:
    """The field ``name`` of ``ds``; CaseError listing the available ones if absent."""
    for association, data in (("point", ds.point_data), ("cell", ds.cell_data)):
        if name in data.keys() and name not in _INTERNAL:
            ncomp = _ncomp(np.asarray(data[name]))
            reduction = {1: "scalar", 9: "von_mises"}.get(ncomp, "magnitude")
            if name == "region":
                reduction = "region"
            return _Field(name, name, association, reduction)
    base, _, suffix = name.rpartition("_")
    for association, data in (("point", ds.point_data), ("cell", ds.cell_data)):
        if base and base in data.keys():
            ncomp = _ncomp(np.asarray(data[base]))
            if ncomp == 9 and suffix in _TENSOR_SUFFIX:
                return _Field(name, base, association, "component", _TENSOR_SUFFIX[suffix])
            if ncomp in (2, 3) and suffix in _AXES[:ncomp]:
                return _Field(name, base, association, "component", _AXES.index(suffix))
    available = ", ".join(_available(ds)) or "none"
    raise CaseError(f"field {name!r} not in {where}; available: {available}")


def _species(ds: pv.DataSet) -> list[str]:
    """Concentration arrays of ``ds`` (scalar point arrays named after a species)."""
    return [
        name
        for name in ds.point_data.keys()
        if name not in _INTERNAL
        and name != _SCALAR
        and _kind(name) == "species"
        and _ncomp(np.asarray(ds.point_data[name])) == 1
    ]


def _default_field(ds: pv.DataSet) -> str | None:
    """What a scientist looks at first: the first species, else phi, von Mises, ..."""
    species = _species(ds)
    if species:
        return species[0]
    for name in ("phi", "von_mises", "u"):
        if name in ds.point_data.keys():
            return name
    available = _available(ds)
    return available[0] if available else None


def _values(ds: pv.DataSet, f: _Field) -> np.ndarray:
    """The scalar values of field ``f`` on the points or cells of ``ds``."""
    data = ds.point_data if f.association == "point" else ds.cell_data
    a = np.asarray(data[f.array], dtype=float)
    n = a.shape[0]
    if f.reduction in ("scalar", "region"):
        return a.reshape(n)
    a = a.reshape(n, -1)
    if f.reduction == "magnitude":
        return np.linalg.norm(a, axis=1)
    if f.reduction == "component":
        return a[:, f.component]
    s = a.reshape(n, 3, 3)
    dev = s - np.einsum("nii->n", s)[:, None, None] / 3.0 * np.eye(3)
    return np.sqrt(1.5 * np.einsum("nij,nij->n", dev, dev))
