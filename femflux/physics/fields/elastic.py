"""Quasi-static linear elasticity with the hydrostatic stress as a field (SPEC 4.3).

    div sigma = 0,   sigma = C : (eps(u) - eps_ch),
    eps_ch = sum_i (Omega_i / 3)(c_i - c_0,i) I   (``chemical_expansion``: two-way),

sigma in Pa, u in m.  Unknowns: the hydrostatic stress sigma_h = tr(sigma)/3
as a continuous field on the species' space, defined by its lumped L2
projection ``w_k (sigma_h,k - [tr(sigma)/3]_k) = 0``, then the displacement
(``dim`` components, Lagrange degree ``displacement_degree``,
component-major).  Every species with a partial molar volume gets the
mechanical term -Omega sigma_h (drift -Omega sigma_h / RT).  All mechanical
rows are linear in the unknowns: one constant sparse matrix (rows A_sh, A_u)
plus the boundary loads.

Geometries: 3D; 2D plane strain / plane stress; axisymmetric (r, z, theta with
eps_theta = u_r / r, u_r = 0 on the axis); 1D planar uniaxial strain, 1D
cylindrical (eps_theta = u/r, eps_z = 0) and 1D spherical (two hoop strains).
Rigid-body motion that no displacement condition removes is removed by zero
mean displacement and zero mean rotation (lumped weights), bordered Lagrange
multipliers (SPEC 4.0).  The constant elastic block and its multigrid
hierarchy are built once (:meth:`Elasticity.elastic_block`); they serve the
initial equilibrium and the displacement block of the field split.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...case import evaluate
from ...fem import PointSet, Space
from ...fem import elasticity as el
from ...linalg import Field, fixed_solver, node_permutation
from ...memory import trim
from ...solver import LinearProblem
from ..boundary import prescribed
from ..boundary.mechanical import Displacement, loads
from ..terms import Mechanical
from . import AuxiliaryField


class Elasticity(AuxiliaryField):
    """sigma_h and u: the mechanical rows of a species-transport model."""

    name = "elasticity"
    symmetric = False  # the sigma_h rows and the couplings are not symmetric

    # -- set-up -----------------------------------------------------------------

    def setup(self, offset: int) -> int:
        m = self.model
        case = m.case
        self.elastic = case.elasticity
        self.geometry = m.fem_mesh.geometry
        self.plane_stress = (m.dim == 2 and self.geometry == "planar"
                             and self.elastic.plane == "stress")
        self.hoops = el.hoop_count(self.geometry, m.dim)
        all_regions = tuple(m.region_names)
        self.sh_space = m.make_space(all_regions)
        p_u = case.solver.displacement_degree
        self.u_space = self.sh_space if p_u == m.degree else Space(m.fem_mesh, p_u)
        self.offset = self.sh_offset = offset
        self.u_offset = offset + self.sh_space.n
        self.n_u = self.u_space.n
        self.n_mech = self.sh_space.n + m.dim * self.n_u
        # material per region and per element
        E = np.full(m.nregions, self.elastic.youngs_modulus)
        nu = np.full(m.nregions, self.elastic.poisson_ratio)
        for region in case.regions:
            k = m.region_index[region.name]
            if region.youngs_modulus is not None:
                E[k] = region.youngs_modulus
            if region.poisson_ratio is not None:
                nu[k] = region.poisson_ratio
        self.E_region, self.nu_region = E, nu
        lam, mu = el.lame(E, nu)
        lam_e, beta, n_alpha = el.constitutive(lam, mu, self.plane_stress)
        self.n_alpha = n_alpha
        region_of_element = m.fem_mesh.region_ids[self.u_space.elements]
        self.lam_e, self.mu, self.beta = (lam_e[region_of_element], mu[region_of_element],
                                          beta[region_of_element])
        self.omega = self._partial_molar_volumes()
        self.c0 = np.array([self.elastic.stress_free_concentration.get(s.name, 0.0)
                            for s in m.species]) if self.elastic.chemical_expansion \
            else np.zeros(len(m.species))
        self._build_quadrature()
        self.displacements = [Displacement.on_boundary(self, b) for b in case.boundaries
                              if b.displacement is not None]
        axis = Displacement.on_axis(self)
        if axis is not None:
            self.displacements.append(axis)
        self._mech_dirichlet = [c for d in self.displacements for c in d.components]
        self._rigid = self._rigid_constraints()
        self._elastic = None  # the constant elastic block and its multigrid (built once)
        self._vertex_P = None  # the lumped projection of stresses to the vertices
        self._build_operators()
        self.loads = loads(self)
        # Body force f(x, t) -> (dim, npts) in N/m^3: a Python-API hook
        # (manufactured solutions); the case file has no such key.
        self.body_force = None
        self.size = self.n_mech
        return self.n_mech

    def _partial_molar_volumes(self) -> np.ndarray:
        """(nspecies, nregions) Omega (one value per species: the case layer
        rejects a species whose partial_molar_volume differs between regions)."""
        m = self.model
        omega = np.zeros((len(m.species), m.nregions))
        for s in m.species:
            omega[s.index] = s.spec.partial_molar_volume
            for region in m.case.regions:
                if s.name in region.partial_molar_volume:
                    omega[s.index, m.region_index[region.name]] = \
                        region.partial_molar_volume[s.name]
        return omega

    def _build_quadrature(self) -> None:
        """The displacement space's quadrature points as a point set, and the
        prolongations of the species and sigma_h spaces to them."""
        m = self.model
        us = self.u_space
        nel, nq = us.dx.shape
        x = us.quadrature_x
        self.qpoints = PointSet(x=x.reshape(x.shape[0], -1), weight=us.dx.ravel(),
                                region=np.repeat(m.fem_mesh.region_ids[us.elements], nq)
                                .astype(np.int32), kind="gauss", element=np.arange(nel * nq),
                                quadrature=(us.basis.X, us.basis.W))
        self.hoop = None
        if self.hoops:
            self.hoop = us.values / x[0][None, :, :]  # v_i / r
        self._q_cache: dict[int, sp.csr_matrix] = {}

    def _q_prolongation(self, space: Space) -> sp.csr_matrix:
        if id(space) not in self._q_cache:
            self._q_cache[id(space)] = self.qpoints.prolongation(space)
        return self._q_cache[id(space)]

    def _build_operators(self) -> None:
        """The constant matrices of all mechanical rows, A_sh (sigma_h rows) and
        A_u (displacement rows), each (rows x n), and the constant part of their
        right-hand side."""
        m = self.model
        us, dim = self.u_space, m.dim
        dx = self.qpoints.weight  # (npts,)
        nq = us.dx.shape[1]
        Dq = el.divergence_operator(us.grads, self.hoop, self.hoops, us.element_dofs, us.n)
        # the median nodal force scale |D|^T w (Newton's displacement row scale)
        self._u_force = max(float(np.median(abs(Dq).T @ dx)), 1e-300)
        if self._rigid is None:  # the equilibrium will need it: built before the
            self.elastic_block()  # big operators exist (lower peak memory)
            trim()
        beta_q = np.repeat(self.beta, nq)
        Pq_sh = self._q_prolongation(self.sh_space)
        self.sh_weight = Pq_sh.T @ dx  # lumped projection weights
        # alpha at the points: sum_s A_s a_s - alpha0
        self._alpha_ops = []
        alpha0 = np.zeros(len(dx))
        region_q = self.qpoints.region
        if self.elastic.chemical_expansion:
            for s in m.species:
                Pq = self._q_prolongation(s.space)
                present = np.asarray(Pq.sum(axis=1)).ravel() != 0
                factor = self.omega[s.index, region_q] / 3.0 / s.gamma[region_q] * present
                if not np.any(factor):
                    continue
                self._alpha_ops.append((s, factor))  # alpha_s = factor * (P_q a_s)
                alpha0 += self.omega[s.index, region_q] / 3.0 * self.c0[s.index] * present
        self.alpha0 = alpha0
        kappa = beta_q / 3.0
        kappa_alpha = self.n_alpha * beta_q / 3.0
        n_sh = self.sh_space.n
        sh_u = -(Pq_sh.T @ sp.diags(dx * kappa) @ Dq)
        sh_sh = sp.diags(self.sh_weight)
        coupling_sh = sp.csr_matrix((n_sh, self.sh_offset))
        coupling_u = sp.csr_matrix((dim * us.n, self.sh_offset))
        for s, factor in self._alpha_ops:
            embed = sp.csr_matrix((np.ones(s.space.n), (np.arange(s.space.n),
                                   s.offset + np.arange(s.space.n))),
                                  shape=(s.space.n, self.sh_offset))
            A = sp.diags(factor) @ self._q_prolongation(s.space) @ embed
            coupling_sh = coupling_sh + Pq_sh.T @ sp.diags(dx * kappa_alpha) @ A
            coupling_u = coupling_u - Dq.T @ sp.diags(dx * beta_q) @ A
            del A
        # the rows as two CSR matrices, each stacked from CSR blocks (scipy joins
        # them directly: no COO triples of 40 M entries, no third copy)
        self.A_sh = sp.hstack([coupling_sh, sp.csr_matrix(sh_sh), sh_u], format="csr")
        del coupling_sh, sh_sh, sh_u
        trim()
        K_uu = self.elastic_stiffness()  # only inside A_u (memory)
        trim()
        self.A_u = sp.hstack([coupling_u, sp.csr_matrix((dim * us.n, n_sh)), K_uu],
                             format="csr")
        del K_uu, coupling_u
        trim()
        self.b_mech0 = np.concatenate([
            -(Pq_sh.T @ (dx * kappa_alpha * alpha0)),
            Dq.T @ (dx * beta_q * alpha0)])

    def elastic_stiffness(self) -> sp.csr_matrix:
        """The (u, u) block: vectorised element matrices summed through a Pattern."""
        m = self.model
        us, dim = self.u_space, m.dim
        pattern = el.VectorPattern(us.element_dofs, us.n, dim)
        return pattern.stiffness(us.grads, self.hoop, self.hoops, self.lam_e, self.mu, us.dx)

    # -- boundary conditions ------------------------------------------------------

    def dirichlet(self, t: float):
        return prescribed(self.displacements, t)

    def _load_vector(self, t: float) -> np.ndarray:
        """int t . v ds over the traction and pressure boundaries (u rows)."""
        f = np.zeros(self.model.dim * self.n_u)
        for load in self.loads:
            load.add_load(t, f)
        return f

    # -- rigid-body motion ---------------------------------------------------------

    def _rigid_constraints(self):
        """Rows G (k x n) of zero mean displacement / rotation for the rigid
        modes no displacement condition removes (None if all are removed)."""
        m = self.model
        modes = el.rigid_body_modes(self.u_space.x, self.geometry)  # (dim, n_u, k)
        if modes.shape[-1] == 0:
            return None
        R = modes.reshape(m.dim * self.n_u, -1)  # component-major rows
        fixed = [d - self.u_offset for d, _, _ in self._mech_dirichlet]
        if fixed:
            fixed = np.unique(np.concatenate(fixed))
            Rf = R[fixed]
            _, svals, vt = np.linalg.svd(Rf, full_matrices=True)
            tol = 1e-8 * max(float(svals.max(initial=0.0)), 1e-300) * max(Rf.shape)
            rank = int(np.sum(svals > tol)) if len(svals) else 0
            free_modes = vt[rank:].T  # combinations of modes that the conditions leave
        else:
            free_modes = np.eye(R.shape[1])
        if free_modes.shape[1] == 0:
            return None
        weight = np.abs(self._q_prolongation(self.u_space).T @ self.qpoints.weight)
        weight = np.tile(weight, m.dim)
        G = (R @ free_modes).T * weight[None, :]  # on the displacement dofs
        return G / np.abs(G).sum(axis=1, keepdims=True)

    def constraints(self, x, steady):
        if self._rigid is None:
            return None
        m = self.model
        G = sp.hstack([sp.csr_matrix((len(self._rigid), self.u_offset)),
                       sp.csr_matrix(self._rigid),
                       sp.csr_matrix((len(self._rigid), m.n - self.u_slice.stop))], format="csr")
        scale = np.full(len(self._rigid), self.u_scale)
        return G @ x, G, scale

    # -- drift -----------------------------------------------------------------------

    def drift_term(self, s):
        m = self.model
        omega = float(self.omega[s.index, s.regions][0]) if s.regions.any() else 0.0
        if omega == 0.0:
            return None
        return Mechanical(omega, m.RT, m.field_index(s, self.sh_offset, self.sh_space),
                          self.sh_offset, self.sh_space)

    def nodal(self):
        return [(self.sh_offset, self.sh_space)] + [
            (self.u_offset + a * self.n_u, self.u_space) for a in range(self.model.dim)]

    # -- equations ----------------------------------------------------------------------

    @property
    def mech_slice(self) -> slice:
        return slice(self.sh_offset, self.sh_offset + self.n_mech)

    @property
    def sh_slice(self) -> slice:
        return slice(self.sh_offset, self.u_offset)

    @property
    def u_slice(self) -> slice:
        return slice(self.u_offset, self.sh_offset + self.n_mech)

    def mech_rhs(self, t: float) -> np.ndarray:
        m = self.model
        b = self.b_mech0.copy()
        if self.loads:
            b[self.sh_space.n:] -= self._load_vector(t)
        if self.body_force is not None:
            P = self._q_prolongation(self.u_space)
            f = np.asarray(self.body_force(self.qpoints.x, t), dtype=float)
            for a in range(m.dim):
                b[self.sh_space.n + a * self.n_u:self.sh_space.n + (a + 1) * self.n_u] -= \
                    P.T @ (self.qpoints.weight * f[a])
        return b

    def residual(self, x, t, F, rows, cols, vals, pieces):
        F[self.mech_slice] += np.concatenate([self.A_sh @ x, self.A_u @ x]) + self.mech_rhs(t)
        pieces.append((self.sh_offset, 0, self.A_sh))
        pieces.append((self.u_offset, 0, self.A_u))

    @property
    def A_mech(self) -> sp.csr_matrix:
        """All mechanical rows as one matrix (n_mech x n; a copy)."""
        return sp.vstack([self.A_sh, self.A_u], format="csr")

    # -- scales and initial state --------------------------------------------------------

    def _stress_scale(self, size: float | None = None, fallback: bool = True) -> float:
        """Newton's stress scale (Pa): the largest load, E u_D / size of the
        prescribed displacements (``size``: the body's diagonal, m, by default
        that of this mesh) and chemical stress; 1e-6 E if all are 0 (unless
        not ``fallback``: 0 then)."""
        m = self.model
        values = [load.magnitude() for load in self.loads]
        if size is None:
            size = float(np.linalg.norm(np.ptp(m.fem_mesh.mesh.p, axis=1))) or 1.0
        E = float(self.E_region.max())
        for _, v, xb in self._mech_dirichlet:
            values.append(E * float(np.abs(evaluate(v, xb, 0.0)).max(initial=0.0)) / size)
        x0 = m.species_initial_state()
        for s, _ in self._alpha_ops:
            c = float(np.abs(x0[s.slice]).max(initial=0.0)) or m.c_ref
            values.append(float(self.beta.max()) * np.abs(self.omega[s.index]).max() / 3 * c)
        scale = max(values, default=0.0)
        return scale if scale > 0 or not fallback else 1e-6 * E

    def scales(self, x_scale, r_scale, sigma: float | None = None,
               size: float | None = None):
        """Newton's scales of sigma_h and u; ``sigma`` (Pa) and ``size`` (m) are
        the stress scale and body diagonal (by default this mesh's)."""
        m = self.model
        sigma = self._stress_scale() if sigma is None else sigma
        self.sigma_scale = sigma
        # the physical displacement magnitude sigma L / E (Newton scaling, error control)
        if size is None:
            size = float(np.linalg.norm(np.ptp(m.fem_mesh.mesh.p, axis=1))) or 1.0
        self.u_scale = sigma * size / float(self.E_region.max())
        w = self.sh_weight
        x_scale[self.sh_slice] = sigma
        r_scale[self.sh_slice] = sigma * np.maximum(w, 1e-3 * np.median(w))
        x_scale[self.u_slice] = self.u_scale
        r_scale[self.u_slice] = self.u_scale / self._u_ratio()

    def _u_ratio(self) -> float:
        """s = x_scale / r_scale on the displacement, L / (E f) with f the median
        nodal force scale |D|^T w: Newton's scaled (u, u) block is s K on the
        free dofs (identity on the prescribed ones)."""
        m = self.model
        size = float(np.linalg.norm(np.ptp(m.fem_mesh.mesh.p, axis=1))) or 1.0
        return size / (float(self.E_region.max()) * self._u_force)

    def _cell_size(self) -> float:
        """Median element size h: the displacement scale sigma h / E balances
        the stiffness and projection rows of the Jacobian (diagonal pivots)."""
        m = self.model
        volume = np.median(self.u_space.basis.dx.sum(axis=1))
        return float(volume ** (1.0 / m.dim)) or 1.0

    def equilibrium(self, x: np.ndarray, t: float) -> LinearProblem:
        """The (linear) mechanical rows solved for sigma_h and u at fixed
        species: quasi-static from t = 0.  Without a rigid-body border the u
        rows do not involve sigma_h, so u comes from elasticity alone (CG with
        the elastic block's multigrid, :meth:`elastic_block`), then sigma_h
        from its lumped projection rows, ``w sigma_h = -(rest of row)``; with
        one, the bordered mechanical system (field-split Krylov or a
        factorisation)."""
        if self._rigid is None:
            return self._elastic_problem(x, t)
        return self._bordered_problem(x, t)

    def _elastic_problem(self, x: np.ndarray, t: float) -> LinearProblem:
        m = self.model
        n_sh, s = self.sh_space.n, self._u_ratio()
        fixed, values = m.dirichlet(t)
        mech = fixed >= self.u_offset
        local, prescribed = fixed[mech] - self.u_offset, values[mech]
        out = x.copy()
        out[self.mech_slice] = 0.0
        out[self.u_offset + local] = prescribed
        b = self.mech_rhs(t)
        rhs = -(self.A_u @ out + b[n_sh:])
        rhs[local] = prescribed / s  # the prescribed rows of the block are I / s

        def finish(y):
            out[self.u_slice] = y
            out[self.sh_slice] = -(self.A_sh @ out + b[:n_sh]) / self.sh_weight
            return out

        return LinearProblem(rhs=rhs, operator=self.elastic_block(), rtol=1e-8, finish=finish)

    def _bordered_problem(self, x: np.ndarray, t: float) -> LinearProblem:
        m = self.model
        ms = self.mech_slice
        A_mech = self.A_mech
        A = A_mech[:, ms].tocsr()
        rhs = -(A_mech[:, : self.sh_offset] @ x[: self.sh_offset] + self.mech_rhs(t))
        del A_mech
        fixed, values = m.dirichlet(t)
        mech = fixed >= self.sh_offset
        local = fixed[mech] - self.sh_offset
        diag = np.abs(A.diagonal())
        scale_row = np.where(diag > 0, diag, 1.0)
        keep = np.ones(self.n_mech)
        keep[local] = 0.0
        # prescribed dofs eliminated symmetrically (the displacement block
        # stays symmetric for the multigrid preconditioner)
        lifted = np.zeros(self.n_mech)
        lifted[local] = values[mech]
        rhs = keep * (rhs - A @ lifted)
        rhs[local] = scale_row[local] * values[mech]
        K = sp.diags(keep)
        A = (K @ A @ K + sp.diags((1.0 - keep) * scale_row)).tocsr()
        G = np.hstack([np.zeros((len(self._rigid), self.sh_space.n)), self._rigid])
        k = len(G)
        A = sp.bmat([[A, sp.csr_matrix(G.T * keep[:, None])], [sp.csr_matrix(G), None]],
                    format="csr")
        rhs = np.concatenate([rhs, np.zeros(k)])
        # scaled unknowns (sigma_h by the stress scale, u by the displacement
        # scale) and rows: keeps diagonal pivots and AMG well-conditioned
        sigma = self._stress_scale()
        u_scale = sigma * self._cell_size() / float(self.E_region.max())
        u_rows = scale_row[self.sh_space.n:]
        cs = np.concatenate([np.full(self.sh_space.n, sigma),
                             np.full(m.dim * self.n_u, u_scale),
                             np.full(k, float(np.median(u_rows)) * u_scale)])
        row_scale = scale_row.copy()
        row_scale[self.sh_space.n:] = float(np.median(u_rows))  # one scale: K stays symmetric
        rs = 1.0 / np.concatenate([np.maximum(row_scale * cs[: self.n_mech], 1e-300),
                                   np.full(k, u_scale)])
        As = (sp.diags(rs) @ A @ sp.diags(cs)).tocsr()
        n_sh = self.sh_space.n  # the species are not unknowns here
        fields = [Field(slice(n_sh, self.n_mech), symmetric=True, node_size=m.dim,
                        near_nullspace=self._modes()),
                  Field(slice(0, self.sh_space.n), kind="diagonal")]

        def finish(y):
            out = x.copy()
            out[ms] = (cs * y)[: self.n_mech]
            return out

        return LinearProblem(rhs=rs * rhs, matrix=As, fields=fields, border=k, rtol=1e-10,
                             finish=finish)

    def elastic_block(self):
        """The constant displacement block of Newton's scaled Jacobian divided
        by s (:meth:`_u_ratio`): K with its prescribed rows and columns
        replaced by I / s (and the diagonal raised by 1e-9 when a bordered
        rigid-body constraint leaves K singular), with its multigrid hierarchy
        (:func:`~femflux.linalg.fixed_solver`: rigid-body modes for AMG in 3D,
        else a factorisation), built once."""
        m = self.model
        if self._elastic is None:
            self._elastic = fixed_solver(self._eliminated_stiffness, m.case.solver.linear,
                                         m.fem_mesh.dim, self._modes())
        return self._elastic

    def _eliminated_stiffness(self) -> tuple[sp.bsr_matrix, np.ndarray]:
        """K with prescribed rows and columns replaced by I / s (see
        :meth:`elastic_block`), assembled afresh as node-wise BSR blocks (no
        copy or permutation of A_u's block), and the permutation from
        node-major to component-major dofs."""
        m = self.model
        us, dim, s = self.u_space, m.dim, self._u_ratio()
        K = el.node_block_stiffness(us.element_dofs, us.n, us.grads, self.hoop, self.hoops,
                                    self.lam_e, self.mu, us.dx)
        prescribed = np.zeros(dim * us.n, dtype=bool)
        for dofs, _, _ in self._mech_dirichlet:
            prescribed[dofs - self.u_offset] = True
        node_prescribed = prescribed.reshape(dim, us.n).T  # (node, component)
        block_row = np.repeat(np.arange(us.n), np.diff(K.indptr))
        K.data *= ~node_prescribed[block_row][:, :, None]
        K.data *= ~node_prescribed[K.indices][:, None, :]
        diagonal = np.flatnonzero(block_row == K.indices)
        blocks = K.data[diagonal]  # (n, dim, dim), in node order (sorted indices)
        nodes = block_row[diagonal]
        for a in range(dim):
            blocks[:, a, a] = np.where(node_prescribed[nodes, a], 1.0 / s, blocks[:, a, a])
            if self._rigid is not None:
                blocks[:, a, a] *= 1.0 + 1e-9
        K.data[diagonal] = blocks
        K.eliminate_zeros()
        return K, node_permutation(dim * us.n, dim)

    def _modes(self) -> np.ndarray:
        """(dim n_u, k) rigid-body modes, component-major (AMG near-nullspace)."""
        m = self.model
        geometry = "planar" if self.geometry == "axisymmetric" else self.geometry
        return el.rigid_body_modes(self.u_space.x, geometry).reshape(m.dim * self.n_u, -1)

    def _u_inverse(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle on Newton's scaled (u, u) block, s K (field split)."""
        return self.elastic_block().precondition(r) / self._u_ratio()

    def split(self) -> list:
        """Block Gauss-Seidel order for the iterative solver (large 3D systems):
        the displacement first (AMG with rigid-body modes on node blocks), then
        sigma_h (its block is the diagonal lumped projection); the model puts
        the species after them — exact for one-way coupling, whose Jacobian is
        block triangular in this order."""
        m = self.model
        return [Field(self.u_slice, symmetric=True, node_size=m.dim,
                      near_nullspace=self._modes(), inverse=self._u_inverse),
                Field(self.sh_slice, kind="diagonal")]

    # -- outputs -----------------------------------------------------------------------

    def displacement(self, x) -> np.ndarray:
        """(dim, n_u) displacement dof values."""
        m = self.model
        return x[self.u_slice].reshape(m.dim, self.n_u)

    def alpha_at_points(self, x) -> np.ndarray:
        alpha = -self.alpha0.copy()
        for s, factor in self._alpha_ops:
            alpha += factor * (self._q_prolongation(s.space) @ x[s.slice])
        return alpha

    def stress_at_points(self, x) -> np.ndarray:
        """(3, 3, nel, nq) Cauchy stress at the displacement's quadrature points."""
        us = self.u_space
        nel, nq = us.dx.shape
        eps = el.strain_at_points(self.displacement(x), us.element_dofs, us.grads, self.hoop,
                                  self.geometry)
        alpha = self.alpha_at_points(x).reshape(nel, nq)
        return el.stress_from_strain(eps, alpha, self.lam_e[:, None], self.mu[:, None],
                                     self.beta[:, None], self.plane_stress)

    def _vertex_projection(self):
        m = self.model
        if self._vertex_P is None:
            space = self.sh_space if m.degree == 1 else Space(m.fem_mesh, 1)
            P = self._q_prolongation(space)
            self._vertex_P = (P, P.T @ self.qpoints.weight, space)
        return self._vertex_P

    def nodal_stress(self, x) -> np.ndarray:
        """(nvertices, 9) lumped L2 projection of sigma to the vertices."""
        m = self.model
        P, w, space = self._vertex_projection()
        sigma = self.stress_at_points(x).reshape(9, -1)
        values = (P.T @ (sigma * self.qpoints.weight).T) / np.maximum(w, 1e-300)[:, None]
        nv = m.fem_mesh.mesh.nvertices
        out = np.zeros((nv, 9))
        out[space.dofs[space.dofs < nv]] = values[space.dofs < nv]
        return out

    def point_fields(self, x, fields):
        """u, sigma (9 components), sigma_h and von_mises at the vertices."""
        m = self.model
        nv = m.fem_mesh.mesh.nvertices
        u = np.zeros((nv, 3))
        disp = self.displacement(x)
        for a in range(m.dim):
            u[:, a] = self.u_space.to_global(disp[a])[:nv]
        fields["u"] = u
        sigma = self.nodal_stress(x)
        fields["sigma"] = sigma
        fields["sigma_h"] = self.sh_space.to_global(x[self.sh_slice])[:nv]
        fields["von_mises"] = el.von_mises(sigma)

    def region_point_fields(self, x, region, out):
        """sigma_h as seen from one region (NaN outside it; it is continuous)."""
        m = self.model
        nv = m.fem_mesh.mesh.nvertices
        mask = np.zeros(m.nregions, dtype=bool)
        mask[m.region_index[region]] = True
        node, _, local = m.vertex_sides(self.sh_space, mask)
        out["sigma_h"] = np.full(nv, np.nan)
        out["sigma_h"][node] = x[self.sh_offset + local]
