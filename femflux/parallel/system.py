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

The rows of scalar unknowns (the electrode potential of a galvanostatic
Butler-Volmer boundary, int i dA = I) are sums over the whole boundary: every
rank assembles its owned share, the last rank (their owner) gets the sum.
What is not distributed yet (gauges and the rigid-body multipliers of a
free elastic body, amount constraints of closed species in steady runs,
floating reservoirs, P2) is refused by
:func:`check_distributable` and :class:`DistributedSystem` with an exit-2
error naming it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import CaseError
from ..solver import System
from . import onsager
from .linear import RowsCSR
from .numbering import Numbering
from .rowplan import RowPlan


def _not_yet(feature: str) -> CaseError:
    return CaseError(f"{feature} is not yet distributed over MPI ranks; run this case on "
                     f"one rank (without mpirun)")


def check_distributable(case) -> None:
    """Exit-2 errors for what the distributed solver cannot do yet (any rank count > 1)."""
    from ..physics.fields.enclosure import stressed_gas_walls

    kind = case.model.kind
    if kind not in ("diffusion", "nernst-planck-poisson", "stress-diffusion", "onsager"):
        raise _not_yet(f"model kind '{kind}'")
    if case.solver.degree != 1:
        raise _not_yet("solver.degree = 2")
    if kind == "stress-diffusion" and case.solver.displacement_degree != 1:
        raise _not_yet("solver.displacement_degree = 2")
    if case.enclosures:
        raise _not_yet("[[enclosure]]")
    stressed = stressed_gas_walls(case)  # walls tied to sigma_h by multipliers
    for b in case.boundaries:
        if b.name in stressed:
            raise _not_yet(f"boundary.{b.name}.{b.solubility_wall.law} under stress")
        if b.applied_current is not None and b.butler_volmer is None:
            raise _not_yet(f"boundary.{b.name}.applied_current without butler_volmer")
    _check_solubilities(case)


def _check_solubilities(case) -> None:
    """Region solubilities that break a species' space (tied copies of the
    interface dofs): Sieverts and Henry regions of one species, or regions of
    one law whose solubility energies differ under a temperature program T(t)."""
    laws = {(r.solubility.species, r.solubility.law) for r in case.regions
            if r.solubility is not None}
    if len(laws) > len({species for species, _ in laws}):
        name = next(r.name for r in case.regions
                    if r.solubility is not None and r.solubility.law == "henry")
        raise _not_yet(f"region.{name}.solubility: Sieverts and Henry regions of one species")
    if case.model.temperature_program is None or case.model.temperature_spatial:
        return
    energies = {}
    for r in case.regions:
        if r.solubility is not None:
            key = (r.solubility.species, r.solubility.law)
            energies.setdefault(key, set()).add(r.solubility.K.energy)
            if len(energies[key]) > 1:
                raise _not_yet(f"region.{r.name}.solubility: solubility energies that "
                               "differ between regions under a temperature program T(t)")


def body_diagonal(model, comm) -> float:
    """The diagonal of the whole mesh's bounding box (m; 1 if 0), from every
    rank's submesh (collective): the serial models' length scale."""
    from mpi4py import MPI

    p = model.fem_mesh.mesh.p
    low, high = p.min(axis=1), p.max(axis=1)
    comm.Allreduce(MPI.IN_PLACE, low, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, high, op=MPI.MAX)
    return float(np.linalg.norm(high - low)) or 1.0


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
        # the same scale for every unknown of a block on all ranks (a block's largest:
        # what remains local, medians of the rows, agrees across ranks)
        x_scale, r_scale = model.x_scale, model.r_scale  # the serial scales (global_max)
        self.x_scale_local = self._block_max(x_scale)
        self.x_scale = self.x_scale_local[self.owned]
        self.r_scale = self._block_max(r_scale)[self.owned]
        fixed, _ = model.dirichlet(0.0)
        self.fixed_local = np.zeros(model.n, dtype=bool)
        self.fixed_local[fixed] = True
        #: the column scale of Newton's scaled Jacobian, per local unknown
        self.col_scale = self.x_scale_local * ~self.fixed_local
        self.scalars = num.scalars
        #: several unknowns per node (species, phi): Schwarz/ILU rather than AMG
        self.coupled = int(num.block_of.max(initial=0)) > 0
        self._currents = _applied_currents(model)
        self.n_free = int(num.sum(np.count_nonzero(~self.fixed_local[self.owned])))
        self._position = np.full(model.n, -1, dtype=np.int64)
        self._position[self.owned] = np.arange(self.n)
        self._plan = None  # the RowPlan of the model Jacobian's pattern

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

    def scaled_matrix(self, J: OwnedRows, row_scale, fixed):
        """diag(row_scale) J diag(col_scale), identity rows at the ``fixed`` owned
        positions, columns in global numbering: this rank's rows of Newton's
        matrix, as :class:`~.linear.RowsCSR`.  Rows straight from the model's
        Jacobian take the lean path of :mod:`.rowplan` (no copy of the rows, the
        same PETSc matrix refilled while the pattern lasts); the others (sums
        with the storage Jacobian, scalar rows) a scipy sum."""
        if J.extra is None and J.local is not None:
            lean = self._lean(J.local, row_scale, fixed)
            if lean is not None:
                return lean
        A = sp.csr_matrix(J.A)
        data = A.data * np.repeat(row_scale, np.diff(A.indptr)) * self.col_scale[A.indices]
        cols = self.numbering.l2g[A.indices]
        shape = (self.n, self.numbering.N)
        out = sp.csr_matrix((data, cols, A.indptr), shape=shape)
        extra = [sp.csr_matrix((np.ones(len(fixed)), (fixed, self.numbering.start + fixed)),
                               shape=shape)]
        if J.extra is not None:
            rows, gcols, vals = J.extra
            extra.append(sp.csr_matrix((vals * row_scale[rows], (rows, gcols)), shape=shape))
        for block in extra:
            out = out + block
        out = out.tocsr()
        out.sum_duplicates()
        return RowsCSR.from_scipy(out)

    def _lean(self, J: sp.csr_matrix, row_scale, fixed):
        """The scaled owned rows of the local Jacobian ``J`` through the cached
        :class:`~.rowplan.RowPlan` of its pattern (None: the generic path)."""
        if not sp.isspmatrix_csr(J) or not J.has_canonical_format:
            return None  # duplicates must be summed (PETSc would overwrite them)
        plan = self._plan
        if plan is None or not plan.fits(J):
            self._plan = plan = None  # the old plan's arrays go first
            self._plan = plan = RowPlan(J, self.owned, self.numbering.l2g,
                                        self.numbering.start, (self.n, self.numbering.N))
        return plan.scaled(J, row_scale, self.col_scale, fixed)

    # -- the System interface --------------------------------------------------

    def initial_state(self) -> np.ndarray:
        """The model's initial state; a scalar unknown (an electrode's first
        guess, a mean over its boundary) the mean of the ranks that see it."""
        x = self.model.initial_state()
        if len(self.scalars):
            values = np.array(self.comm.allgather(x[self.scalars]))
            x[self.scalars] = np.nan_to_num(np.nanmean(np.where(np.isfinite(values), values,
                                                                np.nan), axis=0))
        return x[self.owned]

    def dirichlet(self, t: float):
        dofs, values = self.model.dirichlet(t)
        where = self._position[dofs]
        keep = where >= 0
        return where[keep], np.asarray(values)[keep]

    def storage(self, x, t=0.0):
        S, dS = self.model.storage(self.local(x), t)
        return S[self.owned], self.rows(dS)

    def flux(self, x, t):
        return self._flux(self.local(x), t)

    def _flux(self, xl, t):
        """Owned rows of F and dF/dx (:class:`OwnedRows`).  The rows of scalar
        unknowns (int i dA - I of a galvanostatic electrode) are sums over the
        whole boundary: every rank assembles its owned share (the weights of
        the other ranks' points set to 0), the last rank, which owns them, gets
        the sum of the values and every rank's entries."""
        F, dF = self.model.flux(xl, t)
        if not len(self.scalars):
            return F[self.owned], OwnedRows(local=dF, owned=self.owned)
        F, A = F[self.owned], self.rows(dF)
        from .report import owned_share

        with owned_share(self.model, self.part.owned_vertices):
            Fm, Jm = self.model.flux(xl, t)
        values = Fm[self.scalars]
        size = self.comm.size
        for k, current in self._currents:  # -I once, not once per rank
            values[k] += current(t) * (size - 1) / size
        values = self.numbering.sum(values)
        rows = sp.coo_matrix(sp.csr_matrix(Jm)[self.scalars])
        mine = (rows.row, self.numbering.l2g[rows.col], rows.data * self.col_scale[rows.col])
        everyone = self.comm.gather(mine, root=size - 1)
        extra = None
        if self.comm.rank == size - 1:
            first = self.n - len(self.scalars)
            F[first:] = values
            keep = np.ones(self.n)
            keep[first:] = 0.0
            A = (sp.diags(keep) @ A).tocsr()
            extra = tuple(np.concatenate(parts) for parts in zip(*everyone, strict=True))
            extra = (extra[0] + first, extra[1], extra[2])
        return F, OwnedRows(A, extra)

    def residual_parts(self, x, t):
        """(S, dS, F, dF) owned rows from one ghost update."""
        xl = self.local(x)
        S, dS = self.model.storage(xl, t)
        F, dF = self._flux(xl, t)
        return S[self.owned], self.rows(dS), F, dF

    def damp_update(self, x, dx):
        out = self.model.damp_update(self.local(x), self.local(dx))
        return out[self.owned]

    def time_error(self, x, e, atol_fraction):
        """The model's own measure (Cahn-Hilliard, :mod:`.onsager`), else the
        serial default, each reduced over all ranks: the RMS over the free
        unknowns of e / max(|x|, atol_fraction x_scale)."""
        own = onsager.time_error(self, x, e, atol_fraction)
        if own is not None:
            return own
        weight = np.maximum(np.abs(x), atol_fraction * self.x_scale)
        free = ~self.fixed_local[self.owned]
        total = self.numbering.sum(float(np.sum((e[free] / weight[free]) ** 2)))
        return float(np.sqrt(total / max(self.n_free, 1)))

    def time_step_limit(self, x, rtol):
        return onsager.time_step_limit(self, x, rtol)

    def conserved(self):
        return np.zeros((0, self.n))


class OwnedRows:
    """A rank's rows of a Jacobian: ``A`` (owned rows, local columns) and
    ``extra`` entries (owned row, global column, value already multiplied by
    its column's scale) gathered from other ranks, or None.  Given as the
    model's ``local`` Jacobian (all local rows) and the ``owned`` rows, ``A``
    is cut only when asked for (:meth:`DistributedSystem.scaled_matrix` reads
    the owned rows of ``local`` in place)."""

    def __init__(self, A: sp.csr_matrix | None = None, extra=None, local=None, owned=None):
        self._A, self.extra, self.local, self._owned = A, extra, local, owned

    @property
    def A(self) -> sp.csr_matrix:
        if self._A is None:
            self._A = sp.csr_matrix(self.local)[self._owned]
            self.local = None
        return self._A

    def plus(self, B: sp.spmatrix) -> OwnedRows:
        """These rows + B (owned rows, local columns)."""
        return OwnedRows((self.A + B).tocsr(), self.extra)


def _applied_currents(model) -> list:
    """(index among the scalar unknowns, I(t)) of every galvanostatic electrode."""
    from ..physics.boundary.electric import Galvanostatic, _scalar

    electric = model.electric
    if electric is None:
        return []
    first = electric.offset + electric.space.n
    return [(c.electrode.unknown - first,
             lambda t, c=c: _scalar(c.boundary.applied_current, model.dim, t))
            for c in electric.conditions if isinstance(c, Galvanostatic)]
