"""A rank's share of the distributed system: the solver's :class:`System` on
the unknowns this rank owns.

The rank's model is the serial model on its submesh (owned nodes and two
layers of halo cells): its residual and Jacobian rows at the owned unknowns
are exactly the serial ones, assembled by the same code.  This class

- turns an owned vector into the model's local vector (halo values from their
  owners, :meth:`Numbering.ghost_update`);
- keeps the owned rows of the model's residual and Jacobian, the Jacobian's
  columns in global numbering (a CSR block of PETSc's distributed matrix:
  no rank holds the global Jacobian);
- answers the solver's hooks with global reductions where the serial
  answer is a sum over all unknowns (``time_error``).

Features whose rows are sums over the whole mesh (gauges, amount
constraints of closed species in steady runs, the model's own
preconditioners and mechanical equilibria) are refused by
:func:`check_distributable` with an exit-2 error naming them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import CaseError
from ..solver import System
from .numbering import Numbering


def _not_yet(feature: str) -> CaseError:
    return CaseError(f"{feature} is not yet distributed over MPI ranks; run this case on "
                     f"one rank (without mpirun)")


def check_distributable(case) -> None:
    """Exit-2 errors for what the distributed solver cannot do yet (any rank count > 1)."""
    kind = case.model.kind
    if kind not in ("diffusion", "nernst-planck-poisson"):
        raise _not_yet(f"model kind '{kind}'")
    if case.solver.degree != 1:
        raise _not_yet("solver.degree = 2")
    if case.traps:
        raise _not_yet("[[trap]]")
    for b in case.boundaries:
        if b.applied_current is not None:
            raise _not_yet(f"boundary.{b.name}.applied_current")


class DistributedSystem(System):
    """The :class:`~femflux.solver.System` of the owned unknowns of a rank's model."""

    def __init__(self, model, part, comm):
        self.model, self.part, self.comm = model, part, comm
        if model.constraints(model.initial_state(), True) is not None:
            raise _not_yet("a potential gauge (no potential, applied_current or "
                           "butler_volmer boundary: mean phi = 0)")
        self.numbering = Numbering(model, part, comm)
        num = self.numbering
        self.owned = num.owned
        self.n = num.n_owned
        self.dim = model.dim
        self.symmetric = model.symmetric
        self.linear = model.linear
        # the same scale for every unknown of a block on all ranks (a block's largest)
        x_scale, r_scale = self._species_scales(model)
        self.x_scale_local = self._block_max(x_scale)
        self.x_scale = self.x_scale_local[self.owned]
        self.r_scale = self._block_max(r_scale)[self.owned]
        fixed, _ = model.dirichlet(0.0)
        self.fixed_local = np.zeros(model.n, dtype=bool)
        self.fixed_local[fixed] = True
        self.n_free = int(num.sum(np.count_nonzero(~self.fixed_local[self.owned])))
        self._position = np.full(model.n, -1, dtype=np.int64)
        self._position[self.owned] = np.arange(self.n)

    def _species_scales(self, model):
        """The model's scales, with each species' concentration scale that of
        the whole mesh: the largest initial or prescribed value over all ranks
        (a rank seeing only zeros would otherwise take c_ref)."""
        from mpi4py import MPI

        x0 = model.species_initial_state()
        fixed, values = model.dirichlet(0.0)
        top = np.zeros(model.n)
        top[fixed] = np.abs(values)
        x_scale, r_scale = model.x_scale.copy(), model.r_scale.copy()
        for s in model.species:
            sl = s.slice
            local = max(float(np.abs(x0[sl]).max(initial=0.0)),
                        float(top[sl].max(initial=0.0)))
            c = self.comm.allreduce(local, op=MPI.MAX) or model.c_ref
            r_scale[sl] *= c / x_scale[sl]
            x_scale[sl] = c
        return x_scale, r_scale

    def _block_max(self, values: np.ndarray) -> np.ndarray:
        """Per-unknown values replaced by their block's largest over all ranks."""
        from mpi4py import MPI

        blocks = self.numbering.block_of
        nb = int(self.comm.allreduce(int(blocks.max(initial=-1)) + 1, op=MPI.MAX))
        top = np.zeros(nb)
        np.maximum.at(top, blocks, values)
        self.comm.Allreduce(MPI.IN_PLACE, top, op=MPI.MAX)
        return top[blocks]

    # -- vectors ---------------------------------------------------------------

    def local(self, x_owned: np.ndarray) -> np.ndarray:
        """The model's local vector (halo included) of an owned vector (collective)."""
        return self.numbering.ghost_update(x_owned)

    def rows(self, J: sp.spmatrix) -> sp.csr_matrix:
        """The owned rows of a local Jacobian (local columns)."""
        return sp.csr_matrix(J)[self.owned]

    def global_columns(self, J: sp.csr_matrix) -> sp.csr_matrix:
        """Owned rows with local columns -> the same rows with global columns."""
        out = sp.csr_matrix((J.data, self.numbering.l2g[J.indices], J.indptr),
                            shape=(self.n, self.numbering.N))
        out.sum_duplicates()
        return out

    # -- the System interface --------------------------------------------------

    def initial_state(self) -> np.ndarray:
        return self.model.initial_state()[self.owned]

    def dirichlet(self, t: float):
        dofs, values = self.model.dirichlet(t)
        where = self._position[dofs]
        keep = where >= 0
        return where[keep], np.asarray(values)[keep]

    def storage(self, x):
        S, dS = self.model.storage(self.local(x))
        return S[self.owned], self.rows(dS)

    def flux(self, x, t):
        F, dF = self.model.flux(self.local(x), t)
        return F[self.owned], self.rows(dF)

    def residual_parts(self, x, t):
        """(S, dS, F, dF) owned rows from one ghost update."""
        xl = self.local(x)
        S, dS = self.model.storage(xl)
        F, dF = self.model.flux(xl, t)
        return S[self.owned], self.rows(dS), F[self.owned], self.rows(dF)

    def damp_update(self, x, dx):
        out = self.model.damp_update(self.local(x), self.local(dx))
        return out[self.owned]

    def time_error(self, x, e, atol_fraction):
        """The serial default measure, reduced over all ranks: the RMS over the
        free unknowns of e / max(|x|, atol_fraction x_scale)."""
        weight = np.maximum(np.abs(x), atol_fraction * self.x_scale)
        free = ~self.fixed_local[self.owned]
        total = self.numbering.sum(float(np.sum((e[free] / weight[free]) ** 2)))
        return float(np.sqrt(total / max(self.n_free, 1)))

    def conserved(self):
        return np.zeros((0, self.n))
