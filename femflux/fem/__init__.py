"""Finite elements: spaces, quadrature point sets, pattern assembly, drift fluxes.

Everything here is model-agnostic.

- :mod:`.space` -- Lagrange elements, the geometry metric w(x) and
  :class:`Space` (continuous, or broken between groups of regions);
- :mod:`.points` -- :class:`PointSet` (nodal or Gauss points for zero-order
  terms) and the prolongations of a space onto them;
- :mod:`.pattern` -- :class:`Pattern`, element matrices summed through a
  learned CSR pattern;
- :mod:`.eafe` -- the drift-diffusion flux terms: edge-averaged
  (Scharfetter-Gummel) on P1 simplices, Galerkin otherwise;
- :mod:`.blocksum` -- :class:`BlockSum`, a model's Jacobian pieces summed
  through a learned pattern;
- :mod:`.probes` -- :class:`Probes`, point fields interpolated at named points.
"""

from .blocksum import BlockSum, same_array
from .eafe import (
    EdgeAveragedFlux,
    GalerkinDriftFlux,
    bernoulli,
    bernoulli_tables,
    drift_flux,
)
from .pattern import Pattern
from .points import PointSet, cell_points, facet_points, facet_prolongation
from .probes import Probes
from .space import Space, is_simplex, lagrange_element, metric, metric_degree

__all__ = [
    "BlockSum",
    "EdgeAveragedFlux",
    "GalerkinDriftFlux",
    "Pattern",
    "PointSet",
    "Probes",
    "Space",
    "bernoulli",
    "bernoulli_tables",
    "cell_points",
    "drift_flux",
    "facet_points",
    "facet_prolongation",
    "is_simplex",
    "lagrange_element",
    "metric",
    "metric_degree",
    "same_array",
]
