"""Free energies and chemical potentials of multicomponent mixtures (SPEC 4.4).

A :class:`FreeEnergy` is a free-energy density f(c_1..c_N) in J/m^3, built
symbolically with sympy and turned into vectorised numpy functions of the
concentrations (mol/m^3):

- ``ideal``:   f = RT sum_i c_i (ln(c_i/c_ref) - 1) + sum_i mu0_i c_i
- ``regular``: ideal + sum_{i<j} W_ij c_i c_j / c_ref (a dilute solution in a
  host of site density c_ref with Wagner interactions), so
  RT ln(gamma_i) = sum_j W_ij c_j / c_ref
- ``expression``: the user's whole f, an :class:`~femflux.case.Expression`
  of the species names, R and T (parsed safely, never eval'd).

From f come, by symbolic differentiation, the chemical potentials
mu_i = df/dc_i (J/mol), the Hessian d2f/dc_i dc_j (the thermodynamic factor
of the flux J_i = -sum_j L_ij sum_k H_jk grad c_k) and the third derivatives
(the exact Newton Jacobian of that flux).  Each function takes an array of
shape (N, ...) and returns (...), (N, ...), (N, N, ...) or (N, N, N, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.constants import R as GAS_CONSTANT


def _sympy():
    import sympy

    return sympy


class _Vectorised:
    """Several sympy expressions of the same symbols as one numpy function."""

    def __init__(self, expressions, symbols, shape: tuple[int, ...]):
        sp = _sympy()
        self.shape = shape
        self.constant = all(not e.free_symbols for e in expressions)
        self.zero = all(e == 0 for e in expressions)
        self._function = sp.lambdify(symbols, list(expressions), modules="numpy", cse=True)

    def __call__(self, C: np.ndarray) -> np.ndarray:
        C = np.asarray(C, dtype=float)
        point_shape = C.shape[1:]
        with np.errstate(all="ignore"):
            values = self._function(*C)
        out = np.empty((len(values),) + point_shape)
        for k, value in enumerate(values):
            out[k] = value  # scalars (constant entries) broadcast
        return out.reshape(self.shape + point_shape)


class FreeEnergy:
    """f(c_1..c_N) in J/m^3 and its derivatives as numpy functions.

    Parameters
    ----------
    names : species names (the order of the first axis of every array)
    model : "ideal" | "regular" | "expression"
    temperature : K
    reference_concentration : c_ref (mol/m^3) of the ideal term and of the
        regular interactions (the host site density)
    interactions : {(A, B): W_AB} in J/mol (regular)
    expression : the user's f (expression), a femflux Expression or its text
    standard_potentials : mu0_i (J/mol) added as sum mu0_i c_i (ideal, regular)
    """

    def __init__(self, names: Sequence[str], model: str = "ideal", temperature: float = 298.15,
                 reference_concentration: float = 1000.0,
                 interactions: dict[tuple[str, str], float] | None = None,
                 expression=None, standard_potentials: Sequence[float] | None = None):
        sp = _sympy()
        self.names = list(names)
        self.model = model
        self.RT = GAS_CONSTANT * temperature
        self.c_ref = reference_concentration
        self.symbols = [sp.Symbol(name, real=True) for name in self.names]
        c = dict(zip(self.names, self.symbols, strict=True))
        if model in ("ideal", "regular"):
            mu0 = list(standard_potentials) if standard_potentials is not None else [0.0] * len(c)
            f = sum(self.RT * ci * (sp.log(ci / self.c_ref) - 1) + m0 * ci
                    for ci, m0 in zip(self.symbols, mu0, strict=True))
            if model == "regular":
                for (a, b), w in (interactions or {}).items():
                    f = f + w * c[a] * c[b] / self.c_ref
        elif model == "expression":
            if expression is None:
                raise ValueError("model 'expression' needs an expression")
            if isinstance(expression, str):
                from ...case import Expression

                expression = Expression(expression, (*self.names, "R", "T"))
            f = expression.sympy.subs({sp.Symbol("R", real=True): GAS_CONSTANT,
                                       sp.Symbol("T", real=True): temperature})
        else:
            raise ValueError(f"unknown free-energy model {model!r}")
        self.sympy = f
        n = len(self.symbols)
        gradient = [sp.diff(f, s) for s in self.symbols]
        hessian = [[sp.diff(g, s) for s in self.symbols] for g in gradient]
        third = [[[sp.diff(h, s) for s in self.symbols] for h in row] for row in hessian]
        self.gradient_sympy, self.hessian_sympy = gradient, hessian
        self._f = _Vectorised([f], self.symbols, ())
        self._gradient = _Vectorised(gradient, self.symbols, (n,))
        self._hessian = _Vectorised([h for row in hessian for h in row], self.symbols, (n, n))
        self._third = _Vectorised([t for plane in third for row in plane for t in row],
                                  self.symbols, (n, n, n))
        #: f has logarithms (ideal mixing): keep concentrations positive
        self.needs_positive = bool(f.has(sp.log))
        #: the Hessian does not depend on c (quadratic f)
        self.constant_hessian = self._hessian.constant

    @classmethod
    def from_case(cls, case) -> FreeEnergy:
        """The free energy of an onsager case ([thermo], [model], species)."""
        thermo = case.thermo
        return cls(case.species_names, model=thermo.model if thermo else "ideal",
                   temperature=case.model.temperature,
                   reference_concentration=case.reference_concentration,
                   interactions=thermo.interactions if thermo else None,
                   expression=thermo.free_energy if thermo else None,
                   standard_potentials=[s.standard_potential for s in case.species])

    # -- numpy evaluation ---------------------------------------------------------

    def density(self, C: np.ndarray) -> np.ndarray:
        """f (J/m^3) at concentrations C of shape (N, ...)."""
        return self._f(C)

    def chemical_potentials(self, C: np.ndarray) -> np.ndarray:
        """mu_i = df/dc_i (J/mol), shape (N, ...)."""
        return self._gradient(C)

    def hessian(self, C: np.ndarray) -> np.ndarray:
        """d2f/dc_i dc_j (J m^3/mol^2), shape (N, N, ...)."""
        return self._hessian(C)

    def third_derivatives(self, C: np.ndarray) -> np.ndarray:
        """d3f/dc_i dc_j dc_k, shape (N, N, N, ...)."""
        return self._third(C)

    def pressure(self, C: np.ndarray) -> np.ndarray:
        """p = sum_i c_i mu_i - f (J/m^3); Gibbs-Duhem: dp = sum_i c_i dmu_i."""
        C = np.asarray(C, dtype=float)
        return np.einsum("i...,i...->...", C, self.chemical_potentials(C)) - self.density(C)
