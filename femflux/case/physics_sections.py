"""The reading of a case's physics sections ([electrostatics], [elasticity],
[thermo], [transport]): the part of :class:`femflux.case.reader._CaseReader`
that turns them into their dataclasses (SPEC 2), with the same checks and
one-line errors."""

from __future__ import annotations

import keyword

from ..errors import CaseError
from .expressions import Expression
from .pieces import _check_diffusivity_matrix, _check_onsager_matrix
from .schema import (
    ELASTICITY_KEYS,
    ELECTROSTATICS_KEYS,
    ONSAGER,
    THERMO_KEYS,
    TRANSPORT_KEYS,
    Elasticity,
    Electrostatics,
    Thermo,
    Transport,
)
from .table import _Table, _unknown_species


class PhysicsSections:
    """Mixed into the case reader: needs its ``kind``, ``names``, ``root``,
    :meth:`section` and :meth:`has_physics`."""

    def read_electrostatics(self) -> Electrostatics | None:
        if not self.has_physics("electrostatics"):
            return None
        t = self.section("electrostatics", ELECTROSTATICS_KEYS)
        return Electrostatics(
            relative_permittivity=t.number("relative_permittivity", 78.5, gt=0),
            electroneutral=t.boolean("electroneutral", False),
        )

    def read_elasticity(self) -> Elasticity | None:
        if not self.has_physics("elasticity"):
            return None
        t = self.section("elasticity", ELASTICITY_KEYS)
        return Elasticity(
            youngs_modulus=t.number("youngs_modulus", 200e9, gt=0),
            poisson_ratio=t.number("poisson_ratio", 0.3, gt=-1, lt=0.5),
            chemical_expansion=t.boolean("chemical_expansion", True),
            stress_free_concentration=self.stress_free_concentration(t),
            plane=t.choice("plane", "strain", ("strain", "stress")),
        )

    def stress_free_concentration(self, t: _Table) -> dict[str, float]:
        """c_0 of every species: one number for all, or a table (missing species: 0)."""
        key = "stress_free_concentration"
        if isinstance(t.get(key), dict):
            given = t.species_map(key, self.names, lambda s, n: s.number(n, ge=0))
            return {name: given.get(name, 0.0) for name in self.names}
        value = t.number(key, 0.0, ge=0)
        return {name: value for name in self.names}

    def read_thermo(self) -> Thermo | None:
        if self.kind != ONSAGER:
            return None
        t = self.section("thermo", THERMO_KEYS)
        model = t.choice("model", "ideal", ("ideal", "regular", "expression"))
        return Thermo(
            model=model,
            interactions=self.interactions(t),
            free_energy=self.free_energy(t, model),
            gradient_energy=t.number("gradient_energy", 0.0, ge=0),
            reference_concentration=t.number("reference_concentration", None, gt=0),
        )

    def interactions(self, t: _Table) -> dict[tuple[str, str], float]:
        """W_ij by sorted species pair from keys "A-B"."""
        if not t.has("interactions"):
            return {}
        table, pairs, keys = t.table("interactions"), {}, {}
        for key in table.data:
            parts = [part.strip() for part in key.split("-")]
            if len(parts) != 2:
                raise t.error("interactions", f"key {key!r} must name two species as 'A-B'")
            for name in parts:
                if name not in self.names:
                    raise t.error(
                        "interactions", f"key {key!r} {_unknown_species(name, self.names)}"
                    )
            if parts[0] == parts[1]:
                raise t.error("interactions", f"key {key!r}: a species cannot interact with itself")
            pair = tuple(sorted(parts))
            if pair in pairs:
                raise t.error("interactions", f"gives both {keys[pair]!r} and {key!r}")
            pairs[pair], keys[pair] = table.number(key), key
        return pairs

    def free_energy(self, t: _Table, model: str) -> Expression | None:
        text = t.string("free_energy", "")
        if not text.strip():
            if model == "expression":
                raise CaseError("[thermo] free_energy is required with model = 'expression'")
            return None
        unusable = [name for name in self.names if keyword.iskeyword(name)]
        if unusable:
            raise CaseError(
                f"[thermo] free_energy cannot use species {unusable[0]!r} (a Python keyword)"
            )
        return Expression(text, (*self.names, "R", "T"), t.where("free_energy"))

    def read_transport(self) -> Transport | None:
        if self.kind != ONSAGER:
            return None
        if "transport" not in self.root.data:
            raise CaseError(
                "[transport] is required for model kind 'onsager' "
                '(onsager = [[...]] or "einstein", or diffusivity_matrix = [[...]])'
            )
        t = self.section("transport", TRANSPORT_KEYS)
        if t.has("onsager") == t.has("diffusivity_matrix"):
            given = "both" if t.has("onsager") else "neither"
            raise CaseError(
                f"[transport] needs exactly one of onsager or diffusivity_matrix (got {given})"
            )
        size = len(self.names)
        if t.has("diffusivity_matrix"):
            matrix = t.matrix("diffusivity_matrix", size, self.names)
            _check_diffusivity_matrix(matrix)
            return Transport(diffusivity_matrix=matrix)
        if isinstance(t.get("onsager"), str):
            if t.get("onsager") != "einstein":
                raise t.error(
                    "onsager", f'must be "einstein" or a matrix (got {t.get("onsager")!r})'
                )
            return Transport(onsager="einstein")
        matrix = t.matrix("onsager", size, self.names)
        _check_onsager_matrix(matrix, self.names)
        return Transport(onsager=matrix)
