"""Krylov methods: our right-preconditioned restarted GMRES (it minimises
the residual of the system itself, not a preconditioned one, and need not
store the preconditioned vectors).  Its Gram-Schmidt products and norms
use BLAS (dgemv, ddot) when BLAS runs on one thread (femflux sets it so
when imported before numpy: :data:`femflux.BLAS_SERIAL`), 1.7x faster than
numpy's einsum; otherwise einsum (threaded BLAS busy-waits on a loaded
machine: the Cahn-Hilliard benchmark took +44 % CPU).

- :func:`gmres`: GMRES(maxiter), flexible or with a fixed linear
  preconditioner, optionally giving up early when the rate says it will not
  converge (Newton then refactorises);
- :func:`_krylov`: GMRES with a fixed preconditioner as the block solvers
  use it (:class:`~femflux.linalg.fieldsplit._FieldSplit`,
  :class:`~femflux.linalg.bordered._BorderedKrylov`): NewtonFailure unless
  the true residual falls below rtol.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from .. import BLAS_SERIAL
from ..errors import NewtonFailure

log = logging.getLogger(__name__)

#: BLAS products in GMRES (tests switch it to compare both paths)
_SERIAL = BLAS_SERIAL


def norm(v: np.ndarray) -> float:
    """Euclidean norm; without BLAS unless it is single-threaded (its threads
    only add overhead at these sizes, and much of it on a loaded machine)."""
    return math.sqrt(float(v @ v if _SERIAL else np.einsum("i,i->", v, v)))


def _dots(V: np.ndarray, w: np.ndarray) -> np.ndarray:
    """V w: the inner products of the rows of V (k, n) with w (n,)."""
    return V @ w if _SERIAL else np.einsum("ij,j->i", V, w)


def _combine(h: np.ndarray, V: np.ndarray) -> np.ndarray:
    """sum_i h_i V_i: h (k,) times the rows of V (k, n)."""
    return h @ V if _SERIAL else np.einsum("i,ij->j", h, V)


def gmres(A, b, precondition, rtol, stats=None, maxiter=20, cycles=1, give_up=True,
          flexible=True, limit=None):
    """Right-preconditioned restarted GMRES(maxiter) for ``A y = b``, at most
    ``cycles`` cycles.  None when the residual does not fall below
    ``rtol ||b||``, or, with ``give_up``, as soon as the rate so far says it
    would not within the first cycle.  ``flexible``: the preconditioned
    vectors are kept (FGMRES: the preconditioner may change between
    iterations); else a linear preconditioner is applied once more per cycle
    to the combined basis vector instead (half the memory).  ``limit``: None
    after this many iterations in all.  Iterations are counted in
    ``stats.krylov_iterations`` (if given)."""
    beta0 = norm(b)
    if beta0 == 0.0:
        return np.zeros_like(b)
    y = np.zeros_like(b)
    r = b
    V = np.empty((maxiter + 1, len(b)))
    Z = np.empty((maxiter, len(b))) if flexible else None
    total = 0
    for _ in range(cycles):
        beta = norm(r)
        H = np.zeros((maxiter + 1, maxiter))
        cs, sn = np.zeros(maxiter), np.zeros(maxiter)
        g = np.zeros(maxiter + 1)
        g[0] = beta
        V[0] = r / beta
        done = False
        for k in range(maxiter):
            if flexible:
                Z[k] = precondition(V[k])
                w = A @ Z[k]
            else:
                w = A @ precondition(V[k])
            # classical Gram-Schmidt, again only when it cancelled much of w
            # (the DGKS criterion: most iterations need one pass, half the work)
            before = norm(w)
            for _ in range(2):
                h = _dots(V[: k + 1], w)
                w -= _combine(h, V[: k + 1])
                H[: k + 1, k] += h
                H[k + 1, k] = norm(w)
                if H[k + 1, k] > 0.7071 * before:
                    break
            total += 1
            if stats is not None:
                stats.krylov_iterations += 1
            breakdown = not H[k + 1, k] > 0  # the Krylov space is invariant: exact
            if not breakdown:
                V[k + 1] = w / H[k + 1, k]
            for i in range(k):  # previous Givens rotations
                H[i, k], H[i + 1, k] = (cs[i] * H[i, k] + sn[i] * H[i + 1, k],
                                        -sn[i] * H[i, k] + cs[i] * H[i + 1, k])
            rho = math.hypot(H[k, k], H[k + 1, k])
            cs[k], sn[k] = (H[k, k] / rho, H[k + 1, k] / rho) if rho > 0 else (1.0, 0.0)
            H[k, k], H[k + 1, k] = rho, 0.0
            g[k], g[k + 1] = cs[k] * g[k], -sn[k] * g[k]
            relative = abs(g[k + 1]) / beta0
            if not np.isfinite(relative) or rho == 0:
                return None
            done = relative <= rtol or breakdown
            if done:
                break
            if limit is not None and total >= limit:
                return None
            if give_up and k >= 2 and relative > 0:  # iterations needed at the rate so far
                rate = relative ** (1.0 / (k + 1))
                if rate >= 1.0 or math.log(rtol) / math.log(rate) > maxiter + 1:
                    return None
        coefficients = np.linalg.solve(np.triu(H[: k + 1, : k + 1]), g[: k + 1])
        if flexible:
            y = y + _combine(coefficients, Z[: k + 1])
        else:
            y = y + precondition(_combine(coefficients, V[: k + 1]))
        if not np.all(np.isfinite(y)):
            return None
        if done:
            return y
        r = b - A @ y
    return None


#: GMRES restart length: 30, or for a "long" solve (the Schur split of 3 or
#: more unknowns per node) as many vectors of the system's size as
#: _BASIS_ENTRIES entries allow (1.3 GB: 100 up to 1.6 M unknowns), between
#: 30 and 100 (the coupled solves take 3-25 iterations on PNP-BENCH, 25-140
#: on the conical nanopore at 10x density and 90-150 in the blocking cell's
#: first steps, where the restarts lost ground: GMRES(50), the old 3e7
#: entries at 590,000 unknowns, failed the first step of 3D 1e5, five
#: rejections and dt down to 5e-11 s); _MAXITER in all
_RESTART, _BASIS_ENTRIES, _MAXITER = (30, 100), 1.6e8, 270
#: a solve preconditioned by a reused hierarchy (``fresh``: the iterations
#: of its first solve) gives up after max(_REUSED_FACTOR fresh,
#: _REUSED_MIN) iterations: a fresh hierarchy is then built (LinearSolver)
_REUSED_FACTOR, _REUSED_MIN = 3, 40


def _krylov(A, b, precondition, rtol, name: str, fresh: int | None = None,
            long: bool = False) -> tuple[np.ndarray, int]:
    """Right-preconditioned GMRES (stopping on the true residual) with a fixed
    linear preconditioner: (solution, iterations), or NewtonFailure (also
    when a reused preconditioner, whose first solve took ``fresh``
    iterations, needs many more).  ``long``: the restart may grow beyond 30
    (else GMRES(30), whose failure hands a hopeless split over to SuperLU)."""
    stats = _Counter()
    restart = int(min(_RESTART[1] if long else _RESTART[0],
                      max(_RESTART[0], _BASIS_ENTRIES / max(len(b), 1))))
    limit = None if fresh is None else max(_REUSED_FACTOR * fresh, _REUSED_MIN)
    with np.errstate(all="ignore"):
        x = gmres(A, b, precondition, rtol, stats, restart, -(-_MAXITER // restart),
                  give_up=False, flexible=False, limit=limit)
    log.debug("%s GMRES: %d iterations to rtol %.1e", name, stats.krylov_iterations, rtol)
    nb = np.linalg.norm(b)
    if x is None or (nb > 0 and np.linalg.norm(b - A @ x) > 1e3 * max(rtol, 1e-12) * nb):
        raise NewtonFailure(f"the {name} Krylov solve did not converge")
    return x, stats.krylov_iterations


@dataclass
class _Counter:
    krylov_iterations: int = 0
