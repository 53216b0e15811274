"""summary.json from global reductions: every rank reports its owned share,
the shares are summed.

With P1 elements every zero-order integral femflux reports is a sum over
nodal points (lumped quadrature): amounts int c dx = sum_k w_k c_k,
prescribed boundary fluxes sum_k int g v_k dA, boundary measures
sum_k int v_k dA, and concentration-boundary fluxes are the residual at the
boundary dofs.  A rank reports with the weights of the points at the nodes it
does not own set to 0 (and the residual there zeroed), so its numbers are
exactly its owned nodes' share, and the sum over ranks is the serial number.
The area-weighted mean potential of a boundary is reduced as
sum(mean_r measure_r) / sum(measure_r).
"""

from __future__ import annotations

import contextlib

import numpy as np


@contextlib.contextmanager
def owned_share(model, owned_vertex: np.ndarray):
    """Within the block, the model's volume and boundary point weights count
    only the points at the vertices this rank owns (``owned_vertex``: (nv,) bool)."""
    sets = [model.points] + [model.boundary_points(name) for name in model.fem_mesh.boundaries]
    saved = [p.weight for p in sets]
    try:
        for p in sets:
            p.weight = np.where(owned_vertex[p.node], p.weight, 0.0)
        yield
    finally:
        for p, w in zip(sets, saved, strict=True):
            p.weight = w


def _flatten(tree, prefix=()):
    """[(path, value)] of the numbers of a nested dict, in a fixed order."""
    out = []
    for key in tree:
        value = tree[key]
        if isinstance(value, dict):
            out += _flatten(value, prefix + (key,))
        elif isinstance(value, int | float | np.floating):
            out.append((prefix + (key,), float(value)))
    return out


def _set(tree, path, value):
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def reduce_tree(tree: dict, numbering) -> dict:
    """The sum over ranks of a nested dict of numbers of the same shape on every
    rank; ``potential`` entries of boundaries are measure-weighted means, and
    ``electrode_potential`` (the same on every rank) is kept (collective)."""
    items = _flatten(tree)
    values = np.array([v for _, v in items])
    for k, (path, _) in enumerate(items):
        if path[-1] == "potential":
            values[k] *= _measure(tree, path)
        elif path[-1] == "electrode_potential":
            values[k] /= numbering.comm.size
    total = numbering.sum(values) if len(values) else values
    for k, (path, _) in enumerate(items):
        _set(tree, path, float(total[k]))
    for k, (path, _) in enumerate(items):
        if path[-1] == "potential":
            measure = _measure(tree, path)
            _set(tree, path, float(total[k] / measure) if measure > 0 else float(total[k]))
    return tree


def _measure(tree, path) -> float:
    node = tree
    for key in path[:-1]:
        node = node[key]
    return float(node.get("measure", 1.0))


def global_report(system, x_owned, rate_owned, t: float, residual_owned=None) -> dict:
    """boundaries (flux, measure, current, potential), amounts and region amounts of
    the whole mesh (collective)."""
    model = system.model
    xl = system.local(x_owned)
    model.at_time(t)
    residual = np.zeros(model.n)
    if residual_owned is None:
        F, _ = model.flux(xl, t)
        residual[system.owned] = rate_owned + F[system.owned]
    else:
        residual[system.owned] = residual_owned
    owned_vertex = system.part.owned_vertices
    with owned_share(model, owned_vertex):
        tree = {"boundaries": model.boundary_summary(xl, None, t, residual),
                "amount": model.amounts(xl),
                "regions": {name: {"amount": amounts}
                            for name, amounts in model.region_amounts(xl).items()}}
        if model.case.model.temperature_spatial:  # the volume mean of T(x, t): int T, int 1
            w = model.points.weight
            tree["temperature"] = {"integral": float(w @ model.local_temperature(
                model.points.x, t)), "volume": float(w.sum())}
    # an electrode's reported potential is the prescribed or solved value, not a mean
    return reduce_tree(tree, system.numbering)
