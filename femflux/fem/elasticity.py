"""Vectorised small-strain isotropic linear elasticity kernels.

The displacement ``u`` has ``dim`` components on a Lagrange :class:`~femflux.fem.Space`
and is stored component-major (all ``u_x``, then all ``u_y``, ...).  The strain
is the symmetric gradient plus, in radial geometries, the hoop strains
``u_r / r`` (``hoops`` of them: 1 axisymmetric and 1D cylindrical, 2 for the 1D
sphere).  With the generalised divergence ``div u = tr eps(u)`` (hoops included)
and the isotropic eigenstrain ``alpha I`` (chemical expansion,
``alpha = sum_i Omega_i (c_i - c_0,i) / 3``)

    sigma = lambda_e tr(eps) I + 2 mu eps - beta alpha I,

    int sigma : eps(v) dx = int lambda_e div u div v + 2 mu eps(u):eps(v) dx
                            - int beta alpha div v dx,

with ``beta = 3 lambda + 2 mu`` (3D, plane strain, axisymmetric, 1D uniaxial and
radial strain) or ``lambda_e = 2 lambda mu / (lambda + 2 mu)``,
``beta = 2 lambda_e + 2 mu`` (plane stress, sigma_zz = 0).  The hydrostatic
stress is ``tr(sigma)/3 = (beta/3) div u - n_alpha (beta/3) alpha`` with
``n_alpha`` = 3 (2 in plane stress).

Every routine works on whole arrays of elements and quadrature points
(``einsum``/broadcasting over ``(nel, nq)``); the only Python loops are over the
few components and local basis functions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def lame(youngs_modulus, poisson_ratio):
    """Lame parameters (lambda, mu) in Pa from E (Pa) and nu."""
    E = np.asarray(youngs_modulus, dtype=float)
    nu = np.asarray(poisson_ratio, dtype=float)
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


def hoop_count(geometry: str, dim: int) -> int:
    """Number of hoop strain components u_r/r of a geometry."""
    if geometry == "spherical":
        return 2
    if geometry in ("axisymmetric", "cylindrical"):
        return 1
    return 0


def constitutive(lam, mu, plane_stress: bool):
    """(lambda_e, beta, n_alpha) of the in-plane law (see module docstring)."""
    if plane_stress:
        lam_e = 2 * lam * mu / (lam + 2 * mu)
        return lam_e, 2 * lam_e + 2 * mu, 2
    return lam, 3 * lam + 2 * mu, 3


def divergence_factors(grads, hoop, hoops: int):
    """D[i, a, e, q]: d(div u)/d(u_{i,a}) at the quadrature points (the gradient
    plus ``hoops`` times v_i/r in the radial component)."""
    D = np.array(grads, dtype=float, copy=True)  # (nloc, dim, nel, nq)
    if hoops:
        D[:, 0] += hoops * hoop
    return D


def stiffness_blocks(grads, hoop, hoops, lam, mu, dx):
    """Yield ``(a, b, block)``: the (component a, component b) element matrices
    (nloc, nloc, nel) of int lambda div u div v + 2 mu eps(u):eps(v) dx.

    ``grads`` (nloc, dim, nel, nq) basis gradients, ``hoop`` (nloc, nel, nq)
    v_i / r (or None), ``lam`` and ``mu`` per element (nel,), ``dx`` (nel, nq)
    weights with the metric.  One block at a time keeps the memory at
    nloc^2 values per element.
    """
    nloc, dim, nel, nq = grads.shape
    lam_dx = lam[:, None] * dx
    mu_dx = mu[:, None] * dx
    D = divergence_factors(grads, hoop, hoops)
    if nq == 1:  # one point per element (P1 simplices): no quadrature axis at all
        G, D1 = grads[..., 0], D[..., 0]
        lw, mw = lam_dx[:, 0], mu_dx[:, 0]
        gg = np.einsum("ide,jde->ije", G, G) * mw  # mu grad(v_i).grad(v_j)
        hh = None
        if hoops:
            h = hoop[..., 0]
            hh = 2 * hoops * h[:, None, :] * h[None, :, :] * mw
        # products formed in place: a block and one temporary at a time
        tmp = np.empty((nloc, nloc, nel))
        for a in range(dim):
            for b in range(dim):
                block = np.multiply(D1[:, a][:, None, :], (D1[:, b] * lw)[None, :, :])
                np.multiply(G[:, b][:, None, :], (G[:, a] * mw)[None, :, :], out=tmp)
                block += tmp
                if a == b:
                    block += gg
                if hh is not None and a == b == 0:
                    block += hh
                yield a, b, block
                del block
        return
    gg = np.einsum("ideq,jdeq,eq->ije", grads, grads, mu_dx)
    for a in range(dim):
        for b in range(dim):
            block = np.einsum("ieq,jeq,eq->ije", D[:, a], D[:, b], lam_dx)
            block += np.einsum("ieq,jeq,eq->ije", grads[:, b], grads[:, a], mu_dx)
            if a == b:
                block += gg
            if hoops and a == b == 0:
                block += 2 * hoops * np.einsum("ieq,jeq,eq->ije", hoop, hoop, mu_dx)
            yield a, b, block


def summed_stiffness(slots, nnz, add, grads, hoop, hoops, lam, mu, dx, chunk=1 << 17) -> None:
    """The element matrices of :func:`stiffness_blocks` summed into ``nnz``
    scalar-pattern slots (``slots``: (nloc, nloc, nel) raveled, see
    :func:`scalar_pattern`), ``chunk`` elements at a time (the blocks of
    10^6 elements would take 130 MB each): ``add(a, b, sums)`` receives each
    component pair's partial sums."""
    nloc, _, nel, _ = grads.shape
    slots = slots.reshape(nloc, nloc, nel)
    for start in range(0, nel, chunk):
        e = slice(start, min(nel, start + chunk))
        part = slots[:, :, e].ravel()
        for a, b, block in stiffness_blocks(grads[:, :, e], None if hoop is None else hoop[:, e],
                                            hoops, lam[e], mu[e], dx[e]):
            add(a, b, np.bincount(part, weights=block.ravel(), minlength=nnz))


def stiffness_matrices(grads, hoop, hoops, lam, mu, dx) -> np.ndarray:
    """All element matrices as one array (dim*nloc, dim*nloc, nel), rows and
    columns ordered (component, local function)."""
    nloc, dim, nel, _ = grads.shape
    K = np.empty((dim, nloc, dim, nloc, nel))
    for a, b, block in stiffness_blocks(grads, hoop, hoops, lam, mu, dx):
        K[a, :, b] = block
    return K.reshape(dim * nloc, dim * nloc, nel)


class VectorPattern:
    """CSR structure of a ``dim``-component field (component-major dofs) built
    from the scalar element pattern: element blocks are summed per component
    pair with one ``bincount`` over nloc^2 entries per element, straight into
    their CSR slots (no COO of (dim nloc)^2 entries per element).

    Row ``a n + r`` holds the scalar row r's columns for each component b in
    turn, so the slot of scalar slot k (row r) in block (a, b) is
    ``a dim nnz + k + (dim - 1) S.indptr[r] + b len(r)``: computed per block,
    not stored (memory)."""

    def __init__(self, element_dofs: np.ndarray, n: int, dim: int):
        S, self.slots = scalar_pattern(element_dofs, n)
        self.nnz, self.n, self.dim = S.nnz, n, dim
        length = np.diff(S.indptr).astype(np.int64)
        row_of_slot = np.repeat(np.arange(n), length)
        self._shift = (dim - 1) * S.indptr[row_of_slot].astype(np.int64) \
            + np.arange(S.nnz, dtype=np.int64)
        self._length = length[row_of_slot]
        del row_of_slot
        index = np.int32 if dim * dim * S.nnz < 2**31 else np.int64
        self.indptr = np.concatenate([[0], np.cumsum(np.tile(dim * length, dim))]).astype(index)
        self.indices = np.empty(dim * dim * S.nnz, dtype=index)
        for a in range(dim):
            for b in range(dim):
                self.indices[self._position(a, b)] = b * n + S.indices

    def _position(self, a: int, b: int) -> np.ndarray:
        return a * self.dim * self.nnz + self._shift + b * self._length

    def assemble(self, blocks) -> sp.csr_matrix:
        """Sum the ``(a, b, block)`` element matrices of :func:`stiffness_blocks`."""
        data = np.zeros(len(self.indices))
        for a, b, block in blocks:
            data[self._position(a, b)] = np.bincount(self.slots, weights=block.ravel(),
                                                     minlength=self.nnz)
        return self._matrix(data)

    def stiffness(self, grads, hoop, hoops, lam, mu, dx) -> sp.csr_matrix:
        """The stiffness matrix, summed element chunk by element chunk
        (:func:`summed_stiffness`: the same matrix as ``assemble``, less memory)."""
        data = np.zeros(len(self.indices))

        def add(a, b, sums):
            data[self._position(a, b)] += sums

        summed_stiffness(self.slots, self.nnz, add, grads, hoop, hoops, lam, mu, dx)
        return self._matrix(data)

    def _matrix(self, data) -> sp.csr_matrix:
        size = self.dim * self.n
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(size, size))


def scalar_pattern(element_dofs: np.ndarray, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The scalar element pattern S (n x n CSR, sorted) and the slot in S of
    every element-matrix entry, (nloc, nloc, nel) raveled; searched one local
    pair (i, j) at a time (no int64 keys of all the entries)."""
    nloc, nel = element_dofs.shape
    rows = np.broadcast_to(element_dofs[:, None, :], (nloc, nloc, nel)).ravel()
    cols = np.broadcast_to(element_dofs[None, :, :], (nloc, nloc, nel)).ravel()
    S = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    del rows, cols
    S.sum_duplicates()
    S.sort_indices()
    keys = np.repeat(np.arange(n, dtype=np.int64) * n, np.diff(S.indptr)) + S.indices
    index = np.int32 if S.nnz < 2**31 else np.int64
    slots = np.empty((nloc, nloc, nel), dtype=index)
    for i in range(nloc):
        row = element_dofs[i].astype(np.int64) * n
        for j in range(nloc):
            slots[i, j] = np.searchsorted(keys, row + element_dofs[j])
    return S, slots.ravel()


def node_block_stiffness(element_dofs: np.ndarray, n: int, grads, hoop, hoops, lam, mu,
                         dx) -> sp.bsr_matrix:
    """The stiffness (:func:`stiffness_blocks`) as BSR with (dim x dim) node
    blocks, node-major dofs ``i dim + a`` (the layout of node-wise multigrid):
    the scalar pattern's structure, summed per component pair
    (:func:`summed_stiffness`)."""
    dim = grads.shape[1]
    S, slots = scalar_pattern(element_dofs, n)
    data = np.zeros((S.nnz, dim, dim))

    def add(a, b, sums):
        data[:, a, b] += sums

    summed_stiffness(slots, S.nnz, add, grads, hoop, hoops, lam, mu, dx)
    return sp.bsr_matrix((data, S.indices, S.indptr), shape=(dim * n, dim * n))


def vector_dofs(element_dofs: np.ndarray, n: int, dim: int) -> np.ndarray:
    """(dim*nloc, nel) component-major dof numbers of a vector field."""
    return np.concatenate([element_dofs.astype(np.int64) + a * n for a in range(dim)], axis=0)


def divergence_operator(grads, hoop, hoops, element_dofs, n) -> sp.csr_matrix:
    """Sparse (nel*nq, dim*n) map from u to div u at the quadrature points
    (point (e, q) is row e*nq + q)."""
    nloc, dim, nel, nq = grads.shape
    D = divergence_factors(grads, hoop, hoops)
    rows = np.broadcast_to((np.arange(nel)[:, None] * nq + np.arange(nq)[None, :]),
                           (nloc, dim, nel, nq))
    cols = np.broadcast_to(vector_dofs(element_dofs, n, dim).reshape(dim, nloc, nel)
                           .transpose(1, 0, 2)[..., None], (nloc, dim, nel, nq))
    return sp.csr_matrix((D.ravel(), (rows.ravel(), cols.ravel())), shape=(nel * nq, dim * n))


def strain_at_points(u, element_dofs, grads, hoop, geometry) -> np.ndarray:
    """(3, 3, nel, nq) strain tensor at the quadrature points of the local
    vector field ``u`` (dim, n).  Radial geometries: components (r, z, theta)
    axisymmetric, (r, theta, z) 1D cylindrical, (r, theta, phi) 1D spherical."""
    nloc, dim, nel, nq = grads.shape
    ue = u[:, element_dofs]  # (dim, nloc, nel)
    grad = np.einsum("aie,ideq->adeq", ue, grads)  # du_a/dx_d
    eps = np.zeros((3, 3, nel, nq))
    eps[:dim, :dim] = 0.5 * (grad + grad.transpose(1, 0, 2, 3))
    if hoop is not None:
        ur_over_r = np.einsum("ie,ieq->eq", ue[0], hoop)
        if geometry == "axisymmetric":
            eps[2, 2] = ur_over_r
        elif geometry == "cylindrical":
            eps[1, 1] = ur_over_r
        elif geometry == "spherical":
            eps[1, 1] = eps[2, 2] = ur_over_r
    return eps


def stress_from_strain(eps, alpha, lam_e, mu, beta, plane_stress: bool) -> np.ndarray:
    """sigma = lambda_e tr(eps) I + 2 mu eps - beta alpha I (3, 3, ...), with
    sigma_zz = 0 in plane stress.  lam_e, mu, beta broadcast against eps[0, 0]."""
    tr = eps[0, 0] + eps[1, 1] + eps[2, 2]
    sigma = 2 * mu * eps
    iso = lam_e * tr - beta * alpha
    for k in range(3):
        sigma[k, k] += iso
    if plane_stress:
        sigma[2, 2] = 0.0
    return sigma


def von_mises(sigma: np.ndarray) -> np.ndarray:
    """sqrt(3/2 s:s) of stresses (..., 9) or (..., 3, 3)."""
    s = np.asarray(sigma).reshape(*np.shape(sigma)[:-1], 3, 3) if np.shape(sigma)[-1] == 9 \
        else np.asarray(sigma)
    mean = np.trace(s, axis1=-2, axis2=-1) / 3
    dev = s - mean[..., None, None] * np.eye(3)
    return np.sqrt(1.5 * np.einsum("...ij,...ij->...", dev, dev))


def rigid_body_modes(x: np.ndarray, geometry: str) -> np.ndarray:
    """(dim, npts, k) rigid-body displacement modes at the points ``x`` (dim, npts):
    translations and rotations about the centroid (planar/3D), the axial
    translation (axisymmetric), none in 1D radial geometries."""
    dim, n = x.shape
    if geometry in ("cylindrical", "spherical"):
        return np.zeros((dim, n, 0))
    if geometry == "axisymmetric":
        modes = np.zeros((2, n, 1))
        modes[1, :, 0] = 1.0
        return modes
    xc = x - x.mean(axis=1, keepdims=True)
    scale = max(float(np.abs(xc).max()), 1e-300)
    xc = xc / scale
    translations = [np.eye(dim)[:, a][:, None] * np.ones(n) for a in range(dim)]
    rotations = []
    if dim == 2:
        rotations.append(np.stack([-xc[1], xc[0]]))
    elif dim == 3:
        X, Y, Z = xc
        zero = np.zeros(n)
        rotations += [np.stack([-Y, X, zero]), np.stack([zero, -Z, Y]), np.stack([Z, zero, -X])]
    return np.stack(translations + rotations, axis=-1)
