"""Physical constants (CODATA, from scipy.constants; SPEC: SI units everywhere)."""

from scipy.constants import R as GAS_CONSTANT  # J/(mol K)
from scipy.constants import (
    epsilon_0,  # F/m
    physical_constants,
)

#: Faraday constant, C/mol
FARADAY = physical_constants["Faraday constant"][0]

__all__ = ["FARADAY", "GAS_CONSTANT", "epsilon_0"]
