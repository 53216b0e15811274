"""Species transport on the shared machinery: J_i = -(D_i c_i / RT) grad mu_i.

This module holds what every model with mobile species needs:

- one unknown per species and dof, the *activity concentration*
  ``a_i = gamma_i c_i`` (mol/m^3).  ``mu_i = mu0_i + RT ln(a_i / c_ref) + ...``
  is continuous across region interfaces, so ``a_i`` is one continuous field
  and ``c_i = a_i / gamma_i`` jumps where the activity coefficient jumps
  (partitioning, SPEC 4.0).  Inside a region ``J_i = -(D_i/gamma_i) grad a_i``
  plus the drift of the model's extra potential terms;
- the storage term ``int c_i v`` on lumped (nodal) quadrature;
- mass-action reactions ``v = k_f prod c^nu - k_r prod c^nu``;
- interfaces where a species' activity jumps too (models that break them,
  e.g. the Donnan interfaces of an electroneutral model): there the species
  has one copy of each interface dof per side, the conservation rows of the
  copies are summed (one control volume: J.n continuous) and the other rows
  say that mu_i is continuous, a_i exp(psi_i) equal on both sides;
- boundary conditions: concentration (Dirichlet), inward flux, mass transfer;
- the conserved combinations of closed species (steady amount constraints);
- post-processing: point/cell fields, conservative boundary fluxes from the
  weak-form residual, region amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.constants import R as GAS_CONSTANT

from ..case import Case, Reaction
from ..errors import CaseError
from ..expressions import Expression, evaluate
from ..fem import (
    BlockSum,
    EdgeAveragedFlux,
    Pattern,
    PointSet,
    Space,
    cell_points,
    drift_flux,
    facet_points,
    facet_prolongation,
)
from ..mesh import FemMesh


def _depends_on_time(value) -> bool:
    return isinstance(value, Expression) and value.depends_on_time


@dataclass
class SpeciesField:
    """One species: its space, its place in the unknown vector and its coefficients."""

    name: str
    index: int
    space: Space
    offset: int
    diffusivity: np.ndarray  # (nregions,) m^2/s
    gamma: np.ndarray  # (nregions,) activity coefficient
    regions: np.ndarray  # (nregions,) bool: the species exists there
    P: sp.csr_matrix  # prolongation to the cell points

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.space.n)


class InterfaceTies:
    """The copies of broken species dofs and the rows that tie them.

    For every copy ``other`` of a dof with representative ``rep``: the
    conservation row of ``other`` is added to that of ``rep`` (the node's
    control volume conserves the total, so J.n is continuous) and replaced by
    the continuity of the electrochemical potential, ln a_o + psi_o = ln a_r +
    psi_r (psi = scale * phi), written linearly in the activities and
    symmetrically in the two sides,

        a_o exp(d/2) - a_r exp(-d/2) = 0,  d = psi_o - psi_r,

    which stays defined for the non-positive activities a time-step predictor
    may propose (a row in mol/m^3, scaled like the species).

    ``T`` is the row operation (rep += other, other := 0) applied to the
    storage and flux terms; the tie rows are then added.  :meth:`balance`
    composes it with a second row operation that adds multiples of the
    species' conservation rows to the rows of the drift field (for
    electroneutrality: the node's current balance); see
    :meth:`SpeciesTransport._balance_drift_rows`.
    """

    def __init__(self, n, rep, other, scale, phi_rep, phi_other, local):
        self.n = n
        self.rep, self.other, self.scale = rep, other, scale
        self.phi_rep, self.phi_other = phi_rep, phi_other
        self.local = local  # species name -> (rep, other) local dofs
        m = len(other)
        self.T = (sp.identity(n, format="csr")
                  + sp.csr_matrix((np.ones(m), (rep, other)), shape=(n, n))
                  - sp.csr_matrix((np.ones(m), (other, other)), shape=(n, n))).tocsr()
        self.T.eliminate_zeros()

    def balance(self, rows, cols, coefficients) -> sp.csr_matrix:
        """Add ``coefficients`` times (the summed) row ``cols`` to row ``rows``
        (after T); return the extra row operation B (T becomes (I + B) T)."""
        B = sp.csr_matrix((coefficients, (rows, cols)), shape=(self.n, self.n))
        self.T = (self.T + B @ self.T).tocsr()
        return B

    def residual(self, x: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        """The tie rows g (len(other),) and dg/dx (len(other) x n)."""
        a_o, a_r = x[self.other], x[self.rep]
        with np.errstate(over="ignore"):  # inf: rejected by the line search
            half = np.exp(0.5 * self.scale * (x[self.phi_other] - x[self.phi_rep]))
        g = a_o * half - a_r / half
        dphi = 0.5 * self.scale * (a_o * half + a_r / half)
        m = len(self.other)
        rows = np.tile(np.arange(m), 4)
        cols = np.concatenate([self.other, self.rep, self.phi_other, self.phi_rep])
        vals = np.concatenate([half, -1.0 / half, dphi, -dphi])
        return g, sp.csr_matrix((vals, (rows, cols)), shape=(m, self.n))

    def apply(self, x, F, J):
        """(T F with the tie rows, T J with their Jacobian)."""
        F = self.T @ F
        g, G = self.residual(x)
        F[self.other] = g
        lift = sp.csr_matrix((np.ones(len(self.other)), (self.other, np.arange(len(self.other)))),
                             shape=(self.n, len(self.other)))
        return F, (self.T @ J + lift @ G).tocsr()


class SpeciesTransport:
    """The discrete conservation law of all species (a solver :class:`System`)."""

    def __init__(self, case: Case, fem_mesh: FemMesh):
        self.case = case
        self.fem_mesh = fem_mesh
        self.dim = fem_mesh.dim
        self.RT = GAS_CONSTANT * case.model.temperature
        self.c_ref = case.model.reference_concentration
        self.degree = case.solver.degree
        self.region_names = list(fem_mesh.regions)
        self.region_index = {name: k for k, name in enumerate(self.region_names)}
        self.nregions = len(self.region_names)
        self.points = cell_points(fem_mesh, self.degree)
        self._spaces: dict[tuple, Space] = {}
        # regions grouped by the model where fields may jump between groups (or None)
        self.groups = self.interface_groups()
        self.species: list[SpeciesField] = []
        offset = 0
        for i, spec in enumerate(case.species):
            field = self._make_species(i, spec, offset)
            self.species.append(field)
            offset += field.space.n
        self.n_species = offset
        self._element_k: dict[str, np.ndarray] = {}
        self.by_name = {s.name: s for s in self.species}
        self._facet_points: dict[str, PointSet] = {}
        self._facet_P: dict[tuple[str, str], sp.csr_matrix] = {}
        self.n = offset + self._setup_fields(offset)
        self._block_sum: BlockSum | None = None  # Jacobian summation, pattern reused
        self._storage_matrix = self._assemble_storage()
        self._drift = {s.name: self.drift(s) for s in self.species}
        self._drift_index: dict[str, np.ndarray] = {}
        self._drift_cols: dict[str, tuple[np.ndarray, int]] = {}
        self.ties = self._build_ties()
        if self.ties is not None:  # storage of the copies goes to the representative
            self._storage_matrix = (self.ties.T @ self._storage_matrix).tocsr()
        if any(d is not None for d in self._drift.values()):
            terms = {}  # one flux term (edge weights) per space, shared by its species
            self._flux_terms = {s.name: terms.setdefault(id(s.space), drift_flux(s.space))
                                for s in self.species}
            self._patterns: dict[tuple, Pattern] = {}
            self._stiffness = None
        else:
            self._stiffness = sp.block_diag(
                [self._species_stiffness(s) for s in self.species]
                + [sp.csr_matrix((self.n - self.n_species,) * 2)], format="csr")
        self.reactions = [self._reaction_points(r) for r in case.reactions]
        self.linear = self._stiffness is not None and self._is_linear()
        self.symmetric = not case.reactions and self._stiffness is not None
        self.x_scale, self.r_scale = self._scales()
        if self.ties is not None:
            self._balance_drift_rows()
        # Volume sources f_i(x, t) in mol/m^3/s by species name: a Python-API hook
        # (manufactured solutions); the case file has no such key.
        self.sources: dict[str, object] = {}

    # -- hooks of models with more fields ---------------------------------------

    def _setup_fields(self, offset: int) -> int:
        """Create the model's extra unknowns after the species (at ``offset``);
        return their number."""
        return 0

    def drift(self, s: SpeciesField):
        """The drift potential of species ``s``: None, or ``(scale, offset, space)``
        meaning psi = scale * (the field of ``space`` stored at ``offset``)."""
        return None

    def interface_groups(self) -> np.ndarray | None:
        """(nregions,) group of every region, where species that :meth:`breaks`
        (and the model's own fields) may jump between groups; None: nowhere."""
        return None

    def breaks(self, spec) -> bool:
        """Whether species ``spec`` gets one copy per group at interface dofs."""
        return False

    def field_equations(self, x, t, F, rows, cols, vals, pieces) -> None:
        """Add the residuals of the extra fields to F and their Jacobian entries
        as pieces (row offset, column offset, block) and/or COO entries."""

    def constraints(self, x: np.ndarray, steady: bool):
        """Extra scalar equations g(x) = 0 with Lagrange multipliers (gauges):
        ``(g, G)`` with G = dg/dx (k x n), or None."""
        return None

    # -- construction ------------------------------------------------------

    def _space(self, regions: tuple[str, ...], broken: bool = False) -> Space:
        """The space on ``regions`` (shared), broken between the groups of
        :meth:`interface_groups` when ``broken`` and there are groups."""
        broken = broken and self.groups is not None \
            and len({self.groups[self.region_index[r]] for r in regions}) > 1
        key = (regions, broken)
        if key not in self._spaces:
            elements = None
            if regions and set(regions) != set(self.region_names):
                elements = np.sort(np.concatenate(
                    [self.fem_mesh.regions[name] for name in regions]))
            self._spaces[key] = Space(self.fem_mesh, self.degree, elements,
                                      groups=self.groups if broken else None)
        return self._spaces[key]

    def _make_species(self, i, spec, offset) -> SpeciesField:
        regions = tuple(spec.regions) if spec.regions else tuple(self.region_names)
        space = self._space(regions, broken=self.breaks(spec))
        mask = np.zeros(self.nregions, dtype=bool)
        mask[[self.region_index[r] for r in regions]] = True
        D = np.full(self.nregions, spec.diffusivity, dtype=float)
        gamma = np.full(self.nregions, spec.activity_coefficient, dtype=float)
        for region in self.case.regions:
            k = self.region_index[region.name]
            D[k] = region.diffusivity.get(spec.name, D[k])
            gamma[k] = region.activity_coefficient.get(spec.name, gamma[k])
        return SpeciesField(name=spec.name, index=i, space=space, offset=offset,
                            diffusivity=D, gamma=gamma, regions=mask,
                            P=self.points.prolongation(space))

    def _species_stiffness(self, s: SpeciesField) -> sp.csr_matrix:
        """int (D/gamma) grad(v_i).grad(v_j) w dx over the species' elements."""
        region_of_element = self.fem_mesh.region_ids[s.space.elements]
        return s.space.stiffness((s.diffusivity / s.gamma)[region_of_element])

    def _assemble_storage(self) -> sp.csr_matrix:
        """d/da of int c v = int (a/gamma) v on the cell points (constant)."""
        blocks = []
        for s in self.species:
            w = self.points.weight / s.gamma[self.points.region]
            blocks.append((s.P.T @ sp.diags(w) @ s.P).tocsr())
        if self.n > self.n_species:
            blocks.append(sp.csr_matrix((self.n - self.n_species,) * 2))
        return sp.block_diag(blocks, format="csr")

    def _reaction_points(self, reaction: Reaction) -> dict:
        names = list(reaction.reactants) + list(reaction.products)
        allowed = np.ones(self.nregions, dtype=bool)
        for name in names:
            allowed &= self.by_name[name].regions
        if reaction.regions:
            chosen = np.zeros(self.nregions, dtype=bool)
            chosen[[self.region_index[r] for r in reaction.regions]] = True
            if np.any(chosen & ~allowed):
                raise CaseError(f"reaction '{reaction.equation}': not all its species exist "
                                f"in regions {reaction.regions}")
            allowed = chosen
        mask = allowed[self.points.region]
        nu = {name: reaction.products.get(name, 0) - reaction.reactants.get(name, 0)
              for name in names}
        return {"reaction": reaction, "mask": mask, "nu": nu}

    def _is_linear(self) -> bool:
        for r in self.case.reactions:
            if sum(r.reactants.values()) != 1 or (r.reversible and sum(r.products.values()) != 1):
                return False
        for b in self.case.boundaries:
            if any(_depends_on_time(m.coefficient) for m in b.mass_transfer.values()):
                return False
        return True

    def _scales(self) -> tuple[np.ndarray, np.ndarray]:
        """Typical magnitudes: the largest initial or boundary concentration, and
        the matching diffusive and storage rates per dof."""
        x0 = self.initial_state()
        fixed, values = self.dirichlet(0.0)
        x_scale = np.ones(self.n)
        r_scale = np.ones(self.n)
        lo, hi = self.fem_mesh.mesh.p.min(axis=1), self.fem_mesh.mesh.p.max(axis=1)
        length = float(np.linalg.norm(hi - lo)) or 1.0
        d_max = max(max(float(s.diffusivity.max()) for s in self.species), 1e-300)
        K_diag = np.zeros(self.n)
        for s in self.species:
            G = s.space.grads
            local = np.einsum("ideq,ideq,eq->ie", G, G, s.space.dx) * self.element_k(s)
            K_diag[s.slice] = np.bincount(s.space.element_dofs.ravel(), weights=local.ravel(),
                                          minlength=s.space.n)
        M_diag = np.asarray(abs(self._storage_matrix).sum(axis=1)).ravel()
        c_scales = {}
        for s in self.species:
            sl = s.slice
            vals = [np.abs(x0[sl]).max(initial=0.0)]
            in_species = (fixed >= s.offset) & (fixed < s.offset + s.space.n)
            vals.append(np.abs(values[in_species]).max(initial=0.0))
            c_scales[s.name] = max(vals) or self.c_ref
        # the fastest first-order reaction rate (1/s) each species takes part in
        k_char = dict.fromkeys(self.by_name, 0.0)
        for r in self.case.reactions:
            rates = [r.forward * np.prod([c_scales[n] ** (o - 1 if n == m else o)
                                          for n, o in r.reactants.items()])
                     for m in r.reactants]
            rates += [r.backward * np.prod([c_scales[n] ** (o - 1 if n == m else o)
                                            for n, o in r.products.items()])
                      for m in r.products]
            for name in list(r.reactants) + list(r.products):
                k_char[name] = max(k_char[name], max(rates))
        for s in self.species:
            sl = s.slice
            x_scale[sl] = c_scales[s.name]
            rate = np.median(np.abs(K_diag[sl]) + M_diag[sl] * (d_max / length**2
                                                                 + k_char[s.name]))
            r_scale[sl] = c_scales[s.name] * (rate if rate > 0 else 1.0)
        if self.ties is not None:  # mu continuity, in activities
            r_scale[self.ties.other] = x_scale[self.ties.other]
        return x_scale, r_scale

    # -- the System interface ----------------------------------------------

    def initial_state(self) -> np.ndarray:
        """a = gamma c_initial; a dof on several regions r takes
        a = sum_r c_r / sum_r (1/gamma_r): the unweighted mean of the initial
        values where gamma does not jump (SPEC 4.0), and the initial amount
        kept where it does.  Each copy of a broken dof takes the regions of
        its own side."""
        x = np.zeros(self.n)
        region_ids = self.fem_mesh.region_ids
        for s, spec in zip(self.species, self.case.species, strict=True):
            space = s.space
            total = np.zeros(space.n)
            count = np.zeros(space.n)
            element_region = region_ids[space.elements]
            for k in np.flatnonzero(s.regions):
                name = self.region_names[k]
                value = spec.initial
                for region in self.case.regions:
                    if region.name == name and spec.name in region.initial:
                        value = region.initial[spec.name]
                touched = np.bincount(space.element_dofs[:, element_region == k].ravel(),
                                      minlength=space.n)
                dofs = np.flatnonzero(touched)
                total[dofs] += evaluate(value, space.x[:, dofs], 0.0)
                count[dofs] += 1.0 / s.gamma[k]
            x[s.slice] = np.divide(total, count, out=np.zeros(space.n), where=count > 0)
        return x

    def boundary_facets(self, name: str, s: SpeciesField) -> np.ndarray:
        """Facets of boundary ``name`` adjacent to an element where ``s`` exists."""
        facets = self.fem_mesh.boundaries[name]
        f2t = self.fem_mesh.mesh.f2t[:, facets]
        inside = np.zeros(self.fem_mesh.mesh.nelements + 1, dtype=bool)
        inside[s.space.elements] = True
        return facets[inside[f2t[0]] | inside[np.where(f2t[1] < 0, -1, f2t[1])]]

    def boundary_points(self, name: str) -> PointSet:
        if name not in self._facet_points:
            self._facet_points[name] = facet_points(
                self.fem_mesh, self.fem_mesh.boundaries[name], self.degree)
        return self._facet_points[name]

    def boundary_prolongation(self, name: str, s: SpeciesField) -> sp.csr_matrix:
        key = (name, s.name)
        if key not in self._facet_P:
            self._facet_P[key] = facet_prolongation(self.boundary_points(name), s.space)
        return self._facet_P[key]

    def dirichlet_dofs(self, name: str, s: SpeciesField) -> tuple[np.ndarray, float]:
        """Local dofs of species ``s`` on boundary ``name`` and the activity
        coefficient of the region next to it (cached; per dof for a broken space,
        whose copies on the boundary each take their own side's)."""
        key = ("dirichlet", name, s.name)
        if key not in self._facet_P and s.space.broken:
            facets = self.boundary_facets(name, s)
            local, region = s.space.facet_dofs(facets)
            dofs, inverse = np.unique(local, return_inverse=True)
            count = np.bincount(inverse, minlength=len(dofs))
            gamma = np.bincount(inverse, weights=s.gamma[region], minlength=len(dofs)) / count
            self._facet_P[key] = (dofs, gamma)
        if key not in self._facet_P:
            facets = self.boundary_facets(name, s)
            if s.space.degree == 1:
                nodes = np.flatnonzero(np.bincount(
                    self.fem_mesh.mesh.facets[:, facets].ravel(),
                    minlength=self.fem_mesh.mesh.nvertices))
                local = s.space.local[nodes]
            else:
                local = s.space.local[s.space.basis.get_dofs(facets=facets).all()]
            adjacent = self.fem_mesh.region_ids[self.fem_mesh.mesh.f2t[0, facets]]
            gamma = float(np.mean(s.gamma[adjacent])) if len(facets) else 1.0
            self._facet_P[key] = (local[local >= 0], gamma)
        return self._facet_P[key]

    def dirichlet(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        dofs, values = [], []
        for b in self.case.boundaries:
            for name, value in b.concentration.items():
                s = self.by_name[name]
                local, gamma = self.dirichlet_dofs(b.name, s)
                dofs.append(s.offset + local)
                values.append(gamma * evaluate(value, s.space.x[:, local], t))
        if not dofs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(dofs), np.concatenate(values)

    def storage(self, x: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
        return self._storage_matrix @ x, self._storage_matrix

    def flux(self, x: np.ndarray, t: float) -> tuple[np.ndarray, sp.csr_matrix]:
        """F = int J.grad v - int R v - int_boundary (inward flux) v, and dF/dx.

        The Jacobian is gathered as ``pieces`` (row offset, column offset, local
        block) and COO entries in global numbering, and summed once by a
        :class:`~femflux.jacobian.BlockSum` (pattern learned once).
        """
        rows, cols, vals = [], [], []
        pieces: list[tuple[int, int, sp.spmatrix]] = []
        F = np.zeros(self.n)
        self.add_species_fluxes(x, t, F, pieces)
        for rxn in self.reactions:
            self._add_reaction(rxn, x, F, rows, cols, vals)
        for b in self.case.boundaries:
            self._add_boundary_fluxes(b, x, t, F, rows, cols, vals)
        for name, source in self.sources.items():
            s = self.by_name[name]
            F[s.slice] -= s.P.T @ (self.points.weight * source(self.points.x, t))
        self.field_equations(x, t, F, rows, cols, vals, pieces)
        if self._block_sum is None:
            self._block_sum = BlockSum((self.n, self.n))
        J = self._block_sum(pieces, rows, cols, vals)
        if self.ties is not None:
            F, J = self.ties.apply(x, F, J)
        return self.replace_rows(x, t, F, J)

    def add_species_fluxes(self, x, t, F, pieces) -> None:
        """The flux term int -J_i . grad v of every species: Galerkin diffusion
        (a constant matrix) or the drift-diffusion term of the model's potentials.
        Models with other flux laws (Onsager) override this."""
        if self._stiffness is not None:
            F += self._stiffness @ x
            pieces.append((0, 0, self._stiffness))
            return
        edge_cache: dict = {}
        for s in self.species:
            self._add_drift_flux(s, x, F, pieces, edge_cache)

    def _pattern(self, row_space: Space, col_space: Space) -> Pattern:
        """Element-matrix pattern between two spaces on the row space's elements,
        in local numbering (shared by every block with these spaces)."""
        if row_space is col_space:
            return row_space.pattern
        key = (id(row_space), id(col_space))
        if key not in self._patterns:
            if col_space.broken:  # each element's own copies
                cols = col_space.element_local(row_space.elements)
            else:
                cols = col_space.local[row_space.global_element_dofs]
            self._patterns[key] = Pattern(row_space.element_dofs, cols,
                                          (row_space.n, col_space.n))
        return self._patterns[key]

    def element_k(self, s: SpeciesField) -> np.ndarray:
        """k = D / gamma on each element of the species' space (cached)."""
        if s.name not in self._element_k:
            region = self.fem_mesh.region_ids[s.space.elements]
            self._element_k[s.name] = (s.diffusivity / s.gamma)[region]
        return self._element_k[s.name]

    def drift_potential(self, s: SpeciesField, x: np.ndarray):
        """psi on the species' dofs, or None."""
        drift = self._drift[s.name]
        if drift is None:
            return None
        scale, offset, space = drift
        return scale * x[self.drift_index(s)]

    def drift_index(self, s: SpeciesField) -> np.ndarray:
        """Index in x of the drift field at each dof of species ``s`` (the copy
        of the same side where the drift field is broken)."""
        if s.name not in self._drift_index:
            _, offset, space = self._drift[s.name]
            if space.broken:
                local = np.empty(s.space.n, dtype=np.int64)
                local[s.space.element_dofs] = space.element_local(s.space.elements)
            else:
                local = space.local[s.space.dofs]
            self._drift_index[s.name] = offset + local
        return self._drift_index[s.name]

    def _drift_columns(self, s: SpeciesField) -> tuple[np.ndarray, int] | None:
        """(column of the drift field at each dof of ``s`` within the drift
        field's block, the block's width), or None without drift."""
        if self._drift[s.name] is None:
            return None
        if s.name not in self._drift_cols:
            _, offset, space = self._drift[s.name]
            self._drift_cols[s.name] = (self.drift_index(s) - offset, space.n)
        return self._drift_cols[s.name]

    # -- interfaces with broken species dofs -------------------------------------

    def _species_dirichlet(self) -> np.ndarray:
        """(n,) bool: the Dirichlet dofs of the species."""
        fixed = np.zeros(self.n, dtype=bool)
        for b in self.case.boundaries:
            for name in b.concentration:
                s = self.by_name[name]
                fixed[s.offset + self.dirichlet_dofs(b.name, s)[0]] = True
        return fixed

    def _build_ties(self) -> InterfaceTies | None:
        """Tie the copies of every broken species dof: one representative (a
        Dirichlet copy if there is one) takes the summed conservation rows, each
        other copy the continuity of mu."""
        if not any(s.space.broken for s in self.species):
            return None
        fixed = self._species_dirichlet()
        reps, others, scales, phi_reps, phi_others = [], [], [], [], []
        local_ties = {}
        for s in self.species:
            space = s.space
            if not space.broken:
                continue
            copies = np.flatnonzero(space.copy_group >= 0)
            dof = space.dofs[copies]
            # by global dof; within one, the Dirichlet copies first, then by number
            order = np.lexsort((copies, ~fixed[s.offset + copies], dof))
            copies, dof = copies[order], dof[order]
            start = np.ones(len(dof), dtype=bool)
            start[1:] = dof[1:] != dof[:-1]
            rep = copies[np.maximum.accumulate(np.where(start, np.arange(len(dof)), 0))]
            rep, other = rep[~start], copies[~start]
            local_ties[s.name] = (rep, other)
            reps.append(s.offset + rep)
            others.append(s.offset + other)
            if self._drift[s.name] is None:
                scales.append(np.zeros(len(rep)))
                phi_reps.append(s.offset + rep)  # any index: the coefficient is 0
                phi_others.append(s.offset + other)
            else:
                index = self.drift_index(s)
                scales.append(np.full(len(rep), float(self._drift[s.name][0])))
                phi_reps.append(index[rep])
                phi_others.append(index[other])
        return InterfaceTies(self.n, np.concatenate(reps), np.concatenate(others),
                             np.concatenate(scales), np.concatenate(phi_reps),
                             np.concatenate(phi_others), local_ties)

    def _balance_drift_rows(self) -> None:
        """Add to every row of a drift field (electroneutrality: phi) the
        node's balance sum_i s_i R_i of the species it drives, R_i the
        (summed) conservation row of species i at that node and s_i its drift
        scale (z_i F/RT: the current), scaled to the row.  An equivalent
        system (the rows R_i vanish at the solution; Dirichlet rows, whose
        residual is the boundary flux, are left out), but the row now has a
        diagonal, sum_i s_i dR_i/dphi > 0: the electroneutrality rows alone
        have none, and where the interface copies change the elimination
        order the direct solver would pivot off the diagonal (2x slower)."""
        fixed = self._species_dirichlet()
        representative = np.arange(self.n)
        representative[self.ties.other] = self.ties.rep
        rows, cols, coefficients = [], [], []
        for s in self.species:
            if self._drift[s.name] is None:
                continue
            scale = float(self._drift[s.name][0])
            field_rows = self.drift_index(s)
            species_rows = representative[s.offset + np.arange(s.space.n)]
            keep = ~fixed[species_rows]
            field_rows, species_rows = field_rows[keep], species_rows[keep]
            rows.append(field_rows)
            cols.append(species_rows)
            coefficients.append(scale * self.x_scale[field_rows] * self.r_scale[field_rows]
                                / self.r_scale[species_rows])
        if not rows:
            return
        B = self.ties.balance(np.concatenate(rows), np.concatenate(cols),
                              np.concatenate(coefficients))
        self._storage_matrix = (self._storage_matrix + B @ self._storage_matrix).tocsr()

    def fold_to_representatives(self, s: SpeciesField, w: np.ndarray) -> np.ndarray:
        """Per-dof weights of species ``s`` with the copies' weights moved to
        their representative (which holds the summed conservation rows)."""
        if self.ties is None or s.name not in self.ties.local:
            return w
        rep, other = self.ties.local[s.name]
        w = np.array(w, dtype=float)
        np.add.at(w, rep, w[other])
        w[other] = 0.0
        return w

    def _add_drift_flux(self, s: SpeciesField, x, F, pieces, edge_cache) -> None:
        """The drift-diffusion flux of species ``s`` (EAFE or Galerkin)."""
        a = x[s.slice]
        psi = self.drift_potential(s, x)
        term = self._flux_terms[s.name]
        tables = None
        if psi is not None and hasattr(term, "edge_tables"):
            # Bernoulli tables are shared by species of equal |charge| (sign flip)
            scale = self._drift[s.name][0]
            key = (id(term), abs(scale))
            if key not in edge_cache:
                edge_cache[key] = term.edge_tables(psi * (abs(scale) / scale))
            tables = edge_cache[key] if scale > 0 else term.flipped(edge_cache[key])
        if isinstance(term, EdgeAveragedFlux):  # assembled per edge
            residual, dA, dP = term.assemble(self.element_k(s), a, psi, tables,
                                             self._drift_columns(s))
        else:  # Galerkin: element matrices
            residual, dA, dP = term.assemble(self.element_k(s), a, psi)
            dA = self._pattern(s.space, s.space).assemble(dA)
            if psi is not None:
                dP = self._pattern(s.space, self._drift[s.name][2]).assemble(dP)
        F[s.slice] += residual
        pieces.append((s.offset, s.offset, dA))
        if psi is not None:
            scale, offset, _ = self._drift[s.name]
            dP.data *= scale
            pieces.append((s.offset, offset, dP))

    def node_blocks(self):
        """(permutation to node-wise order, unknowns per node) when every field
        has the same dofs and there are no extra scalar unknowns, else None."""
        offsets = [s.offset for s in self.species] + self.field_offsets()
        spaces = [s.space for s in self.species] + self.field_spaces()
        nv = spaces[0].n
        if len(offsets) < 2 or any(space.n != nv for space in spaces) \
                or len(offsets) * nv != self.n:
            return None
        if any(not np.array_equal(space.dofs, spaces[0].dofs) for space in spaces):
            return None
        perm = (np.asarray(offsets)[None, :] + np.arange(nv)[:, None]).ravel()
        return perm, len(offsets)

    def field_offsets(self) -> list[int]:
        """Offsets of the extra nodal fields (models with phi, u, ...)."""
        return []

    def field_spaces(self) -> list:
        return []

    def replace_rows(self, x, t, F, J):
        """Last word on the assembled system: models may replace whole rows
        (e.g. equations tying boundary potentials to a floating electrode)."""
        return F, J

    def _add_reaction(self, rxn, x, F, rows, cols, vals):
        """Mass action v = k_f prod c^nu - k_r prod c^nu at the cell points."""
        reaction: Reaction = rxn["reaction"]
        mask = rxn["mask"]
        w = self.points.weight[mask]
        conc, dc_da = {}, {}
        for name in rxn["nu"]:
            s = self.by_name[name]
            inv_gamma = 1.0 / s.gamma[self.points.region[mask]]
            conc[name] = (s.P @ x[s.slice])[mask] * inv_gamma
            dc_da[name] = inv_gamma

        def rate(side, k):
            value = np.full(len(w), k)
            grads = {}
            for name, order in side.items():
                value = value * conc[name] ** order
            for name, order in side.items():
                others = np.full(len(w), k * order) * conc[name] ** (order - 1)
                for other, o2 in side.items():
                    if other != name:
                        others = others * conc[other] ** o2
                grads[name] = others
            return value, grads

        v_f, g_f = rate(reaction.reactants, reaction.forward)
        v_r, g_r = (rate(reaction.products, reaction.backward) if reaction.reversible
                    else (np.zeros(len(w)), {}))
        v = v_f - v_r
        point_index = np.flatnonzero(mask)
        for name_i, nu_i in rxn["nu"].items():
            if nu_i == 0:
                continue
            si = self.by_name[name_i]
            Pi = si.P[point_index]
            F[si.slice] -= Pi.T @ (w * nu_i * v)
            for name_j in rxn["nu"]:
                dv = g_f.get(name_j, 0.0) - g_r.get(name_j, 0.0)
                if np.isscalar(dv) and dv == 0.0:
                    continue
                sj = self.by_name[name_j]
                block = -(Pi.T @ sp.diags(w * nu_i * dv * dc_da[name_j]) @ sj.P[point_index])
                block = block.tocoo()
                rows.append(block.row + si.offset)
                cols.append(block.col + sj.offset)
                vals.append(block.data)

    def _add_boundary_fluxes(self, b, x, t, F, rows, cols, vals):
        """Inward flux g and mass transfer k (c_bulk - c) on boundary ``b``."""
        for name, value in b.inward_flux.items():
            s = self.by_name[name]
            pts = self.boundary_points(b.name)
            P = self.boundary_prolongation(b.name, s)
            F[s.slice] -= P.T @ (pts.weight * evaluate(value, pts.x, t))
        for name, mt in b.mass_transfer.items():
            s = self.by_name[name]
            pts = self.boundary_points(b.name)
            P = self.boundary_prolongation(b.name, s)
            k = evaluate(mt.coefficient, pts.x, t)
            inv_gamma = 1.0 / s.gamma[pts.region]
            c = (P @ x[s.slice]) * inv_gamma
            F[s.slice] -= P.T @ (pts.weight * k * (evaluate(mt.bulk, pts.x, t) - c))
            block = (P.T @ sp.diags(pts.weight * k * inv_gamma) @ P).tocoo()
            rows.append(block.row + s.offset)
            cols.append(block.col + s.offset)
            vals.append(block.data)

    # -- closed species -----------------------------------------------------

    def exchanged_species(self) -> set[str]:
        """Species that some boundary exchanges with the outside (SPEC 4.0)."""
        names = set()
        for b in self.case.boundaries:
            names |= set(b.concentration) | set(b.mass_transfer) | set(b.inward_flux)
            if b.butler_volmer is not None:
                names.add(b.butler_volmer.species)
        return names

    def conserved_combinations(self) -> np.ndarray:
        """(k, nspecies) combinations m with sum_i m_i dAmount_i/dt = 0 for
        species that exchange nothing with the outside (beyond prescribed inward
        fluxes, which must then balance)."""
        nsp = len(self.species)
        rows = []
        for r in self.case.reactions:
            row = np.zeros(nsp)
            for name, nu in r.products.items():
                row[self.by_name[name].index] += nu
            for name, nu in r.reactants.items():
                row[self.by_name[name].index] -= nu
            rows.append(row)
        flux_only = set()
        for b in self.case.boundaries:
            flux_only |= set(b.inward_flux)
        open_species = self.exchanged_species() - (flux_only - self._dirichlet_like())
        for name in open_species:
            row = np.zeros(nsp)
            row[self.by_name[name].index] = 1.0
            rows.append(row)
        if not rows:
            return np.eye(nsp)
        basis = scipy.linalg.null_space(np.array(rows))
        return basis.T

    def _dirichlet_like(self) -> set[str]:
        names = set()
        for b in self.case.boundaries:
            names |= set(b.concentration) | set(b.mass_transfer)
            if b.butler_volmer is not None:
                names.add(b.butler_volmer.species)
        return names

    def conserved(self) -> np.ndarray:
        """Rows C with C @ F(x) = 0: the conserved combinations on the dofs."""
        m = self.conserved_combinations()
        if len(m) == 0:
            return np.zeros((0, self.n))
        C = np.zeros((len(m), self.n))
        for s in self.species:
            C[:, s.slice] = m[:, [s.index]]
        if self.ties is not None:
            C[:, self.ties.other] = 0.0  # rows of mu continuity, not of conservation
        self._check_flux_balance(m)
        return C

    def _check_flux_balance(self, m: np.ndarray) -> None:
        """A steady run whose prescribed inward fluxes cannot balance is bad input."""
        net = np.zeros(len(self.species))
        scale = 0.0
        for b in self.case.boundaries:
            for name, value in b.inward_flux.items():
                s = self.by_name[name]
                pts = self.boundary_points(b.name)
                P = self.boundary_prolongation(b.name, s)
                inflow = pts.weight * evaluate(value, pts.x, 0.0)
                inflow = inflow[np.asarray(abs(P).sum(axis=1)).ravel() > 0]
                net[s.index] += inflow.sum()
                scale += np.abs(inflow).sum()
        for row in m:
            imbalance = float(row @ net)
            if abs(imbalance) > 1e-9 * max(scale, 1e-300) and scale > 0:
                names = [s.name for s in self.species if abs(row[s.index]) > 1e-12]
                raise CaseError(
                    f"steady run: the prescribed inward fluxes of {', '.join(names)} cannot "
                    f"balance (net inflow {imbalance:.4g} mol/s); use a transient run or add "
                    "a concentration or mass_transfer condition")

    # -- post-processing ------------------------------------------------------

    def chemical_potential(self, s, c: np.ndarray) -> np.ndarray:
        """mu = mu0 + RT ln(gamma c / c_ref) in J/mol at the vertices (NaN outside)."""
        spec = self.case.species[s.index]
        a = c * self._vertex_gamma(s)
        floor = 1e-30 * self.c_ref
        mu = spec.standard_potential + self.RT * np.log(np.maximum(a, floor) / self.c_ref)
        return np.where(self._vertex_present(s), mu, np.nan)

    def _vertex_present(self, s) -> np.ndarray:
        mesh = self.fem_mesh.mesh
        present = np.zeros(mesh.nvertices, dtype=bool)
        present[np.unique(mesh.t[:, s.space.elements])] = True
        return present

    def _vertex_gamma(self, s) -> np.ndarray:
        """The activity coefficient at each vertex (harmonic mean over its regions,
        consistent with c = a / gamma averaged over regions)."""
        points = self._vertex_points()
        nv = self.fem_mesh.mesh.nvertices
        keep = s.regions[points.region]
        inv = np.bincount(points.node[keep], weights=1.0 / s.gamma[points.region[keep]],
                          minlength=nv)
        count = np.bincount(points.node[keep], minlength=nv)
        return np.divide(count, inv, out=np.ones(nv), where=inv > 0)

    def cell_fields(self, x: np.ndarray) -> dict[str, np.ndarray]:
        fields = {f"J_{s.name}": self.species_flux(s, x).T for s in self.species}
        fields["region"] = self.fem_mesh.region_ids
        return fields

    def free_energy(self, x: np.ndarray) -> float | None:
        return None

    def concentrations_at_points(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        return (s.P @ x[s.slice]) / s.gamma[self.points.region]

    def node_concentration(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        """c at the mesh vertices: a / gamma, averaged over the regions at a vertex
        (over the sides of an interface where the species' dofs are broken)."""
        if s.space.broken:
            node, region, local = self.vertex_sides(s.space, s.regions)
            return self.vertex_mean(node, x[s.slice][local] / s.gamma[region])
        mesh = self.fem_mesh.mesh
        a = s.space.to_global(x[s.slice])[: mesh.nvertices]
        present = np.zeros(mesh.nvertices, dtype=bool)
        present[np.unique(mesh.t[:, s.space.elements])] = True
        points = self._vertex_points()
        keep = s.regions[points.region]
        inv = np.bincount(points.node[keep], weights=1.0 / s.gamma[points.region[keep]],
                          minlength=mesh.nvertices)
        count = np.bincount(points.node[keep], minlength=mesh.nvertices)
        return np.where(present, a * inv / np.maximum(count, 1), 0.0)

    def vertex_sides(self, space: Space, regions: np.ndarray):
        """The vertex points (node, region) of the ``regions`` (bool per region)
        where ``space`` has a dof, and that dof as seen from the region (the
        copy of its side at a broken dof): ``(node, region, local)``."""
        points = self._vertex_points()
        keep = regions[points.region] & space.region_mask[points.region]
        node, region = points.node[keep], points.region[keep]
        local = space.local_dofs(node, region)
        ok = local >= 0
        return node[ok], region[ok], local[ok]

    def vertex_mean(self, node: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Mean of point values per mesh vertex (0 at vertices without points)."""
        nv = self.fem_mesh.mesh.nvertices
        count = np.bincount(node, minlength=nv)
        total = np.bincount(node, weights=values, minlength=nv)
        return np.divide(total, count, out=np.zeros(nv), where=count > 0)

    def region_point_fields(self, x: np.ndarray, region: str) -> dict[str, np.ndarray]:
        """Point fields as seen from the elements of one region (NaN at vertices
        outside it): on an interface where a field jumps (broken dofs), the value
        on this region's side, where the results folder shows the mean of the
        sides."""
        mask = np.zeros(self.nregions, dtype=bool)
        mask[self.region_index[region]] = True
        nv = self.fem_mesh.mesh.nvertices
        out = {}
        for s in self.species:
            node, reg, local = self.vertex_sides(s.space, s.regions & mask)
            out[s.name] = np.full(nv, np.nan)
            out[s.name][node] = x[s.slice][local] / s.gamma[reg]
        return out

    def _vertex_points(self) -> PointSet:
        if self.points.kind == "nodal":
            return self.points
        if not hasattr(self, "_vertex_point_set"):
            self._vertex_point_set = cell_points(self.fem_mesh, 1)
        return self._vertex_point_set

    def species_flux(self, s: SpeciesField, x: np.ndarray) -> np.ndarray:
        """(3, nelements) J = -(D/gamma)(grad a + a grad psi) at the element
        centroids (0 outside the species' elements)."""
        J = np.zeros((3, self.fem_mesh.mesh.nelements))
        k = self.element_k(s)
        a = x[s.slice]
        grad = s.space.gradient(a)
        psi = self.drift_potential(s, x)
        if psi is not None:
            a_mean = a[s.space.element_dofs].mean(axis=0)
            grad = grad + a_mean * s.space.gradient(psi)
        J[: self.dim, s.space.elements] = -k * grad
        return J

    def amounts(self, x: np.ndarray) -> dict[str, float]:
        return {s.name: float(self.points.weight @ self.concentrations_at_points(s, x))
                for s in self.species}

    def region_amounts(self, x: np.ndarray) -> dict[str, dict[str, float]]:
        out = {name: {} for name in self.region_names}
        for s in self.species:
            c = self.points.weight * self.concentrations_at_points(s, x)
            per_region = np.bincount(self.points.region, weights=c, minlength=self.nregions)
            for k, name in enumerate(self.region_names):
                if s.regions[k]:
                    out[name][s.name] = float(per_region[k])
        return out

    def boundary_fluxes(self, x: np.ndarray, rate: np.ndarray, t: float
                        ) -> dict[str, dict[str, float]]:
        """Outward flux integral of every species through every named boundary.

        Prescribed fluxes are integrated directly; on concentration boundaries
        the flux is the weak-form residual ("reaction") at the Dirichlet dofs,
        shared between boundaries by the facet integrals of each basis function.
        """
        F, _ = self.flux(x, t)
        residual = rate + F
        if self.ties is not None:
            residual[self.ties.other] = 0.0  # the node's total is at the representative
        out = {name: {s.name: 0.0 for s in self.species} for name in self.fem_mesh.boundaries}
        dirichlet_weights: dict[str, dict[str, np.ndarray]] = {}
        for b in self.case.boundaries:
            for name, value in b.inward_flux.items():
                s = self.by_name[name]
                pts = self.boundary_points(b.name)
                P = self.boundary_prolongation(b.name, s)
                out[b.name][name] = -float((P.T @ (pts.weight * evaluate(value, pts.x, t))).sum())
            for name, mt in b.mass_transfer.items():
                s = self.by_name[name]
                pts = self.boundary_points(b.name)
                P = self.boundary_prolongation(b.name, s)
                c = (P @ x[s.slice]) / s.gamma[pts.region]
                k = evaluate(mt.coefficient, pts.x, t)
                inflow = P.T @ (pts.weight * k * (evaluate(mt.bulk, pts.x, t) - c))
                out[b.name][name] = -float(inflow.sum())
            for name in b.concentration:
                s = self.by_name[name]
                P = self.boundary_prolongation(b.name, s)
                w = abs(P).T @ self.boundary_points(b.name).weight  # int_b |v_k| per dof
                w = self.fold_to_representatives(s, w)
                dirichlet_weights.setdefault(name, {})[b.name] = w
        for name, per_boundary in dirichlet_weights.items():
            s = self.by_name[name]
            total = sum(per_boundary.values())
            r = residual[s.slice]
            for bname, w in per_boundary.items():
                share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
                out[bname][name] = -float(share @ r)
        return out
