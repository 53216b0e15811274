"""Physical constants (CODATA, from scipy.constants; SPEC: SI units everywhere)."""

import numpy as np
from scipy.constants import R as GAS_CONSTANT  # J/(mol K)
from scipy.constants import (
    epsilon_0,  # F/m
    physical_constants,
)

#: Faraday constant, C/mol
FARADAY = physical_constants["Faraday constant"][0]



def arrhenius_factor(energy: float, T0: float, T):
    """k(T)/k(T0) of an Arrhenius constant k = k0 exp(-E/(R T)), E in J/mol;
    T a number or an array of local temperatures (K)."""
    if not energy:
        return 1.0
    value = np.exp(-energy / GAS_CONSTANT * (1.0 / np.asarray(T) - 1.0 / T0))
    return float(value) if np.ndim(value) == 0 else value


__all__ = ["FARADAY", "GAS_CONSTANT", "arrhenius_factor", "epsilon_0"]
