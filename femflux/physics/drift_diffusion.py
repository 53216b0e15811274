"""The flux of a species in the law J_i = -(D_i c_i / RT) grad mu_i:

    J_i = -(D_i / gamma_i) (grad a_i + a_i grad psi_i),   a_i = gamma_i c_i,

with psi_i the sum of the drifts of the species' potential terms
(:mod:`femflux.physics.terms`: z F phi, -Omega sigma_h, -M g.x, ... over RT).
Assembled as the edge-averaged finite element method (Scharfetter-Gummel
fluxes along mesh edges, :class:`femflux.fem.EdgeAveragedFlux`) on P1
simplices, Galerkin otherwise, with the exact Jacobian: d/da and, for every
term linear in a field, d/d(field) = d/dpsi . d psi/d(field).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fem import EdgeAveragedFlux, Pattern, Space, drift_flux
from .species import SpeciesField
from .terms import DriftTerm, drift_potential


class DriftDiffusion:
    """The drift-diffusion flux term of every species of a model."""

    def __init__(self, model):
        self.model = model
        flux_terms = {}  # one flux term (edge weights) per space, shared by its species
        self.flux_terms = {s.name: flux_terms.setdefault(id(s.space), drift_flux(s.space))
                           for s in model.species}
        self._patterns: dict[tuple, Pattern] = {}
        self._selections: dict[tuple, sp.csr_matrix] = {}

    def add(self, x, F, pieces) -> None:
        """F += int -J_i . grad v for every species, its Jacobian as pieces."""
        edge_cache: dict = {}
        for s in self.model.species:
            self._add(s, x, F, pieces, edge_cache)

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

    def _selection(self, s: SpeciesField, term: DriftTerm) -> sp.csr_matrix:
        """(species dofs x field block) d psi / d(field) of one term (cached)."""
        key = (s.name, term.name)
        if key not in self._selections:
            cols, width = term.columns
            n = s.space.n
            self._selections[key] = sp.csr_matrix(
                (np.full(n, term.scale), (np.arange(n), cols)), shape=(n, width))
        return self._selections[key]

    def _add(self, s, x, F, pieces, edge_cache) -> None:
        """The drift-diffusion flux of species ``s`` (EAFE or Galerkin) with
        psi = the sum of its terms' drifts, and its Jacobian: d/da, and
        d/d(field) for every term linear in a field."""
        a = x[s.slice]
        terms = self.model.terms[s.name]
        psi = drift_potential(terms, x)
        linear = [t for t in terms if t.columns is not None]
        term = self.flux_terms[s.name]
        tables = None
        if psi is not None and isinstance(term, EdgeAveragedFlux):
            # Bernoulli tables are shared by species whose psi differ only by
            # sign (ions of equal and opposite charge)
            signature = tuple((t.name, t.scale) for t in terms if t.columns is not None)
            if len(linear) == len(terms) and signature:
                key = (id(term), signature)
                flipped = (id(term), tuple((name, -scale) for name, scale in signature))
                if key not in edge_cache and flipped in edge_cache:
                    tables = term.flipped(edge_cache[flipped])
                else:
                    if key not in edge_cache:
                        edge_cache[key] = term.edge_tables(psi)
                    tables = edge_cache[key]
        # one term linear in a field: d/dpsi straight into the field's columns
        columns = linear[0].columns if len(linear) == 1 else None
        if isinstance(term, EdgeAveragedFlux):  # assembled per edge
            residual, dA, dP = term.assemble(self.model.element_k(s), a, psi, tables, columns)
        else:  # Galerkin: element matrices
            residual, dA, dP = term.assemble(self.model.element_k(s), a, psi)
            dA = self._pattern(s.space, s.space).assemble(dA)
            if psi is not None:
                if len(linear) == 1:
                    dP = self._pattern(s.space, linear[0].space).assemble(dP)
                else:
                    dP = self._pattern(s.space, s.space).assemble(dP)
        F[s.slice] += residual
        pieces.append((s.offset, s.offset, dA))
        if not linear:
            return
        if len(linear) == 1:
            dP.data *= linear[0].scale
            pieces.append((s.offset, linear[0].offset, dP))
            return
        for t in linear:  # d/d(field) = d/dpsi . d psi/d(field)
            pieces.append((s.offset, t.offset, (dP @ self._selection(s, t)).tocsr()))

