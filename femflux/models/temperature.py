"""The temperature of a species-transport model (:class:`TemperatureParts`,
a part of :class:`~femflux.models.transport.SpeciesTransport`): the case's
T (K), a program T(t), or a field T(x, y, z, t) (kind diffusion).  Arrhenius
diffusivities D = D0 exp(-E/RT) (and D = M R T of a mobility) are stored at
T0 = T(t = 0) and scaled by D(T)/D(T0): per region under T(t), per
quadrature point under T(x, y, z, t) (J = -D(T) grad c, FESTIM's law, no
Soret term); the drifts z F phi/RT and -Omega sigma_h/RT follow T(t), and
under T(x, y, z, t) the local T (COMSOL's Nernst-Einstein mobility D/RT with
T a field, no Soret term):

    J = -D(T) (grad c + c (z F grad phi - Omega grad sigma_h)/(R T(x, t))),

the drift psi taken at T0 and each edge's (quadrature point's) drop scaled
by T0/T there (:class:`~femflux.fem.EdgeAveragedFlux`), so that it does not
depend on the reference of phi.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..physics.constants import GAS_CONSTANT


class TemperatureParts:
    """T at a time or at points, and the diffusivities and drifts that follow it."""

    def _diffusivity_factor(self, s, T: float, energy) -> np.ndarray | float:
        """D(T)/D(T0): Arrhenius exp(-E/R (1/T - 1/T0)), times T/T0 when D = M R T."""
        T0 = self.case.model.temperature
        factor = np.exp(-np.asarray(energy) / GAS_CONSTANT * (1.0 / T - 1.0 / T0))
        return factor * (T / T0) if s.spec.mobility is not None else factor

    def _follow_temperature(self, t: float) -> None:
        """Under a temperature program with drift terms (z F phi, -Omega
        sigma_h): the drifts psi = term/RT, the Donnan ties and the
        diffusivities at T(t)."""
        if self.case.model.temperature_spatial:
            self._follow_temperature_field(t)
            return
        T = self.temperature(t)
        for terms in self.terms.values():
            for term in terms:
                term.scale = term.coefficient / (GAS_CONSTANT * T)
        self.drift_diffusion._selections.clear()  # d psi/d field: the scales changed
        if self.ties is not None:  # Donnan ties: a_o exp(z F phi_o/RT) = a_r exp(...)
            self.ties.at_temperature_ratio(self.case.model.temperature / T)
        for s in self.species:
            region = self.fem_mesh.region_ids[s.space.elements]
            self._k_factor[s.name] = self._diffusivity_factor(s, T, s.energy[region])

    def _follow_temperature_field(self, t: float) -> None:
        """Under T(x, y, z, t) with drift terms: the drift drops scaled by
        T0/T at the edge midpoints (quadrature points), the Donnan ties at
        their nodes' T, D(T) per element (its quadrature mean); cached when T
        does not depend on t."""
        key = "temperature field"
        if self.cache.get(key) == t or (key in self.cache
                                        and not self.program.depends_on_time):
            return
        self.cache[key] = t
        T0 = self.case.model.temperature
        for term in {id(f): f for f in self.drift_diffusion.flux_terms.values()}.values():
            where = term.midpoints() if hasattr(term, "midpoints") else term.space.quadrature_x
            term.factor = T0 / self.local_temperature(where, t)
        if self.ties is not None:
            self.ties.at_temperature_ratio(T0 / self.local_temperature(self.ties.points, t))
        for s in self.species:
            region = self.fem_mesh.region_ids[s.space.elements]
            T = self.local_temperature(s.space.quadrature_x, t)
            factor = self._diffusivity_factor(s, T, s.energy[region][:, None])
            self._k_factor[s.name] = factor.mean(axis=1)

    def temperature(self, t: float) -> float:
        """T (K) at time t: the case's temperature or its program T(t)."""
        return self.case.model.temperature_at(t)

    def local_temperature(self, x: np.ndarray, t: float) -> np.ndarray:
        """T (K) at the points ``x`` (dim, ...) at time t: the case's
        temperature, T(t), or T(x, y, z, t)."""
        return self.case.model.temperature_points(x, t)

    def mean_temperature(self, t: float) -> float:
        """The volume mean of T(x, y, z, t) over the mesh (K): ``history.temperature``."""
        w = self.points.weight
        return float(w @ self.local_temperature(self.points.x, t) / w.sum())

    def _stiffness_spatial(self, s, t: float) -> sp.csr_matrix:
        """int (D(T(x, t))/gamma) grad v_i . grad v_j dx with T at the
        quadrature points (J = -D(T) grad c, FESTIM's law: no Soret term);
        cached when T does not depend on t."""
        key = ("stiffness T(x)", s.name)
        if key in self.cache and not self.program.depends_on_time:
            return self.cache[key]
        region = self.fem_mesh.region_ids[s.space.elements]
        k = self._point_k(s, t)
        T = self.local_temperature(s.space.quadrature_x, t)
        factor = self._diffusivity_factor(s, T, s.energy[region][:, None])
        self._k_factor[s.name] = factor.mean(axis=1)  # for element_k: fluxes, scales
        k = (k if k.ndim == 2 else k[:, None]) * factor
        K = s.space.stiffness(k)
        if s.thermal is not None:  # + int k a (-grad ln gamma) . grad v: J = -D grad c
            K = (K + self._solubility_drift(s, k, t)).tocsr()
        self.cache[key] = K
        return K

    def _solubility_drift(self, s, k: np.ndarray, t: float) -> sp.csr_matrix:
        """int k v_j (w . grad v_i) dx, w = -grad ln gamma = E_S grad T/(R T^2)
        at the quadrature points (grad T of T interpolated in the element):
        with it J = -k (grad a + a w) = -D grad c where gamma = K_ref(T0)/K(T(x, t))."""
        space = s.space
        x = space.quadrature_x
        region = self.fem_mesh.region_ids[space.elements][:, None]
        grad_T = space.gradient(self.local_temperature(space.x, t), at_centroid=False)
        w = s.temperature_drift(x, region, grad_T, t)
        local = np.einsum("ideq,jeq,deq,eq->ije", space.grads, space.values, w, k * space.dx)
        return space.pattern.assemble(local)

    def _stiffness_at(self, s, K: sp.csr_matrix, t: float) -> sp.csr_matrix:
        """The species' stiffness at the temperature of time t: each region's
        part times D(T(t))/D(T(0)) of its Arrhenius diffusivity (a spatial T:
        :meth:`_stiffness_spatial`)."""
        if self.case.model.temperature_spatial:
            return self._stiffness_spatial(s, t)
        T = self.temperature(t)
        energies = np.unique(s.energy[s.regions])
        if len(energies) == 1:
            return K * float(self._diffusivity_factor(s, T, energies[0]))
        key = ("stiffness parts", s.name)
        if key not in self.cache:
            region = self.fem_mesh.region_ids[s.space.elements]
            k = self._point_k(s)
            here = s.energy[region] if k.ndim == 1 else s.energy[region][:, None]
            self.cache[key] = [(E, s.space.stiffness(np.where(here == E, k, 0.0)))
                               for E in energies]
        return sum(part * float(self._diffusivity_factor(s, T, E)) for E, part in self.cache[key])
