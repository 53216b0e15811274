"""One run on several MPI ranks (``mpirun -n N femflux run CASE.toml``): PETSc
over MPI, the mesh partitioned with METIS, the serial model code assembling
each rank's rows.

- :mod:`.partition`: vertex ownership (pymetis) and each rank's submesh
  (owned nodes, two layers of halo cells);
- :mod:`.numbering`: the global (PETSc) numbering of the unknowns and the
  halo exchange;
- :mod:`.system`: the solver's System on a rank's owned unknowns, and what
  is not yet distributed (exit 2 naming it);
- :mod:`.linear`: KSP solves (MUMPS, or GMRES with hypre BoomerAMG, the
  field split of :mod:`.fieldsplit` or Schwarz/ILU);
- :mod:`.newton`, :mod:`.timestep`: the serial Newton and BDF rules with
  global reductions;
- :mod:`.elastic`: elasticity (stress-diffusion): the whole body's rigid
  check and scales, the mechanical equilibrium at t = 0 (MUMPS or CG + GAMG
  with the rigid-body near-nullspace), the field split of iterative solves;
- :mod:`.onsager`: the onsager model's free energy, Cahn-Hilliard's error
  measure and step limit, reduced over the ranks;
- :mod:`.report`: summary.json from global sums; :mod:`.pvtu`: one VTU piece
  per rank and the .pvtu over them;
- :mod:`.run`: the run itself and the results folder (rank 0 owns it).

Nothing here is imported by a serial run; it needs the ``[mpi]`` extra
(petsc4py, mpi4py, pymetis; README, "Several processes: MPI").
"""

from __future__ import annotations

import glob
import os
import sys

from ..errors import CaseError

#: environment variables in which MPI launchers give the number of ranks
_LAUNCHER_SIZE = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_size() -> int:
    """The number of ranks an MPI launcher (mpirun, mpiexec, srun) started, 1
    if none (read from the environment: MPI itself is not started)."""
    for name in _LAUNCHER_SIZE:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def launched_rank() -> int:
    """This process's rank as the MPI launcher gave it (0 without a launcher)."""
    for name in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def world():
    """MPI's COMM_WORLD with petsc4py ready; a CaseError (exit 2) naming what is
    missing when the [mpi] extra is not installed."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise CaseError(f"femflux run on several MPI ranks needs mpi4py ({exc}); install "
                        "the [mpi] extra (README, 'Several processes: MPI')") from None
    try:
        import petsc4py  # noqa: F401
    except ImportError:
        # Debian's python3-petsc4py lives under /usr/lib/petscdir/<version>/<arch>-real
        sys.path += sorted(glob.glob("/usr/lib/petscdir/petsc*/*-real/lib/python3/"
                                     "dist-packages"))
    try:
        import pymetis  # noqa: F401
        from petsc4py import PETSc  # noqa: F401
    except ImportError as exc:
        raise CaseError(f"femflux run on several MPI ranks needs petsc4py and pymetis "
                        f"({exc}); install the [mpi] extra (README, 'Several processes: "
                        "MPI')") from None
    return MPI.COMM_WORLD
