"""Sparse linear solves for Newton: SuperLU, AMG-preconditioned Krylov,
field-split block preconditioners and bordered (Lagrange-multiplier)
systems.  The solver layer hands matrices here; models only describe their
structure (node blocks, fields, fixed blocks) and never solve themselves.

- :mod:`.krylov`: our GMRES and the vector norm;
- :mod:`.sparse`: in-place scaling and diagonal shifts of sparse matrices;
- :mod:`.direct`: SuperLU (:class:`_Direct`, :class:`_FixedDirect`);
- :mod:`.amg`: pyamg smoothed aggregation (:class:`_AlgebraicMultigrid`,
  :class:`FixedMultigrid`, node-wise blocks);
- :mod:`.fieldsplit`: block Gauss-Seidel over a model's :class:`Field` s;
- :mod:`.bordered`: :class:`BorderedMatrix` and its block eliminations;
- :mod:`.schur`: :class:`MassStiffnessSchur`, the Cahn-Hilliard block
  preconditioner (the bare :class:`VCycle` is in :mod:`.amg`);
- :mod:`.solver`: :class:`LinearSolver` (picks one of them and reuses it
  across solves) and :func:`fixed_solver` (the same choice for a constant
  block).
"""

from ..errors import NewtonFailure
from .amg import (
    FixedMultigrid,
    VCycle,
    _AlgebraicMultigrid,
    _NodeBlocks,
    _smoothed_aggregation,
    node_permutation,
)
from .bordered import BorderedMatrix, _BorderedKrylov, _BorderedSchur
from .direct import _Direct, _FixedDirect
from .fieldsplit import Field, _FieldSplit, row_view
from .krylov import gmres, norm
from .schur import MassStiffnessSchur
from .solver import LinearSolver, fixed_solver
from .sparse import scale_in_place

__all__ = [
    "BorderedMatrix",
    "Field",
    "FixedMultigrid",
    "LinearSolver",
    "MassStiffnessSchur",
    "NewtonFailure",
    "VCycle",
    "_AlgebraicMultigrid",
    "_BorderedKrylov",
    "_BorderedSchur",
    "_Direct",
    "_FieldSplit",
    "_FixedDirect",
    "_NodeBlocks",
    "_smoothed_aggregation",
    "fixed_solver",
    "gmres",
    "node_permutation",
    "norm",
    "row_view",
    "scale_in_place",
]
