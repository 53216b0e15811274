"""The AMG preconditioners of node-blocked coupled Jacobians (issue 16),
against SuperLU on Newton's own matrices of a 2D Nernst-Planck-Poisson
problem: the node-block AMG (point Gauss-Seidel on the caller's matrix,
residuals permuted to node order) where the Debye layer is resolved, the
approximate Schur-complement split where the mesh is coarse against the
Debye length (coupled smoothing diverges there), and a whole iterative run
that never needs SuperLU."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as sla

import femflux
from femflux.errors import NewtonFailure
from femflux.linalg import LinearSolver, node_permutation
from femflux.linalg import solver as solver_module
from femflux.linalg.amg import _AlgebraicMultigrid
from femflux.linalg.coupled import _SchurSplit, schur_layout


def pnp_case(cells, c0, length, linear="direct"):
    """A 1:1 electrolyte between c0 | phi = 0 and c0/10 | phi = 0.05 V
    (PNP-BENCH's set-up; Debye length 0.96 nm at c0 = 100 mol/m^3)."""
    return {
        "mesh": {"generate": {"shape": "rectangle", "length": [length, length / 2],
                              "cells": cells}},
        "model": {"kind": "nernst-planck-poisson", "temperature": 298.15},
        "species": [{"name": "P", "charge": 1, "diffusivity": 1.33e-9, "initial": c0 / 2},
                    {"name": "M", "charge": -1, "diffusivity": 2.03e-9, "initial": c0 / 2}],
        "electrostatics": {"relative_permittivity": 78.5},
        "boundary": [{"name": "xmin", "potential": 0.0,
                      "concentration": {"P": c0, "M": c0}},
                     {"name": "xmax", "potential": 0.05,
                      "concentration": {"P": c0 / 10, "M": c0 / 10}}],
        "solver": {"linear": linear},
    }


def newton_matrices(monkeypatch, case):
    """Newton's (A, b, node blocks) of a direct run, and the result."""
    seen = []
    solve = LinearSolver.solve

    def recording(self, A, b, reuse_key=None, rtol=1e-9):
        seen.append((A.copy(), b.copy(), self.blocks))
        return solve(self, A, b, reuse_key, rtol)

    monkeypatch.setattr(LinearSolver, "solve", recording)
    result = femflux.solve(femflux.load_case(case))
    monkeypatch.setattr(LinearSolver, "solve", solve)
    return seen, result


def relative_error(x, reference):
    return np.abs(x - reference).max() / np.abs(reference).max()


@pytest.fixture(scope="module")
def coarse(request):
    """h = 10 nm against a 0.96 nm Debye length."""
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    return newton_matrices(monkeypatch, pnp_case([100, 50], 100.0, 1e-6))


def test_node_block_amg_solves_a_resolved_debye_layer(monkeypatch):
    matrices, _ = newton_matrices(monkeypatch, pnp_case([100, 50], 10.0, 1e-7))
    for A, b, blocks in matrices[-2:]:
        reference = sla.spsolve(A.tocsc(), b)
        amg = _AlgebraicMultigrid(A, False, None, blocks)
        assert len(amg.ml.levels) >= 2
        x = amg.solve(b, 1e-10)
        assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * 1.001
        assert relative_error(x, reference) < 1e-7
        assert amg.iterations <= 20


def test_schur_split_converges_where_coupled_smoothing_diverges(coarse):
    matrices, _ = coarse
    for index, (A, b, (perm, size)) in enumerate(matrices[-2:]):
        reference = sla.spsolve(A.tocsc(), b)
        if index:  # the coupled V-cycle amplifies the error
            with pytest.raises(NewtonFailure):
                _AlgebraicMultigrid(A, False, None, (perm, size)).solve(b, 1e-8)
        k = schur_layout(perm, size, A.shape[0])
        assert k == A.shape[0] * 2 // 3
        split = _SchurSplit(A, k)
        assert len(split.ml[1].levels) >= 2
        x = split.solve(b, 1e-10)
        assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * 1.001
        assert relative_error(x, reference) < 1e-7
        assert split.iterations <= 20
        # the hierarchies kept for the next matrix of the pattern (a copy:
        # the pattern is compared by value), with a diagonal shift of the
        # preconditioner's blocks only
        split.update(A.copy(), np.full(A.shape[0], 1e-6))
        x = split.solve(b, 1e-10)
        assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * 1.001
        assert relative_error(x, reference) < 1e-7


def test_an_iterative_run_needs_no_superlu(coarse, monkeypatch):
    _, direct = coarse

    def refused(*args, **kwargs):
        raise AssertionError("SuperLU was called")

    monkeypatch.setattr(solver_module, "_Direct", refused)
    iterative = femflux.solve(femflux.load_case(pnp_case([100, 50], 100.0, 1e-6,
                                                         "iterative")))
    assert iterative.summary["newton_iterations"] == direct.summary["newton_iterations"]
    for name in ("xmin", "xmax"):
        for species in ("P", "M"):
            a = iterative.summary["boundaries"][name]["flux"][species]
            b = direct.summary["boundaries"][name]["flux"][species]
            assert abs(a / b - 1) < 1e-6


def test_schur_layout_wants_component_major_unknowns():
    n, size = 12, 3
    perm = node_permutation(n, size)
    assert schur_layout(perm, size, n) == 8
    assert schur_layout(perm[::-1].copy(), size, n) is None
    assert schur_layout(np.arange(n), 1, n) is None


def test_a_failing_reused_hierarchy_is_rebuilt_before_superlu(coarse, monkeypatch):
    matrices, _ = coarse
    (A0, _, blocks), (A, b, _) = matrices[0], matrices[-1]
    solver = LinearSolver("iterative", 2, False, blocks=blocks)
    solver.solve(A0, matrices[0][1], rtol=1e-8)
    built = []
    fresh_solve = _SchurSplit.solve

    def refuse_reused(self, rhs, rtol=1e-9):
        if self.fresh_iterations is not None:  # a hierarchy of an earlier matrix
            raise NewtonFailure("stub: the reused hierarchy fails")
        built.append(self)
        return fresh_solve(self, rhs, rtol)

    monkeypatch.setattr(_SchurSplit, "solve", refuse_reused)
    monkeypatch.setattr(solver_module, "_Direct", None)  # SuperLU would fail
    x = solver.solve(A, b, rtol=1e-10)
    assert len(built) == 1 and solver.iterative and not solver.fell_back
    assert relative_error(x, sla.spsolve(A.tocsc(), b)) < 1e-7


@pytest.mark.parametrize("coupling", ["own node", "neighbour"])
def test_schur_pattern_of_a_diagonal_coupling_is_the_sorted_one(coupling):
    """The Schur split's S pattern and slots found without a sort (A_pc
    coupling each potential row to its own node only, as PNP's lumped charge)
    equal csr_slots' sorted ones; a coupling to a neighbour is left to
    csr_slots (None)."""
    import scipy.sparse as sp

    from femflux.fem.pattern import csr_slots
    from femflux.linalg.coupled import _diagonal_coupling_slots

    m, species = 60, 2
    rng = np.random.default_rng(4)
    stencil = (sp.random(m, m, density=0.1, random_state=5) + sp.identity(m)).tocsr()
    coupling_block = sp.identity(m, format="csr")
    if coupling == "neighbour":
        coupling_block = coupling_block + sp.csr_matrix(([1.0], ([3], [7])), shape=(m, m))
    rows = sp.hstack([coupling_block] * species + [stencil]).tocsr()
    rows.sort_indices()
    k = species * m
    lower = rows.indices
    cols = np.where(lower >= k, lower - k, lower % m)
    prow = np.repeat(np.arange(m), np.diff(rows.indptr))
    found = _diagonal_coupling_slots(prow, cols, lower >= k, m)
    if coupling == "neighbour":
        assert found is None
        return
    for fast, sorted_ in zip(found, csr_slots(prow, cols, (m, m)), strict=True):
        np.testing.assert_array_equal(fast, sorted_)
    values = rng.standard_normal(len(cols))  # the slots sum like a COO matrix
    S = sp.csr_matrix((np.bincount(found[2], weights=values, minlength=len(found[1])),
                       found[1], found[0]), shape=(m, m))
    np.testing.assert_allclose(S.toarray(), sp.coo_matrix((values, (prow, cols)),
                                                          shape=(m, m)).toarray(), atol=1e-14)
