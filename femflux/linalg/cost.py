"""The cost model behind ``linear = "auto"``: the CPU time of one Newton
iteration's linear solve by SuperLU (a fresh factorisation) and by the
AMG-preconditioned Krylov solver (its hierarchy reused across Newton), and
the size of the LU factors, predicted from the number of unknowns n, the
stored entries of the matrix, the dimension and the unknowns per mesh node
(the coupling b, e.g. 3 for c+, c- and phi).

Fitted to measurements on this project's 2-core machine (CPU seconds, PNP
and diffusion Jacobians of generated meshes, 4,000 - 490,000 unknowns,
``benchmarks/bench_linear.py``), with m = n / b nodes:

- LU entries (SuperLU, minimum degree on A^T + A):
  2D ``7.8 b^2 m^1.17``, 3D ``0.68 b^2 m^1.62``;
- factorisation time: 2D ``6.0e-8 b^2 m^1.36`` s, 3D ``2.5e-10 b^2.45 m^2.2`` s;
- iterative solve, per Newton iteration (amortised set-up, fine-level
  update, 10-20 V-cycles): ``4e-7`` s per stored entry (GMRES), ``2.5e-7``
  (symmetric: CG), ``2.8e-7`` (systems of 3 or more unknowns per node under
  the approximate Schur split of :mod:`~femflux.linalg.coupled`, e.g. PNP;
  not Cahn-Hilliard's c, mu, whose SuperLU run is the faster; measured 0.7-1.4e-7
  on PNP-BENCH 2D/3D 1e4-1e6, 6e-7 on the conical nanopore at 10x its mesh
  density, whose factorisations take 1.7x the model's time; set so that
  the conical nanopore of ``cases/`` (38,000 unknowns, whose inexact
  Newton iteration stalls at +2 V: exit to pseudo-transient continuation)
  keeps SuperLU with a margin of 1.9x, and so do transient 2D runs of
  ~150,000 unknowns, where SuperLU's factorisations serve many steps: the
  blocking cell 2D 1e5 took 140 s CPU by the split against 80 s).  Their stored entries, when not
  given, are those of b - 1 fields coupled to themselves and the last
  (``2 E`` a row) and the last to all (``E + b - 1``), E the scalar
  stencil.

SuperLU is chosen while its time is at most :data:`DIRECT_PREFERENCE` times
the iterative one (an exact solve is robust, and a transient run reuses its
factorisation over several steps) and its factors hold at most
:data:`MAX_FILL` entries; 1D systems always factorise (their fill is
the matrix's own).
"""

from __future__ import annotations

from dataclasses import dataclass

#: SuperLU is chosen while it costs at most this many times the Krylov solve
DIRECT_PREFERENCE = 3.0
#: most entries in the LU factors (12 bytes each with their indices: 1.2 GB)
MAX_FILL = 1.0e8
#: (coefficient, exponent of m, exponent of b) of the LU entries, by dimension
_FILL = {2: (7.8, 1.17, 2.0), 3: (0.68, 1.62, 2.0)}
#: (coefficient s, exponent of m, exponent of b) of the factorisation time
_FACTOR = {2: (6.0e-8, 1.36, 2.0), 3: (2.5e-10, 2.2, 2.45)}
#: seconds per stored matrix entry of one Newton iteration's Krylov solve:
#: CG, GMRES, GMRES with the approximate Schur split
_KRYLOV = {"cg": 2.5e-7, "gmres": 4.0e-7, "schur": 2.8e-7}
#: stored entries per unknown and per coupled field when the matrix is not at hand
_ENTRIES_PER_ROW = {1: 3, 2: 7, 3: 15}


@dataclass(frozen=True)
class SolveCost:
    """Predicted cost of one Newton iteration's linear solve."""

    direct_s: float  # SuperLU factorisation, CPU seconds
    iterative_s: float  # AMG-preconditioned Krylov, CPU seconds
    fill: float  # entries of the LU factors

    @property
    def method(self) -> str:
        """"direct" or "iterative", by the rule above."""
        if self.fill <= MAX_FILL and self.direct_s <= DIRECT_PREFERENCE * self.iterative_s:
            return "direct"
        return "iterative"


def solve_cost(n: int, dim: int, block: int = 1, nnz: int | None = None,
               symmetric: bool = False, schur: bool = False) -> SolveCost:
    """The predicted :class:`SolveCost` of an n x n system of a ``dim``-D
    mesh with ``block`` unknowns per node and ``nnz`` stored entries
    (estimated from n, dim and block when None); ``schur``: preconditioned
    by the approximate Schur split (non-symmetric node blocks)."""
    block = max(int(block), 1)
    if nnz is None:
        stencil = _ENTRIES_PER_ROW[min(max(dim, 1), 3)]
        per_row = (((block - 1) * 2 * stencil + stencil + block - 1) / block if schur
                   else block * stencil)
        nnz = n * per_row
    krylov = "cg" if symmetric else "schur" if schur else "gmres"
    iterative = _KRYLOV[krylov] * nnz
    if dim <= 1:
        return SolveCost(0.0, iterative, float(nnz))
    d = min(dim, 3)
    m = max(n / block, 1.0)
    a, p, q = _FILL[d]
    fill = a * block**q * m**p
    a, p, q = _FACTOR[d]
    return SolveCost(a * block**q * m**p, iterative, fill)
