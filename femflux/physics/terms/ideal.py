"""The ideal-mixing term with activity, mu_i = mu0_i + RT ln(gamma_i c_i / c_ref) (J/mol).

It is the diffusive part of every species flux: with L = D c / RT,
-L grad(RT ln a) = -(D/gamma) grad a.  Its value is reported as part of
``mu_<species>``; concentrations below 1e-30 c_ref are floored there (the
logarithm of a depleted node is not an error).
"""

from __future__ import annotations

import numpy as np


def ideal_potential(standard_potential: float, RT: float, activity: np.ndarray,
                    c_ref: float) -> np.ndarray:
    """mu0 + RT ln(a / c_ref), a = gamma c in mol/m^3 (J/mol)."""
    return standard_potential + RT * np.log(np.maximum(activity, 1e-30 * c_ref) / c_ref)
