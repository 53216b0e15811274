"""The ``onsager`` model (SPEC 4.4): multicomponent transport down the gradients
of the chemical potentials of a free energy,

    J_i = -sum_j L_ij grad mu_j,   mu_i = df/dc_i - kappa lap c_i,
    dc_i/dt = -div J_i + R_i.

The unknowns are the concentrations c_i (the base's species; activity
coefficient 1).  Three flux laws:

- ``diffusivity_matrix`` (Fick): J_i = -sum_j D_ij grad c_j, a constant block
  matrix of stiffness matrices (linear; D need not be symmetric);
- ``onsager`` L (constant, or "einstein" L_ii = D_i c_i/RT) without gradient
  energy: mu_i = df/dc_i(c), so J_i = -sum_j L_ij(c) sum_k H_jk(c) grad c_k with
  the Hessian H = d2f/dc dc from :mod:`femflux.physics.terms.free_energy` (sympy -> numpy).  The
  Galerkin flux is evaluated at the space's quadrature points; the exact
  Jacobian adds dL/dc H + L d3f (third derivatives, symbolic too).  With
  logarithmic (ideal) terms the Newton updates keep c > 0 by damping
  (``damp_update``), never clipping;
- with kappa > 0 (Cahn-Hilliard), the mixed form: one extra P1 field mu_i per
  species with int mu_i v = int f_i(c) v + kappa int grad c_i . grad v (lumped
  zero-order terms on the base's cell points, no storage) and
  J_i = -sum_j L_ij grad mu_j.  Every boundary is then no-flux in c and mu.

``free_energy(x)`` is the discrete total free energy
int f(c) + (kappa/2) sum_i |grad c_i|^2 (f on the lumped cell points, the same
quadrature as the mu equation, so the semi-discrete scheme dissipates exactly
this functional).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..physics.fields import AuxiliaryField
from ..physics.mobility import ConstantOnsager, Einstein, FickianDiffusivity, mobility_law
from ..physics.terms.free_energy import FreeEnergy
from ..physics.terms.gradient import GradientEnergy
from .transport import SpeciesTransport


class MixedPotential(AuxiliaryField):
    """The mu_i unknowns of the mixed Cahn-Hilliard form (one P1 field per
    species, J/mol); their rows are assembled with the fluxes
    (:meth:`OnsagerModel._mixed_fluxes`)."""

    name = "mu"

    def setup(self, offset: int) -> int:
        self.offset = offset
        self.size = self.model.setup_mixed(offset)
        return self.size

    def nodal(self):
        m = self.model
        return [(o, m.space) for o in m.mu_offsets] if m.cahn_hilliard else []


class OnsagerModel(SpeciesTransport):
    """Multicomponent Onsager / Fick / Cahn-Hilliard transport."""

    kind = "onsager"

    # -- set-up -----------------------------------------------------------------

    def __init__(self, case, fem_mesh):
        super().__init__(case, fem_mesh, field_types=(MixedPotential,))
        self.symmetric = False
        self.linear = (self.fick or (self.cahn_hilliard and self.onsager is not None
                                     and self.energy.constant_hessian)) and self._is_linear()

    def setup_mixed(self, offset: int) -> int:
        """The flux law's data, and the mu unknowns of the mixed Cahn-Hilliard
        form at ``offset`` (every species exists everywhere with gamma = 1: the
        case layer checked it); returns their number."""
        case = self.case
        names = case.species_names
        first = self.species[0].space
        self.space = first
        self.nsp = len(self.species)
        thermo = case.thermo
        # geometry at the quadrature points of the (shared) space
        space = self.space
        self._gg = np.einsum("adeq,bdeq,eq->abeq", space.grads, space.grads, space.dx)
        self._K = space.pattern.assemble(self._gg.sum(axis=3))  # int grad v_a . grad v_b
        self._elem_D = np.stack([self.element_k(s) for s in self.species])[:, :, None]
        P = self.species[0].P
        self._P = P
        self._M = (P.T @ sp.diags(self.points.weight) @ P).tocsr()  # lumped mass
        n = space.n
        # the parts of the law: mobility, free energy, gradient energy
        self.law = mobility_law(case, self._elem_D, self.RT)
        self.fick = isinstance(self.law, FickianDiffusivity)
        self.einstein = isinstance(self.law, Einstein)
        self.onsager = self.law.L if isinstance(self.law, ConstantOnsager) else None
        if self.fick:
            self.diffusivity_matrix = self.law.D
            self._fick_matrix = self.law.block_matrix(self._K)
            self.energy = FreeEnergy(names, "ideal", case.model.temperature,
                                     case.reference_concentration,
                                     standard_potentials=[s.standard_potential
                                                          for s in case.species])
        else:
            self.energy = FreeEnergy.from_case(case)
        kappa = float(thermo.gradient_energy) if thermo is not None and not self.fick else 0.0
        self.gradient = GradientEnergy(kappa, self._K)
        self.kappa = kappa
        self.cahn_hilliard = kappa > 0
        self._ch_operator = None  # built on first use (needs every offset)
        self._ch_preconditioner = None
        if not self.cahn_hilliard:
            return 0
        self.mu_offsets = [offset + k * n for k in range(self.nsp)]
        return self.nsp * n

    def mu_slice(self, i: int) -> slice:
        return slice(self.mu_offsets[i], self.mu_offsets[i] + self.space.n)

    def _concentrations(self, x: np.ndarray) -> np.ndarray:
        """(N, n) concentrations on the dofs."""
        return x[: self.n_species].reshape(self.nsp, self.space.n)

    def _quadrature(self, u: np.ndarray):
        """Values (N, nel, nq) and gradients (N, dim, nel, nq) of fields u (N, n)."""
        space = self.space
        local = u[:, space.element_dofs]  # (N, nloc, nel)
        values = np.einsum("iae,aeq->ieq", local, space.values)
        grads = np.einsum("iae,adeq->ideq", local, space.grads)
        return values, grads

    def _point_concentrations(self, x: np.ndarray) -> np.ndarray:
        """(N, npts) concentrations at the lumped cell points."""
        return (self._P @ self._concentrations(x).T).T

    def mobility(self, C: np.ndarray):
        """L_ij (N, N, nel, nq) at quadrature concentrations C and dL_ij/dc_m
        (N, N, N, nel, nq), or None when L is constant (the mobility law)."""
        return self.law(C)

    def initial_state(self) -> np.ndarray:
        x = super().initial_state()
        if self.cahn_hilliard:
            mu = self._lumped_chemical_potentials(x)
            for i in range(self.nsp):
                x[self.mu_slice(i)] = mu[i]
        return x

    def _lumped_chemical_potentials(self, x: np.ndarray) -> np.ndarray:
        """mu_i = f_i(c) + kappa M^-1 K c_i with the lumped mass M (N, n)."""
        c = self._concentrations(x)
        w = self.points.weight
        fi = self.energy.chemical_potentials(self._point_concentrations(x))
        m = self._M.diagonal()
        rhs = (self._P.T @ (w[:, None] * fi.T)).T + self.gradient.potential(c)
        return rhs / m

    def dirichlet(self, t: float):
        dofs, values = super().dirichlet(t)
        if self.energy.needs_positive and not self.fick:
            values = np.maximum(values, 1e-9 * self.c_ref)  # SPEC 2.2: 0 as 1e-9 c_ref
        return dofs, values

    def _scales(self):
        x0 = self.initial_state()
        fixed, values = self.dirichlet(0.0)
        x_scale, r_scale = np.ones(self.n), np.ones(self.n)
        lo, hi = self.fem_mesh.mesh.p.min(axis=1), self.fem_mesh.mesh.p.max(axis=1)
        length = float(np.linalg.norm(hi - lo)) or 1.0
        c = self._concentrations(x0)
        c_scale = np.empty(self.nsp)
        for s in self.species:
            in_species = (fixed >= s.offset) & (fixed < s.offset + s.space.n)
            c_scale[s.index] = max(np.abs(c[s.index]).max(initial=0.0),
                                   np.abs(values[in_species]).max(initial=0.0)) or self.c_ref
        # a characteristic diffusivity (m^2/s): |L H| or |D| at the initial state
        if self.fick:
            d_char = float(np.abs(self.diffusivity_matrix).max())
            h_abs = 0.0
        else:
            C = np.maximum(self._point_concentrations(x0), 1e-9 * c_scale[:, None]) \
                if self.energy.needs_positive else self._point_concentrations(x0)
            H = self.energy.hessian(C)  # (N, N, npts)
            if self.onsager is not None:
                LH = np.einsum("ij,jkp->ikp", self.onsager, H)
            else:
                D = np.array([s.diffusivity.max() for s in self.species])
                LH = (D[:, None] * C / self.RT)[:, None, :] * H
            d_char = float(np.median(np.abs(LH).max(axis=(0, 1))))
            h_abs = float(np.median(np.abs(H).max(axis=(0, 1))))
        d_char = max(d_char, 1e-300)
        K_diag = self._K.diagonal()
        M_diag = self._M.diagonal()
        rate = np.median(d_char * np.abs(K_diag) + M_diag * d_char / length**2)
        for s in self.species:
            x_scale[s.slice] = c_scale[s.index]
            r_scale[s.slice] = c_scale[s.index] * (rate if rate > 0 else 1.0)
        if self.cahn_hilliard:
            # mu is algebraic (no storage; its time-step error is not measured,
            # see time_error): its scale is the image of that of c,
            # delta mu ~ (|f''| + kappa/h^2) delta c
            h = float(np.median(M_diag)) ** (1.0 / self.dim)
            for i in range(self.nsp):
                mu = x0[self.mu_slice(i)]
                mu_scale = max(float(np.abs(mu).max(initial=0.0)), c_scale[i] * h_abs,
                               self.kappa * c_scale[i] / length**2, 1e-300)
                image = c_scale[i] * (h_abs + self.kappa / h**2)
                x_scale[self.mu_slice(i)] = max(mu_scale, image)
                r_scale[self.mu_slice(i)] = mu_scale * float(np.median(M_diag))
        return x_scale, r_scale

    # -- equations --------------------------------------------------------------

    def add_species_fluxes(self, x, t, F, pieces) -> None:
        """int -J_i . grad v of every species and its Jacobian."""
        if self.fick:
            ns = self.n_species
            F[:ns] += self._fick_matrix @ x[:ns]
            pieces.append((0, 0, self._fick_matrix))
        elif self.cahn_hilliard:
            self._mixed_fluxes(x, F, pieces)
        else:
            self._potential_fluxes(x, F, pieces)

    def _assemble_blocks(self, local: np.ndarray, row_offsets, col_offsets, pieces):
        """Element blocks local (N, M, nloc, nloc, nel) -> pieces."""
        pattern = self.space.pattern
        for i, r0 in enumerate(row_offsets):
            for m, c0 in enumerate(col_offsets):
                pieces.append((r0, c0, pattern.assemble(local[i, m])))

    def _residual(self, F, minus_flux, offsets):
        """F_i[a] += int (-J_i) . grad v_a for minus_flux (N, dim, nel, nq)."""
        space = self.space
        local = np.einsum("ideq,adeq,eq->iae", minus_flux, space.grads, space.dx)
        for i, off in enumerate(offsets):
            F[off: off + space.n] += np.bincount(space.element_dofs.ravel(),
                                                 weights=local[i].ravel(), minlength=space.n)

    def effective_diffusivity(self, C: np.ndarray, with_derivative: bool = True):
        """D_ik = sum_j L_ij H_jk (N, N, nel, nq) and dD_ik/dc_m (N, N, N, ...)."""
        L, dL = self.mobility(C)
        H = self.energy.hessian(C)
        D = np.einsum("ijeq,jkeq->ikeq", L, H)
        if not with_derivative:
            return D, None
        dD = np.zeros((self.nsp,) * 3 + C.shape[1:])
        if dL is not None:
            dD += np.einsum("ijmeq,jkeq->ikmeq", dL, H)
        if not self.energy.constant_hessian:
            dD += np.einsum("ijeq,jkmeq->ikmeq", L, self.energy.third_derivatives(C))
        return D, dD

    def _potential_fluxes(self, x, F, pieces):
        """J_i = -sum_k D_ik(c) grad c_k with D = L H (no gradient energy)."""
        space = self.space
        C, G = self._quadrature(self._concentrations(x))
        D, dD = self.effective_diffusivity(C)
        offsets = [s.offset for s in self.species]
        self._residual(F, np.einsum("ikeq,kdeq->ideq", D, G), offsets)
        local = np.einsum("imeq,abeq->imabe", D, self._gg)
        W = np.einsum("ikmeq,kdeq->imdeq", dD, G)
        local += np.einsum("imdeq,adeq,beq,eq->imabe", W, space.grads, space.values, space.dx)
        self._assemble_blocks(local, offsets, offsets, pieces)

    def _mixed_fluxes(self, x, F, pieces):
        """Cahn-Hilliard, both rows: J_i = -sum_j L_ij grad mu_j in the c rows and
        int mu_i v - int f_i(c) v - kappa int grad c_i . grad v = 0 in the mu rows.

        Everything linear in x (the mu rows but f_i, and the c rows when L is
        constant) is one constant matrix; the Jacobian is that matrix plus
        -P^T diag(w H_im) P, summed into one fixed pattern (one piece)."""
        op = self._operator()
        C = self._point_concentrations(x)
        fi = self.energy.chemical_potentials(C)
        F += op.linear @ x
        w = self.points.weight
        for i in range(self.nsp):
            F[self.mu_slice(i)] -= self._P.T @ (w * fi[i])
        if self.energy.constant_hessian:
            H = np.broadcast_to(self.energy.hessian(C[:, :1]), (self.nsp, self.nsp, len(w)))
        else:
            H = self.energy.hessian(C)
        pieces.append((0, 0, op.jacobian(-(w * H).reshape(-1))))
        if self.onsager is not None:
            return
        space = self.space
        offsets = [s.offset for s in self.species]
        mu = np.stack([x[self.mu_slice(i)] for i in range(self.nsp)])
        C, _ = self._quadrature(self._concentrations(x))
        _, Gmu = self._quadrature(mu)
        L, dL = self.mobility(C)
        self._residual(F, np.einsum("ijeq,jdeq->ideq", L, Gmu), offsets)
        self._assemble_blocks(np.einsum("ijeq,abeq->ijabe", L, self._gg), offsets,
                              self.mu_offsets, pieces)
        W = np.einsum("ijmeq,jdeq->imdeq", dL, Gmu)
        local = np.einsum("imdeq,adeq,beq,eq->imabe", W, space.grads, space.values, space.dx)
        self._assemble_blocks(local, offsets, offsets, pieces)

    def _operator(self) -> _MixedOperator:
        if self._ch_operator is None:
            n = self.space.n
            blocks = []  # (row offset, column offset, constant block)
            for i in range(self.nsp):
                blocks.append((self.mu_offsets[i], self.mu_offsets[i], self._M))
                blocks.append((self.mu_offsets[i], self.species[i].offset,
                               self.gradient.mu_block()))
                if self.onsager is not None:
                    for j in range(self.nsp):
                        if self.onsager[i, j] != 0.0:
                            blocks.append((self.species[i].offset, self.mu_offsets[j],
                                           self.onsager[i, j] * self._K))
            # d(mu_i rows)/d(c_m): P^T diag(v_im) P with v_im = -w H_im on the points
            targets = [(self.mu_offsets[i], self.species[m].offset)
                       for i in range(self.nsp) for m in range(self.nsp)]
            self._ch_operator = _MixedOperator(self.n, blocks, self._P, targets)
            assert all(s.space.n == n for s in self.species)
        return self._ch_operator

    def preconditioner(self, J: sp.csr_matrix, x: np.ndarray):
        """An approximate inverse of the Cahn-Hilliard Jacobian J (one species,
        constant mobility, lumped mass; else None) for large systems, see
        :class:`femflux.linalg.MassStiffnessSchur`."""
        from .. import linalg

        if not (self.cahn_hilliard and self.nsp == 1 and self.onsager is not None
                and self._M.nnz == self.space.n and self.n == 2 * self.space.n):
            return None
        if self._ch_preconditioner is None:
            self._ch_preconditioner = linalg.MassStiffnessSchur(
                self._K, self._M.diagonal(), float(self.onsager[0, 0]), self.kappa)
        H = self.energy.hessian(self._point_concentrations(x))[0, 0]
        curvature = float(np.median(np.maximum(np.broadcast_to(H, self.points.weight.shape),
                                               0.0)))
        return self._ch_preconditioner(J, curvature)

    # -- time-step control (Cahn-Hilliard) ----------------------------------------

    def time_error(self, x: np.ndarray, e: np.ndarray, atol_fraction: float):
        """Cahn-Hilliard: the RMS local error of each c_i relative to the spread
        of c_i (max - min over the domain; c_i is conserved, so its mean carries
        no information and |c_i| would hide errors of the small early
        fluctuations); mu, algebraic, follows from c and is not counted.
        None (the solver's default measure) without gradient energy."""
        if not self.cahn_hilliard:
            return None
        c, ec = self._concentrations(x), self._concentrations(e)
        total = 0.0
        for i in range(self.nsp):
            floor = atol_fraction * float(self.x_scale[self.species[i].offset])
            spread = max(float(np.ptp(c[i])), floor)
            total += float(np.mean(ec[i] ** 2)) / spread**2
        return float(np.sqrt(total / self.nsp))

    def time_step_limit(self, x: np.ndarray, rtol: float):
        """Cahn-Hilliard, one species, while most of the mixture is inside the
        spinodal (median f'' < 0): the fastest linear growth rate
        omega = L f''^2 / (4 kappa) (at k^2 = -f''/(2 kappa)) is resolved so
        that BDF2's local error of that mode, (2/9) (omega dt)^3, stays below
        rtol of its amplitude: small fluctuations that the error estimate cannot
        see while they are small, but that later dominate, grow at the right
        rate.  None otherwise."""
        if not (self.cahn_hilliard and self.nsp == 1):
            return None
        C = self._point_concentrations(x)
        f2 = np.broadcast_to(self.energy.hessian(C)[0, 0], C.shape[1:])
        if not np.median(f2) < 0:
            return None
        mobility = self.law.largest(C, 0)
        omega = mobility * float(np.min(f2)) ** 2 / (4.0 * self.kappa)
        if not omega > 0:
            return None
        return float((4.5 * rtol) ** (1.0 / 3.0) / omega)

    def damp_update(self, x, dx):
        """Newton updates that would lower a concentration are taken
        multiplicatively, c -> c exp(dc/c), so that c stays positive where f
        has logarithms or L ~ c (the converged answer is unchanged)."""
        if self.fick or not (self.energy.needs_positive or self.einstein):
            return dx
        out = dx.copy()
        ns = self.n_species
        a, da = x[:ns], dx[:ns]
        shrink = (da < 0) & (a > 0)
        ratio = np.where(shrink, da / np.where(shrink, a, 1.0), 0.0)
        out[:ns] = np.where(shrink, a * np.expm1(ratio), da)
        return out

    # -- post-processing ----------------------------------------------------------

    def chemical_potentials_at_vertices(self, x: np.ndarray) -> np.ndarray:
        """(N, nvertices) mu_i in J/mol: the mu field (Cahn-Hilliard) or df/dc_i."""
        nv = self.fem_mesh.mesh.nvertices
        if self.cahn_hilliard:
            return np.stack([self.space.to_global(x[self.mu_slice(i)])[:nv]
                             for i in range(self.nsp)])
        C = np.stack([self.space.to_global(c)[:nv] for c in self._concentrations(x)])
        if self.energy.needs_positive:
            C = np.maximum(C, 1e-30 * self.c_ref)
        return self.energy.chemical_potentials(C)

    def point_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {s.name: self.node_concentration(s, x) for s in self.species}
        mu = self.chemical_potentials_at_vertices(x)
        for s in self.species:
            fields[f"mu_{s.name}"] = mu[s.index]
        return fields

    def fluxes(self, x: np.ndarray) -> np.ndarray:
        """(N, 3, nelements) J_i (mol/m^2/s) at the element centroids."""
        space = self.space
        C, G = self._quadrature(self._concentrations(x))
        C, G = C.mean(axis=-1, keepdims=True), G.mean(axis=-1, keepdims=True)
        if self.fick:
            minus_J = np.einsum("ik,kdeq->ideq", self.diffusivity_matrix, G)
        elif self.cahn_hilliard:
            mu = np.stack([x[self.mu_slice(i)] for i in range(self.nsp)])
            _, Gmu = self._quadrature(mu)
            L, _ = self.mobility(C)
            minus_J = np.einsum("ijeq,jdeq->ideq", L, Gmu.mean(axis=-1, keepdims=True))
        else:
            D, _ = self.effective_diffusivity(C, with_derivative=False)
            minus_J = np.einsum("ikeq,kdeq->ideq", D, G)
        J = np.zeros((self.nsp, 3, self.fem_mesh.mesh.nelements))
        J[:, : self.dim, space.elements] = -minus_J[..., 0]
        return J

    def species_flux(self, s, x: np.ndarray) -> np.ndarray:
        return self.fluxes(x)[s.index]

    def cell_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        J = self.fluxes(x)
        fields = {f"J_{s.name}": J[s.index].T for s in self.species}
        fields["region"] = self.fem_mesh.region_ids
        return fields

    def free_energy(self, x: np.ndarray) -> float | None:
        """int f(c) + (kappa/2) sum_i |grad c_i|^2 (J, per the geometry's
        convention); None with a Fickian diffusivity_matrix (no free energy)."""
        if self.fick:
            return None
        C = self._point_concentrations(x)
        if self.energy.needs_positive:
            C = np.maximum(C, 1e-300)
        total = float(self.points.weight @ self.energy.density(C))
        if self.cahn_hilliard:
            total += self.gradient.energy(self._concentrations(x))
        return total


class _MixedOperator:
    """A Jacobian ``constant + sum_k P_k^T diag(v_k) P_k`` (global numbering) on
    one fixed CSR pattern: the entries of the Galerkin products are a fixed
    sparse linear map of the point values v, so that each assembly is one
    sparse matrix-vector product and no sparse matrix arithmetic.

    ``blocks`` are (row offset, column offset, matrix) of the constant part,
    ``targets`` the (row offset, column offset) of each product block, all with
    the same prolongation ``P`` (points x dofs).
    """

    def __init__(self, n: int, blocks, P: sp.spmatrix, targets):
        P = sp.csr_matrix(P)
        P.sum_duplicates()
        npts = P.shape[0]
        counts = np.diff(P.indptr)
        point_of_entry = np.repeat(np.arange(npts), counts)
        # every pair (e1, e2) of entries of one row of P: P_pa P_pb
        per_entry = counts[point_of_entry]
        first = np.repeat(np.arange(P.nnz), per_entry)
        start = np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
        second = P.indptr[point_of_entry[first]] + (np.arange(len(first)) - start)
        a, b = P.indices[first], P.indices[second]
        coef = P.data[first] * P.data[second]
        point = point_of_entry[first]
        rows, cols, vals = [], [], []
        for r0, c0, block in blocks:
            block = block.tocoo()
            rows.append(block.row + r0)
            cols.append(block.col + c0)
            vals.append(block.data)
        const = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                      np.concatenate(cols))),
                              shape=(n, n)).tocsr()
        const.sum_duplicates()
        self.linear = const
        var_rows = np.concatenate([a + r0 for r0, _ in targets])
        var_cols = np.concatenate([b + c0 for _, c0 in targets])
        pattern = sp.csr_matrix((np.ones(len(var_rows) + const.nnz),
                                 (np.concatenate([var_rows, const.tocoo().row]),
                                  np.concatenate([var_cols, const.tocoo().col]))),
                                shape=(n, n))
        pattern.sum_duplicates()
        pattern.sort_indices()
        self.indices, self.indptr = pattern.indices, pattern.indptr
        row_of_slot = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.indptr))
        keys = row_of_slot * n + self.indices

        def slots(r, c):
            return np.searchsorted(keys, r.astype(np.int64) * n + c)

        const_coo = const.tocoo()
        self.constant = np.bincount(slots(const_coo.row, const_coo.col), weights=const_coo.data,
                                    minlength=len(keys))
        value_index = np.concatenate([point + k * npts for k in range(len(targets))])
        self.map = sp.csr_matrix((np.tile(coef, len(targets)),
                                  (slots(var_rows, var_cols), value_index)),
                                 shape=(len(keys), len(targets) * npts))
        self.map.sum_duplicates()
        self.shape = (n, n)

    def jacobian(self, values: np.ndarray) -> sp.csr_matrix:
        """constant + the products with the point values ``values`` (targets x npts)."""
        J = sp.csr_matrix((self.constant + self.map @ values, self.indices, self.indptr),
                          shape=self.shape)
        J.has_sorted_indices = True
        J.has_canonical_format = True
        return J

