"""Block (field-split) preconditioning of multi-physics Jacobians: the
model names its fields (:class:`Field`), :class:`_FieldSplit` runs GMRES on
the coupled Jacobian preconditioned by block Gauss-Seidel over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .amg import VCycle, _AlgebraicMultigrid, _NodeBlocks, _smoothed_aggregation
from .krylov import _krylov
from .sparse import _shifted, _without_zeros


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
        part["cycle"] = VCycle(part["ml"])
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
                z[f.dofs] = part["cycle"](rk)
            else:
                zk = np.empty_like(rk)
                zk[part["perm"]] = part["cycle"](rk[part["perm"]])
                z[f.dofs] = zk
        return z

    def solve(self, b, rtol=1e-9):
        x, self.iterations = _krylov(self.A, b, self.precondition, rtol, "field split",
                                      self.fresh_iterations)
        if self.fresh_iterations is None:
            self.fresh_iterations = self.iterations
        return x


def row_view(A: sp.csr_matrix, rows: slice) -> sp.csr_matrix:
    """The rows ``rows`` (a contiguous range) of a CSR matrix, as views of its
    arrays (scipy's constructor would copy views of less than half an array)."""
    lo, hi = rows.start, rows.stop
    start, end = A.indptr[lo], A.indptr[hi]
    out = sp.csr_matrix((hi - lo, A.shape[1]), dtype=A.dtype)
    out.data, out.indices = A.data[start:end], A.indices[start:end]
    out.indptr = (A.indptr[lo:hi + 1] - start).astype(A.indices.dtype, copy=False)
    return out
