"""The ``onsager`` model (:class:`~femflux.models.onsager.OnsagerModel`) on N
ranks: what it reports or decides from the whole mesh, reduced over the
ranks.  Its rows (J_i = -sum_j L_ij grad mu_j, the mixed Cahn-Hilliard mu_i
rows) are assembled by the serial model on each rank's submesh like every
other model's.

- :func:`free_energy`: int f(c) dx + (kappa/2) sum_i c_i^T K c_i (J), the sum
  of the ranks' owned shares (f on the lumped points of the owned vertices,
  the owned rows of K c_i);
- :func:`time_error`: Cahn-Hilliard's error measure, the RMS of e(c_i) over
  all dofs relative to the spread max c_i - min c_i (global min and max);
- :func:`time_step_limit`: Cahn-Hilliard's bound dt <= (4.5 rtol)^(1/3) /
  omega, omega = L f''^2 / (4 kappa) (one species inside the spinodal,
  median f'' < 0), with f'' at the lumped points of the owned vertices of
  all ranks (gathered for the median).
"""

from __future__ import annotations

import numpy as np

from .report import owned_share


def free_energy(system, x_owned: np.ndarray) -> float | None:
    """The model's ``free_energy`` of the whole mesh (None without one; collective)."""
    model = system.model
    if not hasattr(model, "energy"):  # not an onsager model: no free energy
        return None
    xl = system.local(x_owned)
    with owned_share(model, system.part.owned_vertices):
        total = model.free_energy(xl)
    if total is None:
        return None
    if model.cahn_hilliard:  # the submesh's gradient energy -> its owned rows
        c = model._concentrations(xl)
        total -= model.gradient.energy(c)
        rows = system.owned[system.owned < model.n_species]
        species, node = np.divmod(rows, model.space.n)
        Kc = np.stack([model.gradient.K @ ci for ci in c])
        total += 0.5 * model.kappa * float(np.sum(c[species, node] * Kc[species, node]))
    return system.numbering.sum(total)


def time_error(system, x: np.ndarray, e: np.ndarray, atol_fraction: float) -> float | None:
    """:meth:`OnsagerModel.time_error` over all ranks (None: the default measure)."""
    from mpi4py import MPI

    model = system.model
    if not getattr(model, "cahn_hilliard", False):
        return None
    comm, owned = system.comm, system.owned
    total = 0.0
    for s in model.species:
        mine = (owned >= s.offset) & (owned < s.offset + s.space.n)
        ci, ei = x[mine], e[mine]
        low = comm.allreduce(float(ci.min(initial=np.inf)), op=MPI.MIN)
        high = comm.allreduce(float(ci.max(initial=-np.inf)), op=MPI.MAX)
        floor = atol_fraction * float(system.x_scale_local[s.offset])
        spread = max(high - low, floor)
        count = comm.allreduce(int(mine.sum()))
        total += system.numbering.sum(float(np.sum(ei ** 2))) / count / spread ** 2
    return float(np.sqrt(total / model.nsp))


def time_step_limit(system, x: np.ndarray, rtol: float) -> float | None:
    """:meth:`OnsagerModel.time_step_limit` over all ranks (collective)."""
    from mpi4py import MPI

    model = system.model
    if not (getattr(model, "cahn_hilliard", False) and model.nsp == 1):
        return None
    comm = system.comm
    xl = system.local(x)
    C = model._point_concentrations(xl)
    f2 = np.broadcast_to(model.energy.hessian(C)[0, 0], C.shape[1:])
    mine = system.part.owned_vertices[model.points.node]
    values = np.concatenate(comm.allgather(np.asarray(f2[mine])))
    if not np.median(values) < 0:
        return None
    c_max = comm.allreduce(float(C[:, mine].max(initial=-np.inf)), op=MPI.MAX)
    largest = comm.allreduce(model.law.largest(np.full((1, 1), c_max), 0), op=MPI.MAX)
    omega = largest * float(np.min(values)) ** 2 / (4.0 * model.kappa)
    if not omega > 0:
        return None
    return float((4.5 * rtol) ** (1.0 / 3.0) / omega)
