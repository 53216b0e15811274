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
  the solve picks up where it stopped) and eta_max becomes eta / 100 for
  the rest of that Newton solve;
- **stall**: a line search that had to shorten the step of an inexact
  correction sets eta_max = eta / 100 for the next iterations.

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


@dataclass
class Forcing:
    """The forcing state of one Newton solve: ``cap`` (eta_max), the length of
    the previous correction (``last``) and the eta of the current one."""

    cap: float = LOOSE
    last: float | None = None
    eta: float = 0.0
    inexact: bool = False  # the current correction came from an iterative solve

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
        if self.inexact and self.last is not None and length > self.last:
            target = max(TIGHT, TIGHTEN * self.eta)
            self.cap = min(self.cap, target)
            gap = b - A @ y
            ratio = norm(gap) / max(norm(b), 1e-300)
            if ratio > target:
                try:
                    refined = y + resolve(gap, target / ratio)
                except NewtonFailure:  # the solver cannot go tighter: keep y
                    refined = None
                if refined is not None and np.all(np.isfinite(refined)):
                    log.debug("newton: correction %.3e longer than the last %.3e at eta "
                              "%.1e: continued to %.1e (length %.3e)", length, self.last,
                              self.eta, target, norm(refined))
                    y, length = refined, norm(refined)
                    self.eta = target
        self.last = length
        return y

    def stepped(self, step: float) -> None:
        """The line search took ``step`` along the current correction: an
        inexact one it had to shorten tightens eta_max (the stall rule)."""
        if step < 1.0 and self.inexact:
            self.cap = min(self.cap, max(TIGHT, TIGHTEN * self.eta))
