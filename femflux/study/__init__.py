"""Studies of many runs: parameter sweeps on Dask distributed (SPEC 6 "Sweeps").

A sweep varies dotted case keys (``--vary KEY=VALUES`` or a ``[sweep]``
table, read and checked by :mod:`femflux.case.sweep`) over the product or the
zip of their values; every point is an ordinary results folder, solved on a
Dask worker, and the sweep's table collects chosen summary values.

Modules
-------
- :mod:`.plan`: the base case, the points and the task of each point;
  every point is checked before anything is written;
- :mod:`.folder`: the sweep folder on disk (manifest, points, records,
  chained states), what is complete, atomic writes;
- :mod:`.point`: one point on a worker: load, solve, write its folder and record;
- :mod:`.cluster`: the Dask client (embedded LocalCluster or a scheduler
  address) and the submission of the points (at once, or chained);
- :mod:`.table`: collected outputs, ``sweep.csv``, DataFrame or dict of lists;
- :mod:`.graph`: ``sweep.png``;
- :mod:`.runner`: :func:`sweep` (``femflux.sweep``) and :func:`run_sweep`.

Dask is imported only when a sweep runs, so ``import femflux`` stays light.
"""

from .runner import SweepOutcome, run_sweep, sweep

__all__ = ["SweepOutcome", "run_sweep", "sweep"]
