"""The forcing terms of inexact Newton: how closely an iterative solve of
the scaled Newton system ``J y = R`` must meet it, ``|R - J y| <= eta |R|``
(scaled residuals, dimensionless; ``|.|`` the Euclidean norm), and the
safeguard that tightens eta when an inexact correction is not to be trusted.

    eta_k = min(eta_max, max(1e-10, 0.1 r_k / r_0, 0.5 goal / r_k))

(r_k the scaled residual norm at Newton iteration k, ``goal`` Newton's
target): superlinear (~ r_k / r_0), never tighter than reaching the goal
needs, at most eta_max = 1e-2 at the start of every Newton solve.  A linear
system asks for the goal in one solve (eta = max(1e-10, 0.5 goal / r)).

A small linear residual bounds the error of the correction only through the
condition of J: on the conical nanopore of ``cases/`` at +2 V, Newton's
second correction met eta = 1e-2 (linear residual 7e-3) and was 4.8 times
its own length off the exact one; the update damping then cut the wrong
components, the iterates drifted to nearly singular Jacobians and Newton
stalled.  The safeguard, two rules:

- **growth**: an inexact correction longer than the previous one (scaled,
  undamped; Newton's corrections shrink once it converges, so a longer one
  is checked) is continued to eta / 100 (GMRES on the remaining residual:
  the solve picks up where it stopped); when that moved it by more than
  ``TRUST`` = 1/4 of its length (an estimate of the error of the eta solve:
  the cone's was 4.5, the 3D nanopore's 4e-3), eta_max becomes eta / 100
  for the rest of that Newton solve;
- **stall**: after a line search that had to shorten the step of an
  inexact correction, the next correction is checked in the same way,
  whatever its length.

eta_max never goes below ``TIGHT`` = 1e-6.  Neither rule fires where Newton
converges with full steps and shrinking corrections (PNP-BENCH: the same
Krylov iterations as without them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import NewtonFailure
from ..linalg import norm

log = logging.getLogger(__name__)

#: eta_max at the start of a Newton solve (the Krylov methods measure the
#: true residual: PNP-BENCH 2D 1e5 takes 70 GMRES iterations in all instead
#: of 79 at 1e-3, with the same Newton iterations)
LOOSE = 1e-2
#: the tightest eta_max the safeguard sets
TIGHT = 1e-6
#: eta is divided by this when the safeguard fires
TIGHTEN = 1e-2
#: a correction continued to eta / 100 that moved by more than this fraction
#: of its length tightens eta_max (the looser solves were that far off)
TRUST = 0.25


@dataclass
class Forcing:
    """The forcing state of one Newton solve: ``cap`` (eta_max), the length of
    the previous correction (``last``) and the eta of the current one."""

    cap: float = LOOSE
    last: float | None = None
    eta: float = 0.0
    inexact: bool = False  # the current correction came from an iterative solve
    doubt: bool = False  # the line search shortened the last inexact step

    def term(self, r: float, r0: float, goal: float, linear: bool) -> float:
        """eta for the solve at scaled residual norm r (r0 the first, ``goal``
        Newton's target); ``linear``: the system is linear (one solve)."""
        tiny = 1e-300
        if linear:
            self.eta = max(1e-10, 0.5 * goal / max(r, tiny))
        else:
            self.eta = min(self.cap, max(1e-10, 0.1 * r / max(r0, tiny),
                                         0.5 * goal / max(r, tiny)))
        return self.eta

    def checked(self, A, b: np.ndarray, y: np.ndarray, inexact: bool,
                resolve: Callable[[np.ndarray, float], np.ndarray]) -> np.ndarray:
        """The correction y of ``A y = b`` (met to ``self.eta``), continued to
        eta / 100 by ``resolve(rhs, rtol)`` (the solver of A again) when it
        is inexact and longer than the previous one (the growth rule)."""
        self.inexact = inexact and self.eta > TIGHT
        length = norm(y)
        if self.inexact and self.last is not None and (length > self.last or self.doubt):
            target = max(TIGHT, TIGHTEN * self.eta)
            gap = b - A @ y
            ratio = norm(gap) / max(norm(b), 1e-300)
            if ratio > target:
                try:
                    refined = y + resolve(gap, target / ratio)
                except NewtonFailure:  # the solver cannot go tighter: keep y
                    refined = None
                if refined is not None and np.all(np.isfinite(refined)):
                    length = norm(refined)
                    off = norm(refined - y) / max(length, 1e-300)
                    if off > TRUST:  # the loose solves are not to be trusted here
                        self.cap = min(self.cap, target)
                    log.debug("newton: correction %.3e (the last %.3e, doubt %s) at eta "
                              "%.1e: continued to %.1e (length %.3e, %.1e of it changed)",
                              norm(y), self.last, self.doubt, self.eta, target, length, off)
                    y = refined
                    self.eta = target
        self.last, self.doubt = length, False
        return y

    def stepped(self, step: float) -> None:
        """The line search took ``step`` along the current correction: after
        an inexact one it had to shorten, the next correction is checked
        whatever its length (the stall rule)."""
        self.doubt = step < 1.0 and self.inexact
