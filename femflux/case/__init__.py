"""The case layer (SPEC section 2): a case file -> a validated, typed :class:`Case`.

Every check of bad input lives here (and in :mod:`femflux.mesh` for the mesh);
the numerics downstream trust what they receive.  Errors raise
:class:`femflux.errors.CaseError` with one line naming the key at fault.

Modules
-------
- :mod:`.schema`: the dataclasses (:class:`Case`, :class:`Species`, ...) and
  the vocabulary of the case file (model kinds, keys of every section);
- :mod:`.expressions`: the safe expression parser (:class:`Expression`,
  :func:`evaluate`);
- :mod:`.table`: typed reading of one TOML table;
- :mod:`.overrides`: ``--set`` dotted-key overrides;
- :mod:`.reader`: :func:`load_case`, TOML -> :class:`Case`;
- :mod:`.pieces`: readers of small pieces (reactions, matrices, boundary exclusions);
- :mod:`.checks`: cross-checks of a whole case and its warnings;
- :mod:`.sweep`: the ``[sweep]`` table and ``--vary KEY=VALUES`` (what a sweep
  varies, checked against the case; :mod:`femflux.study` runs it);
- :mod:`.mesh_checks`: :func:`check_against_mesh`, the checks that need the mesh.

Everything other modules use is importable from ``femflux.case`` directly.
"""

from .expressions import FUNCTIONS, SPACE_TIME, Expression, evaluate, is_expression
from .mesh_checks import check_against_mesh
from .reader import load_case
from .schema import (
    DIFFUSION,
    MODEL_KINDS,
    NPP,
    ONSAGER,
    STRESS,
    Arrhenius,
    Boundary,
    ButlerVolmer,
    Case,
    Elasticity,
    Electrostatics,
    GenerateSpec,
    MassTransfer,
    MeshSpec,
    ModelSpec,
    OutputSpec,
    Reaction,
    Region,
    SolverSpec,
    Species,
    Sweep,
    Thermo,
    Transport,
    Trap,
    Value,
)
from .sweep import base_raw, check_sweep, parse_vary, read_collect

__all__ = [
    "Arrhenius",
    "SurfaceKinetics",
    "Trap",
    "DIFFUSION",
    "FUNCTIONS",
    "MODEL_KINDS",
    "NPP",
    "ONSAGER",
    "SPACE_TIME",
    "STRESS",
    "Boundary",
    "ButlerVolmer",
    "Case",
    "Elasticity",
    "Electrostatics",
    "Expression",
    "GenerateSpec",
    "MassTransfer",
    "MeshSpec",
    "ModelSpec",
    "OutputSpec",
    "Reaction",
    "Region",
    "SolverSpec",
    "Species",
    "Sweep",
    "Thermo",
    "Transport",
    "Value",
    "base_raw",
    "check_against_mesh",
    "check_sweep",
    "evaluate",
    "is_expression",
    "load_case",
    "parse_vary",
    "read_collect",
]
