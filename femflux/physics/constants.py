"""Physical constants (CODATA, from scipy.constants; SPEC: SI units everywhere)."""

import numpy as np
from scipy.constants import R as GAS_CONSTANT  # J/(mol K)
from scipy.constants import (
    epsilon_0,  # F/m
    physical_constants,
)

#: Faraday constant, C/mol
FARADAY = physical_constants["Faraday constant"][0]



def arrhenius_factor(energy: float, T0: float, T: float) -> float:
    """k(T)/k(T0) of an Arrhenius constant k = k0 exp(-E/(R T)), E in J/mol."""
    if not energy:
        return 1.0
    return float(np.exp(-energy / GAS_CONSTANT * (1.0 / T - 1.0 / T0)))


__all__ = ["FARADAY", "GAS_CONSTANT", "arrhenius_factor", "epsilon_0"]
