"""The ``stress-diffusion`` model (SPEC 4.3).

mu_i = mu0_i + RT ln(c_i / c_ref) - Omega_i sigma_h, so inside a region

    J_i = -(D_i c_i / RT) grad mu_i = -D_i (grad c_i + c_i grad psi_i),
    psi_i = -Omega_i sigma_h / RT,

with quasi-static small-strain elasticity, div sigma = 0,

    sigma = C : (eps(u) - eps_ch),   eps_ch = sum_i (Omega_i / 3)(c_i - c_0,i) I

(``chemical_expansion = true``: two-way coupling; false: eps_ch = 0, one-way).

Unknowns: the species (activity concentrations of the base model), then the
hydrostatic stress sigma_h as a continuous field on the species' space, defined
by its lumped L2 projection ``w_k (sigma_h,k - [tr(sigma)/3]_k) = 0``, then the
displacement (``dim`` components, Lagrange degree ``displacement_degree``,
component-major).  The species flux is the base model's drift term (EAFE on P1
simplices: positive concentrations, exact Jacobian) with the sigma_h field as
drift potential.  All mechanical rows are linear in the unknowns, so they are
one constant sparse matrix plus the boundary loads.

Geometries: 3D; 2D plane strain / plane stress; axisymmetric (r, z, theta with
eps_theta = u_r / r, u_r = 0 on the axis); 1D planar uniaxial strain, 1D
cylindrical (eps_theta = u/r, eps_z = 0) and 1D spherical (two hoop strains).
Rigid-body motion that no displacement condition removes is removed by zero
mean displacement and zero mean rotation (lumped weights), bordered Lagrange
multipliers (SPEC 4.0).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import elasticity as el
from ..case import evaluate
from ..errors import CaseError, SolverError
from ..fem import PointSet, Space
from ..memory import trim
from .transport import SpeciesTransport


class StressDiffusion(SpeciesTransport):
    """Species diffusion driven by chemical-potential gradients including -Omega sigma_h."""

    kind = "stress-diffusion"

    def __init__(self, case, fem_mesh):
        super().__init__(case, fem_mesh)
        self.symmetric = False  # the sigma_h rows and the couplings are not symmetric

    # -- set-up -----------------------------------------------------------------

    def _setup_fields(self, offset: int) -> int:
        case = self.case
        self.elastic = case.elasticity
        self.geometry = self.fem_mesh.geometry
        self.plane_stress = (self.dim == 2 and self.geometry == "planar"
                             and self.elastic.plane == "stress")
        self.hoops = el.hoop_count(self.geometry, self.dim)
        all_regions = tuple(self.region_names)
        self.sh_space = self._space(all_regions)
        p_u = case.solver.displacement_degree
        self.u_space = self.sh_space if p_u == self.degree else Space(self.fem_mesh, p_u)
        self.sh_offset = offset
        self.u_offset = offset + self.sh_space.n
        self.n_u = self.u_space.n
        self.n_mech = self.sh_space.n + self.dim * self.n_u
        # material per region and per element
        E = np.full(self.nregions, self.elastic.youngs_modulus)
        nu = np.full(self.nregions, self.elastic.poisson_ratio)
        for region in case.regions:
            k = self.region_index[region.name]
            if region.youngs_modulus is not None:
                E[k] = region.youngs_modulus
            if region.poisson_ratio is not None:
                nu[k] = region.poisson_ratio
        self.E_region, self.nu_region = E, nu
        lam, mu = el.lame(E, nu)
        lam_e, beta, n_alpha = el.constitutive(lam, mu, self.plane_stress)
        self.n_alpha = n_alpha
        region_of_element = self.fem_mesh.region_ids[self.u_space.elements]
        self.lam_e, self.mu, self.beta = (lam_e[region_of_element], mu[region_of_element],
                                          beta[region_of_element])
        self.omega = self._partial_molar_volumes()
        self.c0 = np.array([self.elastic.stress_free_concentration.get(s.name, 0.0)
                            for s in self.species]) if self.elastic.chemical_expansion \
            else np.zeros(len(self.species))
        self._build_quadrature()
        self._mech_dirichlet = self._displacement_dofs()
        self._rigid = self._rigid_constraints()
        self._elastic = None  # the constant elastic block and its multigrid (built once)
        self._build_operators()
        self._loads = [self._load_data(b) for b in case.boundaries
                       if b.traction is not None or b.pressure is not None]
        self._equilibrated = None
        # Body force f(x, t) -> (dim, npts) in N/m^3: a Python-API hook
        # (manufactured solutions); the case file has no such key.
        self.body_force = None
        return self.n_mech

    def _partial_molar_volumes(self) -> np.ndarray:
        """(nspecies, nregions) Omega; the drift needs one value per species."""
        omega = np.zeros((len(self.species), self.nregions))
        for s, spec in zip(self.species, self.case.species, strict=True):
            omega[s.index] = spec.partial_molar_volume
            for region in self.case.regions:
                if spec.name in region.partial_molar_volume:
                    omega[s.index, self.region_index[region.name]] = \
                        region.partial_molar_volume[spec.name]
            values = np.unique(omega[s.index, s.regions])
            if len(values) > 1:
                raise CaseError(
                    f"species {spec.name!r}: partial_molar_volume differs between its regions "
                    f"({', '.join(f'{v:g}' for v in values)}); stress-diffusion needs one "
                    "value per species")
        return omega

    def _build_quadrature(self) -> None:
        """The displacement space's quadrature points as a point set, and the
        prolongations of the species and sigma_h spaces to them."""
        us = self.u_space
        nel, nq = us.dx.shape
        x = us.quadrature_x
        self.qpoints = PointSet(x=x.reshape(x.shape[0], -1), weight=us.dx.ravel(),
                                region=np.repeat(self.fem_mesh.region_ids[us.elements], nq)
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
        us, dim = self.u_space, self.dim
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
            for s in self.species:
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
        coupling_sh = sp.csr_matrix((n_sh, self.n_species))
        coupling_u = sp.csr_matrix((dim * us.n, self.n_species))
        for s, factor in self._alpha_ops:
            embed = sp.csr_matrix((np.ones(s.space.n), (np.arange(s.space.n),
                                   s.offset + np.arange(s.space.n))),
                                  shape=(s.space.n, self.n_species))
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
        us, dim = self.u_space, self.dim
        pattern = el.VectorPattern(us.element_dofs, us.n, dim)
        return pattern.stiffness(us.grads, self.hoop, self.hoops, self.lam_e, self.mu, us.dx)

    # -- boundary conditions ------------------------------------------------------

    def _boundary_u_dofs(self, name: str) -> np.ndarray:
        facets = self.fem_mesh.boundaries[name]
        us = self.u_space
        if us.degree == 1:
            nodes = np.flatnonzero(np.bincount(self.fem_mesh.mesh.facets[:, facets].ravel(),
                                               minlength=self.fem_mesh.mesh.nvertices))
            local = us.local[nodes]
        else:
            local = us.local[us.basis.get_dofs(facets=facets).all()]
        return local[local >= 0]

    def _displacement_dofs(self):
        """[(dofs, value or None for 0, boundary coordinates)] of every prescribed
        displacement component, plus u_r = 0 on the symmetry axis."""
        out = []
        for b in self.case.boundaries:
            if b.displacement is None:
                continue
            local = self._boundary_u_dofs(b.name)
            for a, value in enumerate(b.displacement):
                if value is not None:
                    out.append((self.u_offset + a * self.n_u + local, value,
                                self.u_space.x[:, local]))
        if self.geometry in ("axisymmetric", "cylindrical", "spherical"):
            r = self.u_space.x[0]
            size = float(np.ptp(self.fem_mesh.mesh.p[0])) or 1.0
            axis = np.flatnonzero(np.abs(r) <= 1e-10 * size)
            if len(axis):
                out.append((self.u_offset + axis, 0.0, self.u_space.x[:, axis]))
        return out

    def dirichlet(self, t: float):
        dofs, values = super().dirichlet(t)
        if not self._mech_dirichlet:
            return dofs, values
        extra_d = [d for d, _, _ in self._mech_dirichlet]
        extra_v = [evaluate(v, x, t) for _, v, x in self._mech_dirichlet]
        return np.concatenate([dofs] + extra_d), np.concatenate([values] + extra_v)

    def _load_data(self, b):
        """Facet quadrature of a traction/pressure boundary (cached arrays)."""
        import skfem

        from ..fem import metric, metric_degree

        mesh = self.fem_mesh.mesh
        facets = self.fem_mesh.boundaries[b.name]
        order = 2 * self.u_space.degree + metric_degree(self.geometry)
        fb = skfem.FacetBasis(mesh, self.u_space.element, facets=facets, intorder=order)
        x = np.asarray(fb.global_coordinates())  # (dim, nf, nq)
        ds = fb.dx * metric(self.geometry, x)
        vals = np.stack([np.asarray(f[0]) for f in fb.basis])  # (nloc, nf, nq)
        normals = np.asarray(fb.normals)
        dofs = self.u_space.local[fb.element_dofs]  # (nloc, nf)
        return {"boundary": b, "x": x, "ds": ds, "vals": vals, "normals": normals,
                "dofs": dofs}

    def _load_vector(self, t: float) -> np.ndarray:
        """int t . v ds over the traction and pressure boundaries (u rows)."""
        f = np.zeros(self.dim * self.n_u)
        for data in self._loads:
            b, x, ds = data["boundary"], data["x"], data["ds"]
            flat = x.reshape(self.dim, -1)
            if b.pressure is not None:
                p = evaluate(b.pressure, flat, t).reshape(ds.shape)
                traction = -p[None] * data["normals"]
            else:
                traction = np.stack([evaluate(v, flat, t).reshape(ds.shape) for v in b.traction])
            for a in range(self.dim):
                contrib = np.einsum("ifq,fq->if", data["vals"], traction[a] * ds)
                ok = data["dofs"] >= 0
                f[a * self.n_u:(a + 1) * self.n_u] += np.bincount(
                    data["dofs"][ok], weights=contrib[ok], minlength=self.n_u)
        return f

    # -- rigid-body motion ---------------------------------------------------------

    def _rigid_constraints(self):
        """Rows G (k x n) of zero mean displacement / rotation for the rigid
        modes no displacement condition removes (None if all are removed)."""
        modes = el.rigid_body_modes(self.u_space.x, self.geometry)  # (dim, n_u, k)
        if modes.shape[-1] == 0:
            return None
        R = modes.reshape(self.dim * self.n_u, -1)  # component-major rows
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
        weight = np.tile(weight, self.dim)
        G = (R @ free_modes).T * weight[None, :]  # on the displacement dofs
        return G / np.abs(G).sum(axis=1, keepdims=True)

    def constraints(self, x, steady):
        if self._rigid is None:
            return None
        G = sp.hstack([sp.csr_matrix((len(self._rigid), self.u_offset)),
                       sp.csr_matrix(self._rigid)], format="csr")
        scale = np.full(len(self._rigid), self.u_scale)
        return G @ x, G, scale

    # -- drift -----------------------------------------------------------------------

    def drift(self, s):
        omega = float(self.omega[s.index, s.regions][0]) if s.regions.any() else 0.0
        if omega == 0.0:
            return None
        return (-omega / self.RT, self.sh_offset, self.sh_space)

    def field_offsets(self):
        return [self.sh_offset] + [self.u_offset + a * self.n_u for a in range(self.dim)]

    def field_spaces(self):
        return [self.sh_space] + [self.u_space] * self.dim

    # -- equations ----------------------------------------------------------------------

    @property
    def mech_slice(self) -> slice:
        return slice(self.sh_offset, self.sh_offset + self.n_mech)

    @property
    def sh_slice(self) -> slice:
        return slice(self.sh_offset, self.u_offset)

    def mech_rhs(self, t: float) -> np.ndarray:
        b = self.b_mech0.copy()
        if self._loads:
            b[self.sh_space.n:] -= self._load_vector(t)
        if self.body_force is not None:
            P = self._q_prolongation(self.u_space)
            f = np.asarray(self.body_force(self.qpoints.x, t), dtype=float)
            for a in range(self.dim):
                b[self.sh_space.n + a * self.n_u:self.sh_space.n + (a + 1) * self.n_u] -= \
                    P.T @ (self.qpoints.weight * f[a])
        return b

    def field_equations(self, x, t, F, rows, cols, vals, pieces):
        F[self.mech_slice] += np.concatenate([self.A_sh @ x, self.A_u @ x]) + self.mech_rhs(t)
        pieces.append((self.sh_offset, 0, self.A_sh))
        pieces.append((self.u_offset, 0, self.A_u))

    @property
    def A_mech(self) -> sp.csr_matrix:
        """All mechanical rows as one matrix (n_mech x n; a copy)."""
        return sp.vstack([self.A_sh, self.A_u], format="csr")

    # -- scales and initial state --------------------------------------------------------

    def _stress_scale(self) -> float:
        values = []
        size = float(np.linalg.norm(np.ptp(self.fem_mesh.mesh.p, axis=1))) or 1.0
        E = float(self.E_region.max())
        for data in self._loads:
            b = data["boundary"]
            flat = data["x"].reshape(self.dim, -1)
            items = [b.pressure] if b.pressure is not None else b.traction
            for v in items:
                values.append(float(np.abs(evaluate(v, flat, 0.0)).max(initial=0.0)))
        for _, v, xb in self._mech_dirichlet:
            values.append(E * float(np.abs(evaluate(v, xb, 0.0)).max(initial=0.0)) / size)
        x0 = SpeciesTransport.initial_state(self)
        for s, _ in self._alpha_ops:
            c = float(np.abs(x0[s.slice]).max(initial=0.0)) or self.c_ref
            values.append(float(self.beta.max()) * np.abs(self.omega[s.index]).max() / 3 * c)
        scale = max(values, default=0.0)
        return scale if scale > 0 else 1e-6 * E

    def _scales(self):
        x_scale, r_scale = super()._scales()
        sigma = self._stress_scale()
        self.sigma_scale = sigma
        # the physical displacement magnitude sigma L / E (Newton scaling, error control)
        size = float(np.linalg.norm(np.ptp(self.fem_mesh.mesh.p, axis=1))) or 1.0
        self.u_scale = sigma * size / float(self.E_region.max())
        w = self.sh_weight
        x_scale[self.sh_slice] = sigma
        r_scale[self.sh_slice] = sigma * np.maximum(w, 1e-3 * np.median(w))
        x_scale[self.u_offset:] = self.u_scale
        r_scale[self.u_offset:] = self.u_scale / self._u_ratio()
        return x_scale, r_scale

    def _u_ratio(self) -> float:
        """s = x_scale / r_scale on the displacement, L / (E f) with f the median
        nodal force scale |D|^T w: Newton's scaled (u, u) block is s K on the
        free dofs (identity on the prescribed ones)."""
        size = float(np.linalg.norm(np.ptp(self.fem_mesh.mesh.p, axis=1))) or 1.0
        return size / (float(self.E_region.max()) * self._u_force)

    def _cell_size(self) -> float:
        """Median element size h: the displacement scale sigma h / E balances
        the stiffness and projection rows of the Jacobian (diagonal pivots)."""
        volume = np.median(self.u_space.basis.dx.sum(axis=1))
        return float(volume ** (1.0 / self.dim)) or 1.0

    def initial_state(self) -> np.ndarray:
        """The species' initial values with the displacement and sigma_h in
        mechanical equilibrium with them (quasi-static from t = 0)."""
        if self._equilibrated is None:
            x = super().initial_state()
            fixed, values = self.dirichlet(0.0)
            x[fixed] = values
            self._equilibrated = self.equilibrate(x, 0.0)
        return self._equilibrated.copy()

    def equilibrate(self, x: np.ndarray, t: float) -> np.ndarray:
        """Solve the (linear) mechanical rows for sigma_h and u at fixed species
        (with a rigid-body border: the bordered mechanical system by field-split
        Krylov or a factorisation)."""
        from ..linalg import Field, LinearSolver, NewtonFailure

        if self._rigid is None:  # block triangular: elasticity alone, then sigma_h
            return self._equilibrate_elastic(x, t)
        m = self.mech_slice
        A_mech = self.A_mech
        A = A_mech[:, m].tocsr()
        rhs = -(A_mech[:, : self.n_species] @ x[: self.n_species] + self.mech_rhs(t))
        del A_mech
        fixed, values = self.dirichlet(t)
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
                             np.full(self.dim * self.n_u, u_scale),
                             np.full(k, float(np.median(u_rows)) * u_scale)])
        row_scale = scale_row.copy()
        row_scale[self.sh_space.n:] = float(np.median(u_rows))  # one scale: K stays symmetric
        rs = 1.0 / np.concatenate([np.maximum(row_scale * cs[: self.n_mech], 1e-300),
                                   np.full(k, u_scale)])
        As = (sp.diags(rs) @ A @ sp.diags(cs)).tocsr()
        n_sh = self.sh_space.n  # the species are not unknowns here
        fields = [Field(slice(n_sh, self.n_mech), symmetric=True, node_size=self.dim,
                        near_nullspace=self._modes()),
                  Field(slice(0, self.sh_space.n), kind="diagonal")]
        solver = LinearSolver(self.case.solver.linear, self.dim, False, border=k,
                              fields=fields)
        try:
            y = solver.solve(As, rs * rhs, rtol=1e-10)
        except NewtonFailure as exc:  # a solver failure, not a traceback (exit 3)
            raise SolverError(f"the mechanical equilibrium at t = {t:g} s could not be "
                              f"solved: {exc}") from exc
        out = x.copy()
        out[m] = (cs * y)[: self.n_mech]
        return out

    def _equilibrate_elastic(self, x: np.ndarray, t: float) -> np.ndarray:
        """Mechanical equilibrium at fixed species without rigid-body border:
        the u rows do not involve sigma_h, so u comes from elasticity alone
        (CG with the elastic block's multigrid, :meth:`elastic_block`), then
        sigma_h from its lumped projection rows, ``w sigma_h = -(rest of row)``."""
        from ..linalg import NewtonFailure

        n_sh, s = self.sh_space.n, self._u_ratio()
        fixed, values = self.dirichlet(t)
        mech = fixed >= self.u_offset
        local, prescribed = fixed[mech] - self.u_offset, values[mech]
        out = x.copy()
        out[self.sh_offset:] = 0.0
        out[self.u_offset + local] = prescribed
        b = self.mech_rhs(t)
        rhs = -(self.A_u @ out + b[n_sh:])
        rhs[local] = prescribed / s  # the prescribed rows of the block are I / s
        try:
            out[self.u_offset:] = self.elastic_block().solve(rhs, rtol=1e-8)
        except NewtonFailure as exc:  # a solver failure, not a traceback (exit 3)
            raise SolverError(f"the mechanical equilibrium at t = {t:g} s could not be "
                              f"solved: {exc}") from exc
        out[self.sh_slice] = -(self.A_sh @ out + b[:n_sh]) \
            / self.sh_weight
        return out

    def elastic_block(self):
        """The constant displacement block of Newton's scaled Jacobian divided
        by s (:meth:`_u_ratio`): K with its prescribed rows and columns
        replaced by I / s (and the diagonal raised by 1e-9 when a bordered
        rigid-body constraint leaves K singular), with its multigrid hierarchy
        (:func:`~femflux.linalg.fixed_solver`: rigid-body modes for AMG in 3D,
        else a factorisation), built once."""
        if self._elastic is None:
            from ..linalg import fixed_solver

            self._elastic = fixed_solver(self._eliminated_stiffness, self.case.solver.linear,
                                         self.fem_mesh.dim, self._modes())
        return self._elastic

    def _eliminated_stiffness(self) -> tuple[sp.bsr_matrix, np.ndarray]:
        """K with prescribed rows and columns replaced by I / s (see
        :meth:`elastic_block`), assembled afresh as node-wise BSR blocks (no
        copy or permutation of A_u's block), and the permutation from
        node-major to component-major dofs."""
        from ..linalg import node_permutation

        us, dim, s = self.u_space, self.dim, self._u_ratio()
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
        geometry = "planar" if self.geometry == "axisymmetric" else self.geometry
        return el.rigid_body_modes(self.u_space.x, geometry).reshape(self.dim * self.n_u, -1)

    def _u_inverse(self, r: np.ndarray) -> np.ndarray:
        """One V-cycle on Newton's scaled (u, u) block, s K (field split)."""
        return self.elastic_block().precondition(r) / self._u_ratio()

    def field_split(self) -> list:
        """Block Gauss-Seidel order for the iterative solver (large 3D systems):
        the displacement first (AMG with rigid-body modes on node blocks), then
        sigma_h (its block is the diagonal lumped projection), then the species
        (AMG) — exact for one-way coupling, whose Jacobian is block triangular
        in this order."""
        from ..linalg import Field

        same = all(s.space is self.species[0].space for s in self.species)
        return [Field(slice(self.u_offset, self.u_offset + self.dim * self.n_u),
                      symmetric=True, node_size=self.dim, near_nullspace=self._modes(),
                      inverse=self._u_inverse),
                Field(self.sh_slice, kind="diagonal"),
                Field(slice(0, self.n_species), node_size=len(self.species) if same else 1)]

    # -- outputs -----------------------------------------------------------------------

    def displacement(self, x) -> np.ndarray:
        """(dim, n_u) displacement dof values."""
        return x[self.u_offset:].reshape(self.dim, self.n_u)

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
        if not hasattr(self, "_vertex_P"):
            space = self.sh_space if self.degree == 1 else Space(self.fem_mesh, 1)
            P = self._q_prolongation(space)
            self._vertex_P = (P, P.T @ self.qpoints.weight, space)
        return self._vertex_P

    def nodal_stress(self, x) -> np.ndarray:
        """(nvertices, 9) lumped L2 projection of sigma to the vertices."""
        P, w, space = self._vertex_projection()
        sigma = self.stress_at_points(x).reshape(9, -1)
        values = (P.T @ (sigma * self.qpoints.weight).T) / np.maximum(w, 1e-300)[:, None]
        nv = self.fem_mesh.mesh.nvertices
        out = np.zeros((nv, 9))
        out[space.dofs[space.dofs < nv]] = values[space.dofs < nv]
        return out

    def point_fields(self, x):
        mesh = self.fem_mesh.mesh
        nv = mesh.nvertices
        fields = {}
        for s in self.species:
            fields[s.name] = self.node_concentration(s, x)
        sigma_h = self.sh_space.to_global(x[self.sh_slice])[:nv]
        for s in self.species:
            omega = float(self.omega[s.index, s.regions][0]) if s.regions.any() else 0.0
            fields[f"mu_{s.name}"] = self.chemical_potential(s, fields[s.name]) - omega * sigma_h
        u = np.zeros((nv, 3))
        disp = self.displacement(x)
        for a in range(self.dim):
            u[:, a] = self.u_space.to_global(disp[a])[:nv]
        fields["u"] = u
        sigma = self.nodal_stress(x)
        fields["sigma"] = sigma
        fields["sigma_h"] = sigma_h
        fields["von_mises"] = el.von_mises(sigma)
        return fields
