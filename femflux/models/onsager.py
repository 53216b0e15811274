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
  the Hessian H = d2f/dc dc from :mod:`femflux.thermo` (sympy -> numpy).  The
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

from ..errors import CaseError
from ..solver import TimeOptions
from ..thermo import FreeEnergy
from .transport import SpeciesTransport


class OnsagerModel(SpeciesTransport):
    """Multicomponent Onsager / Fick / Cahn-Hilliard transport."""

    kind = "onsager"

    # -- set-up -----------------------------------------------------------------

    def _setup_fields(self, offset: int) -> int:
        case = self.case
        names = case.species_names
        first = self.species[0].space
        for s in self.species:
            if s.space is not first:
                raise CaseError(f"onsager: species {s.name!r} is restricted to some regions; "
                                "all species of an onsager case must exist everywhere")
            if np.any(s.gamma != 1.0):
                raise CaseError(f"onsager: species {s.name!r}: activity_coefficient must be 1 "
                                "(non-ideality goes into [thermo])")
        self.space = first
        self.nsp = len(self.species)
        transport, thermo = case.transport, case.thermo
        self.fick = transport.diffusivity_matrix is not None
        if self.fick:
            self.diffusivity_matrix = np.asarray(transport.diffusivity_matrix, dtype=float)
            self.energy = FreeEnergy(names, "ideal", case.model.temperature,
                                     case.reference_concentration,
                                     standard_potentials=[s.standard_potential
                                                          for s in case.species])
            self.kappa = 0.0
            self.onsager = None
        else:
            self.energy = FreeEnergy.from_case(case)
            self.kappa = float(thermo.gradient_energy) if thermo is not None else 0.0
            self.onsager = (None if isinstance(transport.onsager, str)
                            else np.asarray(transport.onsager, dtype=float))
        self.einstein = not self.fick and self.onsager is None
        self.cahn_hilliard = self.kappa > 0
        # geometry at the quadrature points of the (shared) space
        space = self.space
        self._gg = np.einsum("adeq,bdeq,eq->abeq", space.grads, space.grads, space.dx)
        self._K = space.pattern.assemble(self._gg.sum(axis=3))  # int grad v_a . grad v_b
        self._elem_D = np.stack([self.element_k(s) for s in self.species])[:, :, None]
        P = self.species[0].P
        self._P = P
        self._M = (P.T @ sp.diags(self.points.weight) @ P).tocsr()  # lumped mass
        n = space.n
        if self.fick:
            D = self.diffusivity_matrix
            self._fick_matrix = sp.bmat([[D[i, j] * self._K for j in range(self.nsp)]
                                         for i in range(self.nsp)], format="csr")
        if not self.cahn_hilliard:
            return 0
        self.mu_offsets = [offset + k * n for k in range(self.nsp)]
        return self.nsp * n

    def __init__(self, case, fem_mesh):
        super().__init__(case, fem_mesh)
        self.symmetric = False
        self.linear = (self.fick or (self.cahn_hilliard and self.onsager is not None
                                     and self.energy.constant_hessian)) and self._is_linear()

    def field_offsets(self):
        return list(self.mu_offsets) if self.cahn_hilliard else []

    def field_spaces(self):
        return [self.space] * self.nsp if self.cahn_hilliard else []

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
        (N, N, N, nel, nq), or None when L is constant."""
        N = self.nsp
        if self.onsager is not None:
            L = np.broadcast_to(self.onsager[:, :, None, None], (N, N) + C.shape[1:])
            return L, None
        L = np.zeros((N, N) + C.shape[1:])
        dL = np.zeros((N, N, N) + C.shape[1:])
        for i in range(N):
            L[i, i] = self._elem_D[i] * C[i] / self.RT
            dL[i, i, i] = self._elem_D[i] / self.RT
        return L, dL

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
        rhs = (self._P.T @ (w[:, None] * fi.T)).T + self.kappa * (self._K @ c.T).T
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
            # mu is algebraic (no storage): its time-step error follows from that
            # of c, delta mu ~ (|f''| + kappa/h^2) delta c.  Its x_scale is set so
            # that the solver's absolute error floor (atol_fraction * x_scale) on
            # mu is that image of the floor on c; otherwise mu ~ 0 in the bulk
            # phases would dictate needlessly small steps.
            h = float(np.median(M_diag)) ** (1.0 / self.dim)
            atol_fraction = TimeOptions.__dataclass_fields__["atol_fraction"].default
            for i in range(self.nsp):
                mu = x0[self.mu_slice(i)]
                mu_scale = max(float(np.abs(mu).max(initial=0.0)), c_scale[i] * h_abs,
                               self.kappa * c_scale[i] / length**2, 1e-300)
                image = c_scale[i] * (h_abs + self.kappa / h**2)
                x_scale[self.mu_slice(i)] = max(mu_scale, image / atol_fraction)
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
        """Cahn-Hilliard: J_i = -sum_j L_ij grad mu_j."""
        space = self.space
        n = space.n
        offsets = [s.offset for s in self.species]
        mu = np.stack([x[self.mu_slice(i)] for i in range(self.nsp)])
        if self.onsager is not None:
            for i, off in enumerate(offsets):
                for j in range(self.nsp):
                    if self.onsager[i, j] != 0.0:
                        F[off: off + n] += self.onsager[i, j] * (self._K @ mu[j])
                        pieces.append((off, self.mu_offsets[j], self.onsager[i, j] * self._K))
            return
        C, _ = self._quadrature(self._concentrations(x))
        _, Gmu = self._quadrature(mu)
        L, dL = self.mobility(C)
        self._residual(F, np.einsum("ijeq,jdeq->ideq", L, Gmu), offsets)
        self._assemble_blocks(np.einsum("ijeq,abeq->ijabe", L, self._gg), offsets,
                              self.mu_offsets, pieces)
        W = np.einsum("ijmeq,jdeq->imdeq", dL, Gmu)
        local = np.einsum("imdeq,adeq,beq,eq->imabe", W, space.grads, space.values, space.dx)
        self._assemble_blocks(local, offsets, offsets, pieces)

    def field_equations(self, x, t, F, rows, cols, vals, pieces) -> None:
        """mu rows: int mu_i v - int f_i(c) v - kappa int grad c_i . grad v = 0."""
        if not self.cahn_hilliard:
            return
        P, w = self._P, self.points.weight
        C = self._point_concentrations(x)
        fi = self.energy.chemical_potentials(C)
        H = self.energy.hessian(C)
        c = self._concentrations(x)
        for i in range(self.nsp):
            sl = self.mu_slice(i)
            F[sl] += self._M @ x[sl] - P.T @ (w * fi[i]) - self.kappa * (self._K @ c[i])
            pieces.append((sl.start, sl.start, self._M))
            for m, s in enumerate(self.species):
                block = -(P.T @ sp.diags(w * H[i, m]) @ P)
                if i == m:
                    block = block - self.kappa * self._K
                pieces.append((sl.start, s.offset, block))

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
        if self.kappa > 0:
            c = self._concentrations(x)
            total += 0.5 * self.kappa * float(sum(ci @ (self._K @ ci) for ci in c))
        return total
