"""The composed species-transport model: the law J_i = -(D_i c_i / RT) grad mu_i
assembled from the parts of :mod:`femflux.physics`.

A :class:`SpeciesTransport` holds

- the species (:mod:`femflux.physics.species`): unknowns a_i = gamma_i c_i, the
  storage term int c_i v on lumped (nodal) quadrature;
- the potential terms of every species (:mod:`femflux.physics.terms`); its
  flux is the edge-averaged drift-diffusion term with psi_i = the sum of the
  terms' drifts (Galerkin diffusion, one constant matrix, without drift);
- the auxiliary fields it composes (:mod:`femflux.physics.fields`: phi,
  elasticity), in a fixed lifecycle;
- the mass-action reactions (:mod:`femflux.physics.reactions`), the boundary
  conditions (:mod:`femflux.physics.boundary`) and the ties of broken
  interface dofs (:mod:`femflux.physics.interfaces`);
- the conserved combinations of closed species (steady amount constraints).

It implements the solver's declared :class:`~femflux.solver.System`
interface; :mod:`femflux.models.output` adds the post-processing.  The model
kinds are presets choosing the fields (:mod:`femflux.models`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..case import Case, Expression, evaluate
from ..errors import CaseError
from ..fem import (
    BlockSum,
    PointSet,
    Space,
    cell_points,
    facet_points,
    facet_prolongation,
)
from ..mesh import FemMesh
from ..physics.boundary import prescribed
from ..physics.boundary.species import Concentration, species_conditions
from ..physics.closed import check_flux_balance, conserved_combinations
from ..physics.constants import GAS_CONSTANT
from ..physics.drift_diffusion import DriftDiffusion
from ..physics.fields.enclosure import Enclosures, stressed_gas_walls
from ..physics.reactions import MassAction
from ..physics.solubility import solubility_laws
from ..physics.species import SpeciesField, activation_energies, species_coefficients
from ..physics.terms import DriftTerm, Electrostatic, Gravity, drift_potential
from ..physics.traps import TrapKinetics, all_species
from ..solver import System
from .interface_parts import InterfaceParts
from .output import TransportOutput
from .scales import transport_scales
from .temperature import TemperatureParts


def _depends_on_time(value) -> bool:
    return isinstance(value, Expression) and value.depends_on_time


class SpeciesTransport(InterfaceParts, TransportOutput, TemperatureParts, System):
    """The discrete conservation law of all species and the fields they drift on."""

    kind = ""
    #: the auxiliary field classes this kind composes (see models/__init__.py)
    field_types: tuple = ()

    def __init__(self, case: Case, fem_mesh: FemMesh, field_types=None):
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
        self.cache: dict = {}  # boundary dofs and prolongations, by key
        self._spaces: dict[tuple, Space] = {}
        self._facet_points: dict[str, PointSet] = {}
        # 1. the fields, then where they and the species may jump between regions
        types = self.field_types if field_types is None else field_types
        if case.enclosures:
            if case.model.kind not in ("diffusion", "stress-diffusion"):
                raise CaseError(f"enclosure {case.enclosures[0].name!r} needs model kind "
                                "'diffusion' or 'stress-diffusion'")
        if case.enclosures or stressed_gas_walls(case):
            if case.has_electrostatics:
                raise CaseError("[[enclosure]] and sieverts/henry walls under stress are not "
                                "available with [electrostatics]")
            # right after the species: the elastic rows span the unknowns before theirs
            types = (Enclosures, *types)
        self.fields = [field_type(self) for field_type in types]
        self.groups = next((g for g in (f.interface_groups() for f in self.fields)
                            if g is not None), None)
        self.laws = {spec.name: solubility_laws(case, spec, self.region_names)
                     for spec in case.species}
        self._solubility_groups()
        # 2. the species' unknowns
        self.species: list[SpeciesField] = []
        offset = 0
        self.specs = all_species(case)  # the case's species, then the trapped ones
        self.trapped = {trap.name for trap in case.traps}
        for i, spec in enumerate(self.specs):
            field = self._make_species(i, spec, offset)
            self.species.append(field)
            offset += field.space.n
        self.n_species = offset
        self.by_name = {s.name: s for s in self.species}
        self._element_k: dict[str, np.ndarray] = {}
        self._k_factor: dict[str, np.ndarray] = {}  # D(T(t))/D(T0) per element (programs)
        # 3. the fields' unknowns
        for f in self.fields:
            offset += f.setup(offset)
        self.n = offset
        # 4. the potential terms of every species
        self.terms: dict[str, list[DriftTerm]] = {s.name: self._terms(s) for s in self.species}
        self.conditions = species_conditions(self)
        self._block_sum: BlockSum | None = None  # Jacobian summation, pattern reused
        self._storage_matrix = self._storage_base = self._assemble_storage()
        self.ties = self._build_ties()
        if self.ties is not None:  # storage of the copies goes to the representative
            self._storage_matrix = (self.ties.T @ self._storage_matrix).tocsr()
        if any(self.terms.values()):
            self.drift_diffusion = DriftDiffusion(self)
            self._stiffness = None
        else:
            self._species_K = [self._species_stiffness(s) for s in self.species]
            self._stiffness = sp.block_diag(
                self._species_K + [sp.csr_matrix((self.n - self.n_species,) * 2)], format="csr")
        self.reactions = [MassAction(self, r) for r in case.reactions] \
            + [TrapKinetics(self, trap) for trap in case.traps]
        # a temperature program makes D (Arrhenius) and the rates functions of t
        self.program = case.model.temperature_program
        self.linear = self._stiffness is not None and self._is_linear() and self.program is None
        self.symmetric = not self.reactions and self._stiffness is not None \
            and all(f.symmetric for f in self.fields) \
            and all(s.thermal is None for s in self.species)
        if case.model.temperature_spatial:  # D(T(x)) at t = 0 for the scales
            for s in self.species:
                self._stiffness_spatial(s, 0.0)
        self.x_scale, self.r_scale = self._scales()
        for r in self.reactions:  # Oriani traps: their storage goes to the mobile rows
            if isinstance(r, TrapKinetics) and r.trap.equilibrium:
                own, mobile = r.storage_coupling(self._storage_matrix.shape)
                self._storage_matrix = (self._storage_matrix - own + mobile).tocsr()
                self._storage_matrix.eliminate_zeros()
        enclosures = self.field("enclosures")
        if enclosures is not None:  # sieverts/henry walls: their rows become ties to p
            self._storage_matrix = enclosures.move_storage(self._storage_matrix)
        if self.ties is not None:
            self._balance_drift_rows()
        # Volume sources f_i(x, t) in mol/m^3/s by species name: a Python-API hook
        # (manufactured solutions); the case file has no such key.
        self.sources: dict[str, object] = {}

    # -- the parts ------------------------------------------------------------

    def field(self, name: str):
        """The auxiliary field called ``name`` ("phi", "elasticity") or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def electric(self):
        return self.field("phi")

    @property
    def elastic(self):
        return self.field("elasticity")

    def _terms(self, s: SpeciesField) -> list[DriftTerm]:
        """The drift terms of species ``s``: those of the fields, then gravity."""
        terms = [t for t in (f.drift_term(s) for f in self.fields) if t is not None]
        gravity = self.case.model.gravity
        if gravity is not None and s.spec.molar_mass and any(gravity):
            terms.append(Gravity(s.spec.molar_mass, gravity, self.RT, s.space.x))
        return terms

    def electric_term(self, s: SpeciesField) -> Electrostatic | None:
        return next((t for t in self.terms[s.name] if isinstance(t, Electrostatic)), None)

    def field_index(self, s: SpeciesField, offset: int, space: Space) -> np.ndarray:
        """Index in x of a field (of ``space`` at ``offset``) at each dof of
        species ``s`` (the copy of the same side where the field is broken)."""
        if space.broken:
            local = np.empty(s.space.n, dtype=np.int64)
            local[s.space.element_dofs] = space.element_local(s.space.elements)
        else:
            local = space.local[s.space.dofs]
        return offset + local

    # -- construction ------------------------------------------------------

    def make_space(self, regions: tuple[str, ...], broken: bool = False) -> Space:
        """The space on ``regions`` (shared), broken between the region groups
        of the fields' interfaces when ``broken`` and there are groups."""
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
        laws = self.laws.get(spec.name)
        if getattr(spec, "activity_profile", None) is not None:
            self._check_profile(spec, laws)
        broken = any(f.breaks(spec) for f in self.fields) or (laws is not None and laws.broken)
        space = self.make_space(regions, broken=broken)
        mask = np.zeros(self.nregions, dtype=bool)
        mask[[self.region_index[r] for r in regions]] = True
        D, gamma = species_coefficients(self.case, spec, self.region_index)
        thermal = None
        if laws is not None and laws.thermal:  # gamma = K_ref(T0)/K(T(x, t))
            if any(f.name in ("phi", "elasticity") for f in self.fields):
                raise CaseError(f"species {spec.name!r}: a solubility K as Arrhenius under a "
                                "[model] temperature that is an expression of x, y, z needs "
                                "model kind 'diffusion'")
            thermal = (laws.energy, self.case.model.temperature, self.local_temperature)
        return SpeciesField(name=spec.name, index=i, space=space, offset=offset,
                            diffusivity=D, gamma=gamma, regions=mask,
                            P=self.points.prolongation(space), spec=spec, laws=laws,
                            energy=activation_energies(self.case, spec, self.region_index),
                            thermal=thermal)

    def _species_stiffness(self, s: SpeciesField) -> sp.csr_matrix:
        """int (D/gamma) grad(v_i).grad(v_j) w dx over the species' elements
        (gamma(x) at the quadrature points when it is an expression)."""
        return s.space.stiffness(self._point_k(s))

    def _point_k(self, s: SpeciesField, t: float = 0.0) -> np.ndarray:
        """D/gamma per element, or per quadrature point (nel, nq) for gamma(x)
        (and gamma(x, t) under a temperature field)."""
        region = self.fem_mesh.region_ids[s.space.elements]
        if s.profile is None and s.thermal is None:
            return (s.diffusivity / s.gamma)[region]
        return s.diffusivity[region][:, None] / s.gamma_at(s.space.quadrature_x,
                                                           region[:, None], t)

    def _assemble_storage(self, t: float = 0.0) -> sp.csr_matrix:
        """d/da of int c v = int (a/gamma) v on the cell points (at time t:
        constant unless gamma follows a temperature field)."""
        blocks = []
        for s in self.species:
            w = self.points.weight / s.gamma_at(self.points.x, self.points.region, t)
            blocks.append((s.P.T @ sp.diags(w) @ s.P).tocsr())
        if self.n > self.n_species:
            diagonal = np.zeros(self.n)
            for f in self.fields:
                f.storage(diagonal)
            blocks.append(sp.diags(diagonal[self.n_species:]).tocsr())
        return sp.block_diag(blocks, format="csr")

    def _is_linear(self) -> bool:
        if not all(r.linear for r in self.reactions):
            return False
        for b in self.case.boundaries:
            if any(_depends_on_time(m.coefficient) for m in b.mass_transfer.values()):
                return False
            if b.surface_kinetics is not None or b.solubility_wall is not None:
                return False  # recombination K_r c^2; c = K sqrt(p)
        return not (self.ties is not None and self.ties.mixed is not None)

    def _scales(self) -> tuple[np.ndarray, np.ndarray]:
        return transport_scales(self)

    # -- the System interface ----------------------------------------------

    def species_initial_state(self) -> np.ndarray:
        """a = gamma c_initial; a dof on several regions r takes
        a = sum_r c_r / sum_r (1/gamma_r): the unweighted mean of the initial
        values where gamma does not jump (SPEC 4.0), and the initial amount
        kept where it does.  Each copy of a broken dof takes the regions of
        its own side."""
        x = np.zeros(self.n)
        region_ids = self.fem_mesh.region_ids
        for s, spec in zip(self.species, self.specs, strict=True):
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
                count[dofs] += 1.0 / s.gamma_at(space.x[:, dofs], k)
            x[s.slice] = np.divide(total, count, out=np.zeros(space.n), where=count > 0)
        return x

    def initial_state(self) -> np.ndarray:
        """The species' initial values (:meth:`species_initial_state`) and the
        fields' (electrode potentials)."""
        x = self.species_initial_state()
        if self.ties is not None and self.ties.mixed is not None:
            self._consistent_interfaces(x)
        for r in self.reactions:
            if isinstance(r, TrapKinetics):
                r.consistent_start(x)
        for f in self.fields:
            f.initial(x)
        return x


    def at_time(self, t: float) -> None:
        """The time (s) of what follows: the species' gamma(x, t) under a
        temperature field (outputs take the time of the last flux)."""
        for s in self.species:
            s.time = t

    def dirichlet(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        self.at_time(t)
        parts = prescribed(self.conditions, t)
        for f in self.fields:
            parts += f.dirichlet(t)
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return (np.concatenate([d for d, _ in parts]),
                np.concatenate([np.broadcast_to(v, d.shape) for d, v in parts]))

    def storage(self, x: np.ndarray, t: float = 0.0) -> tuple[np.ndarray, sp.csr_matrix]:
        M = self._storage_at(t)
        return M @ x, M

    def _storage_at(self, t: float) -> sp.csr_matrix:
        """The storage matrix at time t: constant, unless a species' gamma
        follows a temperature field T(x, y, z, t) (Arrhenius solubilities):
        then the change of its lumped 1/gamma since t = 0, moved by the same
        row operations (ties, enclosure walls) as the rest."""
        thermal = any(s.thermal is not None for s in self.species)
        if not (thermal and self.program.depends_on_time) or t == 0.0:
            return self._storage_matrix
        if self.cache.get("storage t") != t:
            change = self._assemble_storage(t) - self._storage_base
            if self.ties is not None:
                change = self.ties.T @ change
            enclosures = self.field("enclosures")
            if enclosures is not None:
                change = enclosures.move_storage(change)
            self.cache["storage t"] = t
            self.cache["storage"] = (self._storage_matrix + change).tocsr()
        return self.cache["storage"]

    def flux(self, x: np.ndarray, t: float) -> tuple[np.ndarray, sp.csr_matrix]:
        """F = int J.grad v - int R v - int_boundary (inward flux) v (+ the
        fields' rows), and dF/dx.

        The Jacobian is gathered as ``pieces`` (row offset, column offset, local
        block) and COO entries in global numbering, and summed once by a
        :class:`~femflux.fem.BlockSum` (pattern learned once).
        """
        rows, cols, vals = [], [], []
        pieces: list[tuple[int, int, sp.spmatrix]] = []
        F = np.zeros(self.n)
        self.at_time(t)
        if self.program is not None and self._stiffness is None:
            self._follow_temperature(t)
        self.add_species_fluxes(x, t, F, pieces)
        for reaction in self.reactions:
            reaction.residual(x, t, F, rows, cols, vals)
        for c in self.conditions:
            c.residual(x, t, F, rows, cols, vals)
        for name, source in self.sources.items():
            s = self.by_name[name]
            F[s.slice] -= s.P.T @ (self.points.weight * source(self.points.x, t))
        for f in self.fields:
            f.residual(x, t, F, rows, cols, vals, pieces)
        if self._block_sum is None:
            self._block_sum = BlockSum((self.n, self.n))
        J = self._block_sum(pieces, rows, cols, vals)
        if self.ties is not None:
            self._ties_at(t)
            F, J = self.ties.apply(x, F, J)
        for f in self.fields:
            F, J = f.replace_rows(x, t, F, J)
        return F, J

    def constraints(self, x: np.ndarray, steady: bool):
        """The fields' gauges (mean phi, rigid-body modes) as one block."""
        parts = [c for c in (f.constraints(x, steady) for f in self.fields) if c is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return (np.concatenate([g for g, _, _ in parts]),
                sp.vstack([sp.csr_matrix(G) for _, G, _ in parts]).tocsr(),
                np.concatenate([s for _, _, s in parts]))

    def damp_update(self, x: np.ndarray, dx: np.ndarray) -> np.ndarray:
        out = dx.copy()
        for f in self.fields:
            f.damp(x, dx, out)
        return out

    def equilibrium(self, x: np.ndarray, t: float):
        """The fields' equilibrium problem (elasticity); its state then
        completed by the traps whose density depends on sigma_h."""
        problem = next((p for p in (f.equilibrium(x, t) for f in self.fields)
                        if p is not None), None)
        traps = [r for r in self.reactions if isinstance(r, TrapKinetics)]
        if problem is None or not any(r.density.stress for r in traps):
            return problem
        finish = problem.finish

        def finish_with_traps(y):
            state = finish(y)
            for index, r in enumerate(traps):
                r.after_equilibrium(state, index)
            return state

        problem.finish = finish_with_traps
        return problem

    def time_error(self, x: np.ndarray, e: np.ndarray, atol_fraction: float) -> float | None:
        """The solver's RMS of e / max(|x|, atol_fraction x_scale), without the
        multipliers of sieverts/henry walls (a wall's inflow, singular at t = 0
        like any Dirichlet reaction, is no state to follow); None without them."""
        enclosures = self.field("enclosures")
        if enclosures is None or enclosures.size == enclosures.count:
            return None
        state = np.ones(self.n, dtype=bool)
        state[enclosures.offset + enclosures.count:enclosures.offset + enclosures.size] = False
        weight = np.maximum(np.abs(x), atol_fraction * self.x_scale)
        r = (e / weight)[state & (e != 0)]
        return float(np.sqrt(np.mean(r * r))) if len(r) else 0.0

    def node_blocks(self):
        """(permutation to node-wise order, unknowns per node) when every field
        has the same dofs and there are no extra scalar unknowns, else None."""
        nodal = [(s.offset, s.space) for s in self.species]
        for f in self.fields:
            nodal += f.nodal()
        offsets = [o for o, _ in nodal]
        spaces = [space for _, space in nodal]
        nv = spaces[0].n
        if len(offsets) < 2 or any(space.n != nv for space in spaces) \
                or len(offsets) * nv != self.n:
            return None
        if any(not np.array_equal(space.dofs, spaces[0].dofs) for space in spaces):
            return None
        perm = (np.asarray(offsets)[None, :] + np.arange(nv)[:, None]).ravel()
        return perm, len(offsets)

    def field_split(self):
        """The fields' blocks of a field-split preconditioner (elasticity: u,
        then sigma_h), then the species (and phi, node-blocked when they
        share their dofs), or None when no field has blocks of its own."""
        from ..linalg import Field

        blocks = []
        for f in self.fields:
            blocks += f.split() or []
        if not blocks:
            return None
        electric = self.electric
        stop = self.n_species if electric is None else electric.offset + electric.size
        nodal = [s.space for s in self.species] + ([electric.space] if electric else [])
        same = all(space is nodal[0] for space in nodal) and (
            electric is None or electric.size == electric.space.n)
        return blocks + [Field(slice(0, stop), node_size=len(nodal) if same else 1)]

    def notes(self) -> list[str]:
        return [note for f in self.fields for note in f.notes()]

    # -- boundaries -----------------------------------------------------------

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
        if key not in self.cache:
            self.cache[key] = facet_prolongation(self.boundary_points(name), s.space)
        return self.cache[key]

    def dirichlet_dofs(self, name: str, s: SpeciesField) -> tuple[np.ndarray, float]:
        """Local dofs of species ``s`` on boundary ``name`` and the activity
        coefficient of the region next to it (cached; per dof for a broken space,
        whose copies on the boundary each take their own side's)."""
        key = ("dirichlet", name, s.name)
        if key not in self.cache and s.space.broken:
            facets = self.boundary_facets(name, s)
            local, region = s.space.facet_dofs(facets)
            dofs, inverse = np.unique(local, return_inverse=True)
            count = np.bincount(inverse, minlength=len(dofs))
            gamma = np.bincount(inverse, weights=s.gamma[region], minlength=len(dofs)) / count
            self.cache[key] = (dofs, gamma)
        if key not in self.cache:
            facets = self.boundary_facets(name, s)
            adjacent = self.fem_mesh.region_ids[self.fem_mesh.mesh.f2t[0, facets]]
            gamma = float(np.mean(s.gamma[adjacent])) if len(facets) else 1.0
            dofs = self.space_boundary_dofs(s.space, facets)
            if s.profile is not None:  # gamma(x, y, z) at the boundary dofs
                gamma = gamma * np.broadcast_to(evaluate(s.profile, s.space.x[:, dofs], 0.0),
                                                dofs.shape)
            self.cache[key] = (dofs, gamma)
        if s.thermal is None:
            return self.cache[key]
        dofs = self.cache[key][0]  # gamma(x, t): each dof's mean over its boundary sides
        sides = ("dirichlet sides", name, s.name)
        if sides not in self.cache:
            facets = self.boundary_facets(name, s)
            local, region = s.space.facet_dofs(facets) if len(facets) else ([], [])
            order = np.argsort(dofs)
            where = order[np.searchsorted(dofs, local, sorter=order)]
            self.cache[sides] = (s.space.x[:, local], np.asarray(region, dtype=int), where,
                                 np.bincount(where, minlength=len(dofs)))
        x, region, where, count = self.cache[sides]
        if not len(where):
            return dofs, np.ones(len(dofs))
        return dofs, np.bincount(where, weights=s.gamma_at(x, region),
                                 minlength=len(dofs)) / count

    def space_boundary_dofs(self, space, facets: np.ndarray) -> np.ndarray:
        """Local dofs of a (continuous) space on the given facets."""
        if space.degree == 1:
            nodes = np.flatnonzero(np.bincount(self.fem_mesh.mesh.facets[:, facets].ravel(),
                                               minlength=self.fem_mesh.mesh.nvertices))
            local = space.local[nodes]
        else:
            local = space.local[space.basis.get_dofs(facets=facets).all()]
        return local[local >= 0]

    def dirichlet_share(self, name: str, s, dofs) -> np.ndarray:
        """Share of each Dirichlet dof of ``s`` on boundary ``name`` among all the
        concentration boundaries of ``s`` holding it (facet integrals)."""
        weights = {c.boundary.name: c.weights() for c in self.conditions
                   if isinstance(c, Concentration) and c.species is s}
        total = sum(weights.values())
        mine = weights[name][dofs]
        return np.divide(mine, total[dofs], out=np.zeros(len(dofs)), where=total[dofs] > 0)

    # -- species fluxes: J = -(D/gamma)(grad a + a grad psi) -----------------------

    def add_species_fluxes(self, x, t, F, pieces) -> None:
        """The flux term int -J_i . grad v of every species: Galerkin diffusion
        (a constant matrix) or the drift-diffusion term of its potential terms.
        Models with other flux laws (Onsager) override this."""
        if self._stiffness is not None and self.program is not None:
            for s, K in zip(self.species, self._species_K, strict=True):
                scaled = self._stiffness_at(s, K, t)
                F[s.slice] += scaled @ x[s.slice]
                pieces.append((s.offset, s.offset, scaled))
            return
        if self._stiffness is not None:
            F += self._stiffness @ x
            pieces.append((0, 0, self._stiffness))
            return
        self.drift_diffusion.add(x, F, pieces)

    def element_k(self, s: SpeciesField) -> np.ndarray:
        """k = D / gamma on each element of the species' space (cached), at the
        temperature of the last :meth:`flux` under a temperature program."""
        if s.name not in self._element_k:
            k = self._point_k(s)
            self._element_k[s.name] = k if k.ndim == 1 else k.mean(axis=1)
        factor = self._k_factor.get(s.name)
        return self._element_k[s.name] if factor is None else self._element_k[s.name] * factor

    def drift_potential(self, s: SpeciesField, x: np.ndarray) -> np.ndarray | None:
        """psi on the species' dofs (the sum of its terms' drifts), or None."""
        return drift_potential(self.terms[s.name], x)

    # -- closed species -----------------------------------------------------

    def conserved(self) -> np.ndarray:
        """Rows C with C @ F(x) = 0: the conserved combinations of the closed
        species (:mod:`femflux.physics.closed`) on the dofs."""
        m = conserved_combinations(self.case)
        if len(m) == 0:
            return np.zeros((0, self.n))
        C = np.zeros((len(m), self.n))
        for s in self.species:
            C[:, s.slice] = m[:, [s.index]]
        if self.ties is not None:
            C[:, self.ties.other] = 0.0  # rows of mu continuity, not of conservation
        check_flux_balance(self, m)
        return C
