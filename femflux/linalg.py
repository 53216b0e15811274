"""Sparse linear solves for Newton: SuperLU, AMG-preconditioned Krylov and
bordered (Lagrange-multiplier) systems.

- :class:`_Direct`: SuperLU in symmetric mode (1D, 2D, small 3D);
- :class:`_AlgebraicMultigrid`: pyamg smoothed aggregation with node-wise
  blocks or rigid-body modes, preconditioning CG or GMRES (large 3D);
- :class:`_BorderedSchur`: a few dense constraint rows by block elimination;
- :class:`LinearSolver`: picks one of them and reuses it across solves.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .memory import trim

log = logging.getLogger(__name__)


def norm(v: np.ndarray) -> float:
    """Euclidean norm without BLAS (whose threads only add overhead at these
    sizes, and much of it on a loaded machine)."""
    return math.sqrt(float(np.einsum("i,i->", v, v)))



class NewtonFailure(Exception):
    """Newton did not converge (caught by the step control)."""


def gmres(A, b, precondition, rtol, stats=None, maxiter=20, cycles=1, give_up=True,
          flexible=True):
    """Right-preconditioned restarted GMRES(maxiter) for ``A y = b``, at most
    ``cycles`` cycles.  None when the residual does not fall below
    ``rtol ||b||``, or, with ``give_up``, as soon as the rate so far says it
    would not within the first cycle.  ``flexible``: the preconditioned
    vectors are kept (FGMRES: the preconditioner may change between
    iterations); else a linear preconditioner is applied once more per cycle
    to the combined basis vector instead (half the memory).  Iterations are
    counted in ``stats.krylov_iterations`` (if given)."""
    beta0 = norm(b)
    if beta0 == 0.0:
        return np.zeros_like(b)
    y = np.zeros_like(b)
    r = b
    V = np.empty((maxiter + 1, len(b)))
    Z = np.empty((maxiter, len(b))) if flexible else None
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
            for _ in range(2):  # classical Gram-Schmidt, twice
                h = np.einsum("ij,j->i", V[: k + 1], w)
                w -= np.einsum("i,ij->j", h, V[: k + 1])
                H[: k + 1, k] += h
            H[k + 1, k] = norm(w)
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
            if give_up and k >= 2 and relative > 0:  # iterations needed at the rate so far
                rate = relative ** (1.0 / (k + 1))
                if rate >= 1.0 or math.log(rtol) / math.log(rate) > maxiter + 1:
                    return None
        coefficients = np.linalg.solve(np.triu(H[: k + 1, : k + 1]), g[: k + 1])
        if flexible:
            y = y + np.einsum("i,ij->j", coefficients, Z[: k + 1])
        else:
            y = y + precondition(np.einsum("i,ij->j", coefficients, V[: k + 1]))
        if not np.all(np.isfinite(y)):
            return None
        if done:
            return y
        r = b - A @ y
    return None



# ---------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------


class _Direct:
    """SuperLU factorisation in symmetric mode: minimum-degree ordering on
    A^T + A (our Jacobians are structurally symmetric: less fill and several
    times faster than COLAMD) with threshold pivoting that prefers the diagonal."""

    def __init__(self, A, shift=None):
        A = A.tocsc(copy=True)
        if shift is not None:
            _shift_diagonal(A, shift)
        A.eliminate_zeros()  # e.g. the scaled rows and columns of Dirichlet dofs
        try:
            self.lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1,
                                options={"SymmetricMode": True})
            self.n = A.shape[0]
        except RuntimeError as exc:  # exactly singular
            raise NewtonFailure(f"singular Jacobian ({exc})") from exc

    def solve(self, b, rtol=None):
        x = self.lu.solve(b)
        if not np.all(np.isfinite(x)):
            raise NewtonFailure("singular Jacobian")
        return x

    def precondition(self, r):
        return self.solve(r)


class _AlgebraicMultigrid:
    """pyamg smoothed aggregation as a preconditioner of CG (symmetric) or GMRES."""

    def __init__(self, A, symmetric: bool, near_nullspace=None, blocks=None, shift=None):
        self.perm = None
        A = _shifted(A, shift)
        M = A
        energy = near_nullspace is not None and symmetric  # elasticity: rigid-body modes
        if blocks is not None:
            # node-wise blocks of coupled fields: aggregate nodes, not unknowns
            self.perm, size = blocks
            self.to_blocks = _NodeBlocks(self.perm, size)
            M = self.to_blocks(A)
            near_nullspace = (np.kron(np.ones((A.shape[0] // size, 1)), np.eye(size))
                              if near_nullspace is None else near_nullspace[self.perm])
        # one copy of the fine matrix, shared by the Krylov method and the hierarchy
        self.M, self.symmetric = _without_zeros(M), symmetric
        self.shape = A.shape
        self.ml = _smoothed_aggregation(self.M, symmetric, near_nullspace, energy=energy)
        self._cycle = self.ml.aspreconditioner()
        self.iterations = 0
        self.fresh_iterations = None  # Krylov iterations with a fresh hierarchy

    def update(self, A, shift=None) -> None:
        """A new matrix with the same pattern: keep the hierarchy as preconditioner."""
        self.M = self.ml.levels[0].A = None  # free the old fine matrix first
        A = _shifted(A, shift)
        self.M = A if self.perm is None else self.to_blocks(A)
        # the fine-level smoother works on the new matrix, the coarse levels are kept
        self.ml.levels[0].A = self.M

    def release(self) -> None:
        """Drop the matrix (its memory can go to the next one); update() restores."""
        self.M = self.ml.levels[0].A = None

    @property
    def stale(self) -> bool:
        """The reused hierarchy needs many more iterations than a fresh one did."""
        return (self.fresh_iterations is not None
                and self.iterations > max(2 * self.fresh_iterations, 20))

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle, in the caller's ordering."""
        if self.perm is None:
            return self._cycle @ r
        z = np.empty_like(r)
        z[self.perm] = self._cycle @ r[self.perm]
        return z

    def solve(self, b, rtol=1e-9):
        from pyamg.krylov import cg, gmres

        rhs = b if self.perm is None else b[self.perm]
        residuals: list[float] = []
        options = {"maxiter": 400} if self.symmetric else {"restart": 100, "maxiter": 4}
        krylov = cg if self.symmetric else gmres
        try:
            y, _ = krylov(self.M, rhs, M=self._cycle, tol=rtol,
                          residuals=residuals, **options)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise NewtonFailure(f"the AMG-preconditioned Krylov solve failed ({exc})") from exc
        self.iterations = len(residuals)
        log.debug("AMG-%s: %d iterations to rtol %.1e", "CG" if self.symmetric else "GMRES",
                  self.iterations, rtol)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        if self.perm is None:
            x = y
        else:
            x = np.empty_like(y)
            x[self.perm] = y
        nb = np.linalg.norm(b)
        residual = rhs - self.M @ y  # in the solver's own (permuted) ordering
        if nb > 0 and np.linalg.norm(residual) > 1e3 * max(rtol, 1e-12) * nb:
            raise NewtonFailure("the Krylov solver did not converge")
        return x


@dataclass
class Field:
    """One field of a block preconditioner (:class:`_FieldSplit`), e.g. the
    displacement of a stress-diffusion model.

    ``dofs``: its contiguous range of unknowns; ``kind``: "amg" (one V-cycle of
    smoothed aggregation) or "diagonal" (its diagonal block is diagonal, e.g. a
    lumped projection); ``node_size``: unknowns per node, component-major in the
    range (aggregated as node blocks); ``near_nullspace``: (len, k) AMG
    candidates in the range's ordering (e.g. rigid-body modes); ``inverse``:
    the model's own fixed approximate inverse of the field's diagonal block
    (a callable r -> z, e.g. the multigrid hierarchy of a constant elasticity
    block built once): the block is then never copied out of the matrix.
    """

    dofs: slice
    kind: str = "amg"
    symmetric: bool = False
    node_size: int = 1
    near_nullspace: np.ndarray | None = None
    inverse: object = None


class _FieldSplit:
    """GMRES on the coupled Jacobian, preconditioned by block Gauss-Seidel over
    the fields in the model's order: field k is solved (one AMG V-cycle, or
    exactly when diagonal) against the residual updated with the fields before
    it.  Exact for block-triangular couplings (one-way stress-diffusion:
    u -> sigma_h -> c); the couplings it drops (chemical expansion) are
    left to the Krylov method.  Hierarchies are reused across Newton iterations.
    ``shift`` (n,) is added to the diagonal blocks (not to the Krylov operator).
    """

    symmetric = False

    def __init__(self, A, fields: list[Field], shift=None):
        self.fields, self.shape = fields, A.shape
        self.A = A.tocsr()
        self.rows = [row_view(self.A, f.dofs) for f in fields]
        self.parts = [self._part(f, shift) for f in fields]
        self.iterations = 0
        self.fresh_iterations = None

    def _block(self, f: Field, shift):
        block = self.rows[self.fields.index(f)][:, f.dofs]
        return block if shift is None else _shifted(block, shift[f.dofs], copy=False)

    def _part(self, f: Field, shift) -> dict:
        if f.inverse is not None:
            return {"inverse": f.inverse}
        block = self._block(f, shift)
        if f.kind == "diagonal":
            d = block.diagonal()
            return {"diagonal": np.where(d != 0, d, 1.0)}
        n, size = block.shape[0], f.node_size
        part: dict = {"perm": None, "to_blocks": None}
        B = f.near_nullspace
        if size > 1:
            perm = (np.arange(size)[None, :] * (n // size) + np.arange(n // size)[:, None]).ravel()
            part["perm"], part["to_blocks"] = perm, _NodeBlocks(perm, size)
            block = part["to_blocks"](block)
            B = (np.kron(np.ones((n // size, 1)), np.eye(size)) if B is None else B[perm])
        part["M"] = _without_zeros(block)
        part["ml"] = _smoothed_aggregation(part["M"], f.symmetric, B,
                                           energy=f.near_nullspace is not None)
        part["cycle"] = part["ml"].aspreconditioner()
        return part

    def update(self, A, shift=None) -> None:
        """A new matrix of the same pattern: new fine blocks, coarse levels kept."""
        self.A = A.tocsr()
        self.rows = [row_view(self.A, f.dofs) for f in self.fields]
        for f, part in zip(self.fields, self.parts, strict=True):
            if "inverse" in part:
                continue
            block = self._block(f, shift)
            if "diagonal" in part:
                d = block.diagonal()
                part["diagonal"] = np.where(d != 0, d, 1.0)
                continue
            part["ml"].levels[0].A = None
            M = part["to_blocks"](block) if part["to_blocks"] is not None else block
            part["M"] = part["ml"].levels[0].A = M

    stale = _AlgebraicMultigrid.stale

    def release(self) -> None:
        """Drop the matrix and its row views (the hierarchies stay); update() restores."""
        self.A = self.rows = None

    def precondition(self, r: np.ndarray) -> np.ndarray:
        z = np.zeros_like(r)
        for k, (f, part, rows) in enumerate(zip(self.fields, self.parts, self.rows, strict=True)):
            rk = r[f.dofs] - rows @ z if k else r[f.dofs]  # z: the fields before this one
            if "inverse" in part:
                z[f.dofs] = part["inverse"](rk)
            elif "diagonal" in part:
                z[f.dofs] = rk / part["diagonal"]
            elif part["perm"] is None:
                z[f.dofs] = part["cycle"] @ rk
            else:
                zk = np.empty_like(rk)
                zk[part["perm"]] = part["cycle"] @ rk[part["perm"]]
                z[f.dofs] = zk
        return z

    def solve(self, b, rtol=1e-9):
        x, self.iterations = _krylov(self.A, b, self.precondition, rtol, "field split")
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        return x


#: GMRES restart length (each costs a vector of the system's size; the
#: field-split solves take 10-25 iterations) and most restart cycles
_RESTART, _CYCLES = 30, 9


def _krylov(A, b, precondition, rtol, name: str) -> tuple[np.ndarray, int]:
    """Right-preconditioned GMRES (stopping on the true residual) with a fixed
    linear preconditioner: (solution, iterations), or NewtonFailure."""
    stats = _Counter()
    with np.errstate(all="ignore"):
        x = gmres(A, b, precondition, rtol, stats, _RESTART, _CYCLES, give_up=False,
                  flexible=False)
    log.debug("%s GMRES: %d iterations to rtol %.1e", name, stats.krylov_iterations, rtol)
    nb = np.linalg.norm(b)
    if x is None or (nb > 0 and np.linalg.norm(b - A @ x) > 1e3 * max(rtol, 1e-12) * nb):
        raise NewtonFailure(f"the {name} Krylov solve did not converge")
    return x, stats.krylov_iterations


@dataclass
class _Counter:
    krylov_iterations: int = 0


class FixedMultigrid:
    """A constant symmetric positive definite block M (e.g. an elasticity
    stiffness with its prescribed dofs eliminated) and its smoothed-aggregation
    hierarchy (node-wise BSR blocks, energy-minimising prolongation of the
    near-nullspace, e.g. rigid-body modes), built once: V-cycles for every
    Newton iteration and time step, and CG solves.

    ``M``: (node-wise BSR, permutation from the caller's component-major
    ordering), see :func:`node_permutation`; ``near_nullspace``: (n, k) in
    the caller's ordering.
    """

    def __init__(self, M: tuple[sp.bsr_matrix, np.ndarray], near_nullspace: np.ndarray):
        self.M, self.perm = M
        self.ml = _smoothed_aggregation(self.M, True, near_nullspace[self.perm], energy=True)
        self._cycle = self.ml.aspreconditioner()

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle, in the caller's ordering."""
        z = np.empty_like(r)
        z[self.perm] = self._cycle @ r[self.perm]
        return z

    def solve(self, b: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
        """M x = b by CG preconditioned with the V-cycle."""
        from pyamg.krylov import cg

        rhs = b[self.perm]
        residuals: list[float] = []
        try:
            y, _ = cg(self.M, rhs, M=self._cycle, tol=rtol, maxiter=400, residuals=residuals)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            raise NewtonFailure(f"the multigrid-preconditioned CG solve failed ({exc})") from exc
        log.debug("AMG-CG (fixed hierarchy): %d iterations to rtol %.1e", len(residuals), rtol)
        nb = np.linalg.norm(b)
        if nb > 0 and np.linalg.norm(rhs - self.M @ y) > 1e3 * max(rtol, 1e-12) * nb:
            raise NewtonFailure("the Krylov solver did not converge")
        x = np.empty_like(y)
        x[self.perm] = y
        return x


def node_permutation(n: int, node_size: int) -> np.ndarray:
    """perm[i node_size + a] = a (n / node_size) + i: node-major position ->
    component-major index."""
    return (np.arange(node_size)[None, :] * (n // node_size)
            + np.arange(n // node_size)[:, None]).ravel()


class _FixedDirect:
    """A factorisation of a constant block given in node-wise order (the
    small-system counterpart of :class:`FixedMultigrid`)."""

    def __init__(self, M: tuple[sp.spmatrix, np.ndarray]):
        matrix, self.perm = M
        self.lu = _Direct(matrix.tocsr())

    def solve(self, b: np.ndarray, rtol=None) -> np.ndarray:
        x = np.empty_like(b)
        x[self.perm] = self.lu.solve(b[self.perm])
        return x

    precondition = solve


def fixed_solver(build, method: str, dim: int, near_nullspace: np.ndarray):
    """A solver of a constant SPD block, built once: SuperLU where
    :class:`LinearSolver` would factorise (1D, 2D, small 3D), else
    :class:`FixedMultigrid`.  Both offer ``precondition(r)`` and ``solve(b, rtol)``
    in component-major order.  ``build()`` returns the block as (node-wise
    BSR, permutation), see :func:`node_permutation`; ``near_nullspace`` (n, k)
    is component-major."""
    n = len(near_nullspace)
    if LinearSolver(method, dim, symmetric=True).choose(n) == "direct" \
            or near_nullspace.shape[1] == 0:
        return _FixedDirect(build())
    return FixedMultigrid(build(), near_nullspace)


def row_view(A: sp.csr_matrix, rows: slice) -> sp.csr_matrix:
    """The rows ``rows`` (a contiguous range) of a CSR matrix, as views of its
    arrays (scipy's constructor would copy views of less than half an array)."""
    lo, hi = rows.start, rows.stop
    start, end = A.indptr[lo], A.indptr[hi]
    out = sp.csr_matrix((hi - lo, A.shape[1]), dtype=A.dtype)
    out.data, out.indices = A.data[start:end], A.indices[start:end]
    out.indptr = (A.indptr[lo:hi + 1] - start).astype(A.indices.dtype, copy=False)
    return out


def _smoothed_aggregation(M, symmetric: bool, near_nullspace=None, energy: bool = False):
    """pyamg smoothed-aggregation hierarchy of M (CSR or BSR with node blocks).
    ``energy``: energy-minimising prolongation (twice the set-up, about half
    the iterations for elasticity in bending)."""
    import pyamg

    # local (Gershgorin-type) weighting of the prolongation smoother avoids
    # the costly spectral-radius estimate on large systems;
    # one forward Gauss-Seidel sweep before and one backward after: half the
    # work of pyamg's default symmetric sweeps for about the same iterations
    kwargs = {"smooth": ("jacobi", {"weighting": "local"}), "max_coarse": 500,
              "coarse_solver": "splu",
              "presmoother": ("gauss_seidel", {"sweep": "forward"}),
              "postsmoother": ("gauss_seidel", {"sweep": "backward"})}
    if not symmetric:
        kwargs["symmetry"] = "nonsymmetric"
    if near_nullspace is not None:
        kwargs["B"] = near_nullspace
    if energy:
        kwargs["smooth"] = "energy"
    try:
        ml = pyamg.smoothed_aggregation_solver(M, **kwargs)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        raise NewtonFailure(f"AMG set-up failed ({exc})") from exc
    for level in ml.levels:
        # prolongations come out of sparse sums whose arrays keep the room of
        # both operands (views of it): compact copies; the candidates B are
        # only needed for the set-up
        for name in ("P", "R"):
            if hasattr(level, name):
                setattr(level, name, getattr(level, name).copy())
        if hasattr(level, "B"):
            del level.B
    return ml


def _without_zeros(M):
    """M without stored zeros (zero blocks would count as strong connections
    in the aggregation; e.g. the rows and columns of Dirichlet dofs)."""
    M = M.copy()
    M.eliminate_zeros()
    return M


class _NodeBlocks:
    """A (field-major CSR) -> A[perm][:, perm] as BSR with node-wise blocks.

    The first conversion records where each BSR entry comes from in ``A.data``;
    for the next matrices of the same pattern (Newton iterations) the
    conversion is one gather, without the two permuted CSR copies.
    """

    def __init__(self, perm: np.ndarray, size: int):
        self.perm, self.size = perm, size
        self.indptr = self.indices = None  # pattern of the learned A
        self.gather = self.fill = self.bsr = None

    def __call__(self, A: sp.csr_matrix) -> sp.bsr_matrix:
        from .fem import same_array

        A = A.tocsr()
        if self.indptr is None or not (same_array(A.indptr, self.indptr)
                                       and same_array(A.indices, self.indices)):
            self._learn(A)
        self.indptr, self.indices = A.indptr, A.indices  # an equal copy: keep the newest only
        data = A.data[self.gather]
        data[self.fill] = 0.0
        indices, indptr = self.bsr
        return sp.bsr_matrix((data.reshape(-1, self.size, self.size), indices, indptr),
                             shape=A.shape)

    def _learn(self, A) -> None:
        size = self.size
        position = sp.csr_matrix((np.arange(1, A.nnz + 1, dtype=float), A.indices, A.indptr),
                                 shape=A.shape)
        M = position[self.perm][:, self.perm].tobsr(blocksize=(size, size))
        M.sort_indices()
        source = M.data.ravel().astype(np.int64) - 1  # -1: fill-in of a block
        self.fill = source < 0
        source[self.fill] = 0
        self.gather = source.astype(np.int32 if A.nnz < 2**31 else np.int64)
        self.bsr = (M.indices, M.indptr)
        self.indptr, self.indices = A.indptr, A.indices


class BorderedMatrix:
    """``[[A, B], [C, 0]]``: a sparse n x n matrix A bordered by k dense columns
    B (n, k) and rows C (k, n) (Lagrange multipliers of gauges and amount
    constraints).  Kept as blocks, so that the border never enters A's
    storage (no copy of A to append it, nor to take it off again)."""

    def __init__(self, A, B, C):
        self.A = A.tocsr()
        self.B = np.asarray(B.toarray() if sp.issparse(B) else B, dtype=float)
        self.C = np.asarray(C.toarray() if sp.issparse(C) else C, dtype=float)
        self.n, self.k = self.A.shape[0], self.C.shape[0]
        self.shape = (self.n + self.k, self.n + self.k)

    def __matmul__(self, z: np.ndarray) -> np.ndarray:
        x, lam = z[: self.n], z[self.n:]
        return np.concatenate([self.A @ x + self.B @ lam, self.C @ x])

    def scaled(self, row_scale, col_scale, in_place: bool = False) -> BorderedMatrix:
        """diag(row_scale) M diag(col_scale), A's data scaled in place if asked."""
        n = self.n
        A = self.A if in_place else self.A.copy()
        scale_in_place(A, row_scale[:n], col_scale[:n])
        return BorderedMatrix(A, row_scale[:n, None] * self.B * col_scale[None, n:],
                              row_scale[n:, None] * self.C * col_scale[None, :n])

    def tocsr(self) -> sp.csr_matrix:
        """The whole matrix as CSR: B's entries inserted at the end of A's rows
        (their columns come after A's), C's rows appended."""
        J = self.A
        if not J.has_canonical_format:
            J = J.copy()
            J.sum_duplicates()
        n = self.n
        GT, G = sp.csr_matrix(self.B), sp.csr_matrix(self.C)
        per_row = np.diff(GT.indptr)
        where = np.concatenate([np.repeat(J.indptr[1:], per_row), np.full(G.nnz, J.nnz)])
        data = np.insert(J.data, where, np.concatenate([GT.data, G.data]))
        indices = np.insert(J.indices, where, np.concatenate([GT.indices + n, G.indices])
                            .astype(J.indices.dtype))
        top = J.indptr + np.concatenate([[0], np.cumsum(per_row)])
        indptr = np.concatenate([top, top[-1] + G.indptr[1:]]).astype(J.indices.dtype)
        return sp.csr_matrix((data, indices, indptr), shape=self.shape)

    @classmethod
    def from_csr(cls, A_full, k: int) -> BorderedMatrix:
        """Split a CSR matrix with k trailing border rows and columns (whose
        lower-right block is zero); A is one copy of the leading rows without
        their border entries (the last of each canonical row)."""
        A_full = A_full.tocsr()
        n = A_full.shape[0] - k
        if not A_full.has_canonical_format:
            A_full = A_full.copy()
            A_full.sum_duplicates()
        top = A_full.indptr[n]
        inner = A_full.indices[:top] < n
        per_row = np.zeros(n, dtype=np.int64)
        filled = np.diff(A_full.indptr[: n + 1]) > 0  # reduceat over the non-empty rows
        if top:
            per_row[filled] = np.add.reduceat(inner, A_full.indptr[:n][filled], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(A_full.indices.dtype)
        A = sp.csr_matrix((A_full.data[:top][inner], A_full.indices[:top][inner], indptr),
                          shape=(n, n))
        return cls(A, A_full[:n, n:].toarray(), A_full[n:, :n].toarray())

    def shift(self, eps: float) -> np.ndarray:
        """eps |diag A| (the mean where it is 0): A + diag(shift) is regular
        where A is singular only in the directions the border fixes."""
        d = np.abs(self.A.diagonal())
        return eps * np.where(d > 0, d, d.mean() if d.any() else 1.0)


def scale_in_place(A: sp.csr_matrix, row_scale: np.ndarray, col_scale: np.ndarray,
                   chunk: int = 1 << 21) -> None:
    """A <- diag(row_scale) A diag(col_scale) on A's own values, about ``chunk``
    entries at a time (no temporary of A's size)."""
    indptr, n = A.indptr, A.shape[0]
    step = max(1, chunk * n // max(A.nnz, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        a, b = indptr[lo], indptr[hi]
        values = A.data[a:b]
        values *= np.repeat(row_scale[lo:hi], np.diff(indptr[lo:hi + 1]))
        values *= col_scale[A.indices[a:b]]


def _shift_diagonal(A, shift) -> None:
    """A += diag(shift), in place (stored diagonals are set, missing ones inserted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        A.setdiag(A.diagonal() + shift)


def _shifted(A, shift, copy: bool = True):
    """A + diag(shift) (A itself when shift is None)."""
    if shift is None:
        return A
    A = A.copy() if copy else A
    _shift_diagonal(A, shift)
    return A


def _as_bordered(A, k: int) -> BorderedMatrix:
    return A if isinstance(A, BorderedMatrix) else BorderedMatrix.from_csr(A, k)


class _BorderedSchur:
    """``[[A, B], [C, 0]]`` (a :class:`BorderedMatrix`) solved by block
    elimination, so that the dense border never enters a factorisation.  ``A``
    is singular exactly in the directions the border fixes, so
    ``A + eps |diag A|`` is factored (eps = 1e-9): the Schur complement
    restores those directions exactly.
    """

    def __init__(self, M: BorderedMatrix, factor):
        self.B, self.C, self.n = M.B, M.C, M.n
        self.inner = factor(M.A, M.shift(1e-9))
        self.AinvB = np.column_stack([self.inner.solve(self.B[:, j]) for j in range(M.k)])
        self.S = self.C @ self.AinvB

    def solve(self, b, rtol=1e-9):
        y = self.inner.solve(b[: self.n], rtol)
        lam = np.linalg.solve(self.S, self.C @ y - b[self.n:])
        return np.concatenate([y - self.AinvB @ lam, lam])


class _BorderedKrylov:
    """``[[A, B], [C, 0]]`` (a :class:`BorderedMatrix`) with an iterative inner
    solver: GMRES on the bordered system, preconditioned by block elimination
    with the inner preconditioner P ~ A^-1: ``y = P r``, ``lam = S^-1 (C y - g)``,
    ``x = y - (P B) lam``, ``S = C P B`` (k preconditioner applications per
    matrix).  The inner preconditioner is built on ``A + eps |diag A|`` (A is
    singular in the directions the border fixes); the Krylov operator is exact.
    """

    eps = 1e-9

    def __init__(self, M: BorderedMatrix, make_inner):
        self.k, self.n, self.shape = M.k, M.n, M.shape
        self.M = M
        self.inner = make_inner(M.A, M.shift(self.eps))
        self._schur()
        self.iterations = 0
        self.fresh_iterations = None

    def _schur(self):
        B = self.M.B
        self.PB = np.column_stack([self.inner.precondition(B[:, j]) for j in range(self.k)])
        self.S = self.M.C @ self.PB

    def update(self, M: BorderedMatrix) -> None:
        self.M = M
        self.inner.update(M.A, M.shift(self.eps))
        self._schur()

    def release(self) -> None:
        self.M = None
        self.inner.release()

    @property
    def stale(self) -> bool:
        return self.inner.stale or (self.fresh_iterations is not None and self.iterations
                                    > max(2 * self.fresh_iterations, 20))

    def _precondition(self, r):
        y = self.inner.precondition(r[: self.n])
        lam = np.linalg.solve(self.S, self.M.C @ y - r[self.n:])
        return np.concatenate([y - self.PB @ lam, lam])

    def solve(self, b, rtol=1e-9):
        z, self.iterations = _krylov(self.M, b, self._precondition, rtol, "bordered")
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        return z


class LinearSolver:
    """Sparse linear solves: SuperLU for small and 2D systems, pyamg-preconditioned
    Krylov for large 3D ones; bordered systems (``border`` trailing multiplier
    rows) by block elimination.  A factorisation or AMG hierarchy is reused
    while the caller passes the same ``reuse_key``.
    """

    #: largest 3D system solved directly (SuperLU fill-in grows fast in 3D);
    #: symmetric systems go to AMG + CG earlier than non-symmetric ones
    direct_limit_3d = {True: 10_000, False: 20_000}
    #: ... and for models with a field-split preconditioner (their coupled
    #: Jacobians are structurally unsymmetric: SuperLU fill grows faster still)
    direct_limit_split = 4_000
    #: largest system refactored directly when the iterative solver fails, as a
    #: multiple of the direct limit (3D fill-in beyond it takes minutes and can
    #: overflow SuperLU's 32-bit indices)
    direct_fallback = 2

    def __init__(self, method: str = "auto", dim: int = 3, symmetric: bool = False,
                 near_nullspace: np.ndarray | None = None, border: int = 0, blocks=None,
                 fields: list[Field] | None = None):
        self.method = method
        self.dim = dim
        self.symmetric = symmetric
        self.near_nullspace = near_nullspace
        self.border = border
        self.blocks = blocks  # (permutation to node-wise order, fields per node) or None
        self.fields = fields  # block preconditioner of a multi-physics model, or None
        self._key = None
        self._cached = None
        self.released = False  # the cached iterative solver has let go of its matrix

    @classmethod
    def for_system(cls, system, method: str = "auto", border: int = 0) -> LinearSolver:
        """A solver configured by the model: its node-wise blocking of coupled
        fields (``node_blocks()``) and AMG near-nullspace (``near_nullspace()``,
        e.g. rigid-body modes), when it provides them."""
        blocks = getattr(system, "node_blocks", None)
        modes = getattr(system, "near_nullspace", None)
        split = getattr(system, "field_split", None)
        fields = split() if split is not None else None
        return cls(method, system.dim, system.symmetric, border=border,
                   blocks=blocks() if blocks is not None and fields is None else None,
                   near_nullspace=modes() if modes is not None and fields is None else None,
                   fields=fields)

    def choose(self, n: int) -> str:
        if self.method != "auto":
            return self.method
        if self.dim <= 2 or n <= self._direct_limit():
            return "direct"
        return "iterative"

    def _direct_limit(self) -> int:
        return self.direct_limit_split if self.fields else self.direct_limit_3d[self.symmetric]

    def solve(self, A, b: np.ndarray, reuse_key=None, rtol=1e-9) -> np.ndarray:
        """Solve A x = b (A sparse, or a :class:`BorderedMatrix`; a sparse A with
        ``border`` > 0 holds the border as its trailing rows and columns).
        Krylov solves stop at ``rtol`` (relative residual)."""
        if self.border:
            A = _as_bordered(A, self.border)
        cached = self._cached
        if reuse_key is not None and reuse_key == self._key and cached is not None \
                and not self.released:
            return cached.solve(b, rtol)
        self.released = False
        if isinstance(cached, _ITERATIVE) and not cached.stale and cached.shape == A.shape:
            cached.update(A)  # AMG hierarchies stay good preconditioners across Newton
        else:
            self._cached = cached = None  # free the old hierarchy before building anew
            self._cached = self._prepare(A)
        self._key = reuse_key
        try:
            return self._cached.solve(b, rtol)
        except NewtonFailure:
            if not self.iterative or A.shape[0] > self.direct_fallback * self._direct_limit():
                raise
            self._cached = self._prepare(A, method="direct")  # robust, if slower
            return self._cached.solve(b, rtol)

    @property
    def iterative(self) -> bool:
        return isinstance(self._cached, _ITERATIVE)

    def release(self) -> None:
        """An iterative solver lets go of its last matrix, keeping its
        preconditioner: the next Jacobian can be assembled in that memory.
        :meth:`resolve` needs :meth:`restore` (or a new :meth:`solve`) first."""
        if self.iterative:
            self._cached.release()
            self.released = True
            trim()  # and the Krylov temporaries go back to the system

    def restore(self, A) -> None:
        """The released matrix back (the same one, assembled again)."""
        if self.border:
            A = _as_bordered(A, self.border)
        self._cached.update(A)
        self.released = False

    def has_factorisation(self, n: int) -> bool:
        """A direct factorisation of an n x n (possibly bordered) matrix is at hand."""
        cached = self._cached
        if isinstance(cached, _BorderedSchur):
            return isinstance(cached.inner, _Direct) and cached.n + len(cached.S) == n
        return isinstance(cached, _Direct) and cached.n == n

    def resolve(self, b: np.ndarray) -> np.ndarray:
        """Solve with the last matrix again (a simplified Newton correction)."""
        if self._cached is None or self.released:
            raise NewtonFailure("no factorisation to reuse")
        return self._cached.solve(b, 1e-6)

    def _prepare(self, A, method=None):
        method = method or self.choose(A.shape[0] - self.border)

        def factor(M, shift=None):
            if method == "direct":
                return _Direct(M, shift)
            if self.fields:
                return _FieldSplit(M, self.fields, shift)
            return _AlgebraicMultigrid(M, self.symmetric, self.near_nullspace, self.blocks,
                                       shift)

        if self.border and method == "direct":
            return _BorderedSchur(A, factor)
        if self.border:
            return _BorderedKrylov(A, factor)
        return factor(A)


_ITERATIVE = (_AlgebraicMultigrid, _FieldSplit, _BorderedKrylov)
