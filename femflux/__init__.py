"""femflux: finite-element transport driven by chemical-potential gradients.

J_i = -sum_j L_ij grad(mu_j) for diffusion, Nernst-Planck-Poisson,
stress-driven diffusion and multicomponent Onsager transport.

>>> import femflux
>>> case = femflux.load_case("cases/porous_electrode.toml")  # doctest: +SKIP
>>> result = femflux.solve(case)                               # doctest: +SKIP
>>> result.save("results/porous_electrode")                    # doctest: +SKIP
"""

import os
import sys

if os.path.basename(sys.argv[0]) == "femflux":  # the command: 130/143 from its first moment
    from ._signals import exit_on_signal

    exit_on_signal()

# Our dense work is vector-sized (Krylov dot products, norms): threaded BLAS
# only adds synchronisation, and costs 100x when the cores are busy.  A user's
# own setting wins; it must be made before numpy is first imported.
#: BLAS is single-threaded (numpy not yet imported, or the user's own
#: OPENBLAS_NUM_THREADS=1): the Krylov basis products may then use it
BLAS_SERIAL = "numpy" not in sys.modules or os.environ.get("OPENBLAS_NUM_THREADS") == "1"
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from ._version import __version__  # noqa: E402
from .case import Case, load_case  # noqa: E402
from .errors import CaseError, SolverError, WriteError  # noqa: E402
from .results import Result  # noqa: E402
from .simulation import solve as _solve  # noqa: E402


def solve(case, progress: bool = False, initial=None) -> Result:
    """Solve a :class:`Case` (or a dict/path, loaded first) and return its :class:`Result`.

    ``initial``: start from this unknown vector (``Result.state`` of an earlier
    solve of the same model) instead of the case's initial values.

    Raises :class:`CaseError` for bad input and :class:`SolverError` when the
    solver fails (its ``result`` is the last converged state).
    """
    if not isinstance(case, Case):
        case = load_case(case)
    return _solve(case, progress=progress, initial=initial)


def sweep(case, vary=None, **options):
    """Run a parameter sweep on Dask (see :func:`femflux.study.sweep`) and
    return its table: a pandas DataFrame if pandas is importable, else a dict
    of lists.  ``vary={"boundary.right.potential": "linspace(-1, 1, 21)"}``."""
    from .study import sweep as _sweep

    return _sweep(case, vary=vary, **options)


__all__ = ["Case", "CaseError", "Result", "SolverError", "WriteError", "load_case", "solve",
           "sweep", "__version__"]
