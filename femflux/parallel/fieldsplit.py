"""The field split of a distributed Nernst-Planck-Poisson Jacobian (PETSc
PCFIELDSPLIT): which owned unknowns are each species' c_i and which are phi.

The coupled Newton matrix of nernst-planck-poisson, unknowns node by node
(c_1 .. c_n, phi), in blocks

    [ A_11 ..   0    B_1 ]     A_ii: drift-diffusion of c_i (mol/m^3),
    [  0   ..  A_nn  B_n ]           div(D_i grad c_i + z_i D_i F/RT c_i grad phi)
    [ C_1  ..  C_n   P   ]     B_i:  its drift through phi; C_i = -F z_i M (charge),
                               P:    -div(eps grad phi) (Poisson, V)

is preconditioned by block Gauss-Seidel over (c_1, .., c_n, phi)
(``-pc_fieldsplit_type multiplicative``): each diagonal block by one
hypre BoomerAMG V-cycle (each of them is a scalar elliptic operator, where
AMG works; on the whole coupled matrix it does not), the blocks after it
against the residual updated with the blocks before.  The scalar unknowns
(electrode potentials, last rank) go with phi.  GMRES (right-preconditioned,
on the true residual) takes care of the couplings the sweep misses.

Electroneutral models have no Poisson block (P = 0: sum_i z_i c_i = 0 has no
phi), nor diffusion models a field: they keep additive Schwarz / ILU.
PETSc options refine the split (``PETSC_OPTIONS="-pc_fieldsplit_type
additive"``, ``-fieldsplit_phi_pc_type gamg``); the splits are named
``c0`` .. ``c{n-1}`` (the species in the case's order) and ``phi``.
"""

from __future__ import annotations

import numpy as np

#: PETSc options of the split, set unless PETSC_OPTIONS gives them
DEFAULTS = {
    "pc_fieldsplit_type": "multiplicative",
}
#: options of every split's solver (prefix fieldsplit_<name>_)
PER_SPLIT = {
    "ksp_type": "preonly",
    "pc_type": "hypre",
    "pc_hypre_type": "boomeramg",
    # hypre's advice for 3D: strength 0.5 (0.25 is for 2D), HMIS coarsening,
    # extended+i interpolation of at most 4 points, aggressive coarsening on the
    # first level: 65 Krylov iterations at 1e5 and 1e6 tets as with hypre's
    # defaults, at a third of their set-up and V-cycle time (measured, PNP-BENCH)
    "pc_hypre_boomeramg_strong_threshold": 0.5,
    "pc_hypre_boomeramg_coarsen_type": "HMIS",
    "pc_hypre_boomeramg_interp_type": "ext+i",
    "pc_hypre_boomeramg_P_max": 4,
    "pc_hypre_boomeramg_agg_nl": 1,
}


def splits(system) -> list[tuple[str, np.ndarray]] | None:
    """(name, global numbers of this rank's owned unknowns) of every split, or
    None when the system has no Poisson block (no field split then)."""
    model = system.model
    electric = getattr(model, "electric", None)
    if electric is None or electric.electroneutral or not len(model.species):
        return None
    num = system.numbering
    blocks = num.block_of[num.owned]
    n_species = len(model.species)
    where = num.start + np.arange(num.n_owned)
    out = [(f"c{k}", where[blocks == k]) for k in range(n_species)]
    out.append(("phi", where[blocks >= n_species]))  # phi and the scalar unknowns
    return out


def set_up(pc, comm, named: list[tuple[str, np.ndarray]]) -> None:
    """Make ``pc`` the field split over ``named`` (before ``setFromOptions``)."""
    from petsc4py import PETSc

    pc.setType("fieldsplit")
    sets = [(name, PETSc.IS().createGeneral(index.astype(PETSc.IntType), comm=comm))
            for name, index in named]
    pc.setFieldSplitIS(*sets)
    for _, index_set in sets:
        index_set.destroy()
    opts = PETSc.Options()
    wanted = dict(DEFAULTS)
    for name, _ in named:
        wanted |= {f"fieldsplit_{name}_{key}": value for key, value in PER_SPLIT.items()}
    for key, value in wanted.items():
        if not opts.hasName(key):
            opts.setValue(key, value)
