"""The parts of :class:`~femflux.models.transport.SpeciesTransport` that
make region interfaces: the broken dofs' ties (continuity of mu, or of the
partial pressure at a Sieverts-Henry interface,
:mod:`femflux.physics.interfaces`), the region groups of the solubility laws
(:mod:`femflux.physics.solubility`), their consistent start, the balance of
drift-field rows, and the checks of a space-dependent activity coefficient."""

from __future__ import annotations

import numpy as np

from ..case import evaluate
from ..errors import CaseError
from ..physics.constants import GAS_CONSTANT
from ..physics.interfaces import InterfaceTies
from ..physics.solubility import HENRY, consistent_interface_start
from ..physics.species import SpeciesField


class InterfaceParts:
    """Mixed into :class:`~femflux.models.transport.SpeciesTransport`."""

    def _check_profile(self, spec, laws) -> None:
        """gamma(x, y, z): kind diffusion (no phi or u), no solubility, > 0."""
        where = f"species {spec.name!r}: activity_coefficient as an expression"
        if any(f.name in ("phi", "elasticity") for f in self.fields):
            raise CaseError(f"{where} needs model kind 'diffusion'")
        if laws is not None:
            raise CaseError(f"{where} cannot combine with a region's solubility")
        values = np.asarray(evaluate(spec.activity_profile, self.points.x, 0.0))
        if not np.all(values > 0):
            raise CaseError(f"{where} must be > 0 (it is {float(values.min())!r} somewhere)")

    def _solubility_groups(self) -> None:
        """Where a species has Sieverts and Henry regions, its space is broken
        between the two laws (the nonlinear jump of c); under a temperature
        program also between regions of one law whose solubility energies
        differ (a jump of c that changes with T)."""
        broken = [(name, laws) for name, laws in self.laws.items()
                  if laws is not None and laws.broken]
        if not broken:
            return
        name, laws = broken[0]
        what = ("Sieverts and Henry regions" if laws.mixed else
                "regions whose solubility energies differ under a temperature program")
        if self.electric is not None:
            raise CaseError(f"species {name!r}: {what} cannot combine with [electrostatics]")
        for other, more in broken[1:]:
            if not np.array_equal(more.groups(), laws.groups()):
                raise CaseError(f"species {other!r}: its solubility regions (laws and, "
                                f"under a temperature program, energies) must be those of "
                                f"{name!r}")
        self.groups = laws.groups()

    def _consistent_interfaces(self, x: np.ndarray) -> None:
        """At Sieverts-Henry interfaces each copy starts at its own region's
        value where these satisfy the tie a_H = q a_S^2, else both at the
        pressure that keeps the node's amount (an inconsistent start would
        make the first step collapse), in place."""
        lumped = np.zeros(self.n)
        for s in self.species:
            lumped[s.slice] = s.P.T @ (self.points.weight
                                       / s.gamma_at(self.points.x, self.points.region))
        _, h, sv, q = self.ties.mixed
        x[h], x[sv] = consistent_interface_start(x[h], x[sv], lumped[h], lumped[sv], q)

    def _species_dirichlet(self) -> np.ndarray:
        """(n,) bool: the Dirichlet dofs of the species."""
        fixed = np.zeros(self.n, dtype=bool)
        for b in self.case.boundaries:
            for name in b.concentration:
                s = self.by_name[name]
                fixed[s.offset + self.dirichlet_dofs(b.name, s)[0]] = True
        return fixed

    def _build_ties(self) -> InterfaceTies | None:
        """Tie the copies of every broken species dof: one representative (a
        Dirichlet copy if there is one) takes the summed conservation rows, each
        other copy the continuity of mu."""
        if not any(s.space.broken for s in self.species):
            return None
        fixed = self._species_dirichlet()
        reps, others, scales, phi_reps, phi_others = [], [], [], [], []
        local_ties = {}
        henry, sieverts, q, q_energy, mixed_rows = [], [], [], [], []  # Sieverts-Henry ties
        energies = []  # (E_o - E_r)/R per tie of one law across solubility energies
        count = 0
        for s in self.species:
            space = s.space
            if not space.broken:
                continue
            copies = np.flatnonzero(space.copy_group >= 0)
            dof = space.dofs[copies]
            # by global dof; within one, the Dirichlet copies first, then by number
            order = np.lexsort((copies, ~fixed[s.offset + copies], dof))
            copies, dof = copies[order], dof[order]
            start = np.ones(len(dof), dtype=bool)
            start[1:] = dof[1:] != dof[:-1]
            rep = copies[np.maximum.accumulate(np.where(start, np.arange(len(dof)), 0))]
            rep, other = rep[~start], copies[~start]
            local_ties[s.name] = (rep, other)
            energy = np.zeros(len(rep))
            if s.laws is not None and s.laws.broken:
                laws = s.laws
                g_r, g_o = space.copy_group[rep], space.copy_group[other]
                is_henry = laws.group_law[g_o] == HENRY
                k = np.flatnonzero(laws.group_law[g_r] != laws.group_law[g_o])
                h = np.where(is_henry, other, rep)[k]
                sv = np.where(is_henry, rep, other)[k]
                mixed_rows.append(count + k)
                henry.append(s.offset + h)
                sieverts.append(s.offset + sv)
                q.append(np.full(len(k), laws.q if laws.mixed else 0.0))
                q_energy.append((laws.group_energy[space.copy_group[h]]
                                 - 2.0 * laws.group_energy[space.copy_group[sv]])
                                / GAS_CONSTANT)
                energy = (laws.group_energy[g_o] - laws.group_energy[g_r]) / GAS_CONSTANT
                energy[k] = 0.0
            energies.append(energy)
            count += len(rep)
            reps.append(s.offset + rep)
            others.append(s.offset + other)
            term = self.electric_term(s)
            if term is None:
                scales.append(np.zeros(len(rep)))
                phi_reps.append(s.offset + rep)  # any index: the coefficient is 0
                phi_others.append(s.offset + other)
            else:
                scales.append(np.full(len(rep), term.scale))
                phi_reps.append(term.index[rep])
                phi_others.append(term.index[other])
        mixed = None
        if sum(len(k) for k in q):
            mixed = (np.concatenate(mixed_rows), np.concatenate(henry),
                     np.concatenate(sieverts), np.concatenate(q))
        ties = InterfaceTies(self.n, np.concatenate(reps), np.concatenate(others),
                             np.concatenate(scales), np.concatenate(phi_reps),
                             np.concatenate(phi_others), local_ties, mixed=mixed,
                             energy=np.concatenate(energies),
                             mixed_energy=np.concatenate(q_energy) if mixed else None)
        ties.points = self._tie_points(ties)
        return ties

    def _tie_points(self, ties: InterfaceTies) -> np.ndarray:
        """(dim, ties) the node of every tie row (where T(x, t) is taken)."""
        x = np.zeros((self.fem_mesh.dim, self.n))
        for s in self.species:
            x[:, s.slice] = s.space.x
        return x[:, ties.other]

    def _ties_at(self, t: float) -> None:
        """The ties' solubility energies at the temperature of time t
        (programs)."""
        if self.ties is not None and self.ties.follows_temperature:
            T = self.local_temperature(self.ties.points, t)
            self.ties.at_temperature(T, self.case.model.temperature)

    def _balance_drift_rows(self) -> None:
        """Add to every row of a drift field (electroneutrality: phi) the
        node's balance sum_i s_i R_i of the species it drives, R_i the
        (summed) conservation row of species i at that node and s_i its drift
        scale (z_i F/RT: the current), scaled to the row.  An equivalent
        system (the rows R_i vanish at the solution; Dirichlet rows, whose
        residual is the boundary flux, are left out), but the row now has a
        diagonal, sum_i s_i dR_i/dphi > 0: the electroneutrality rows alone
        have none, and where the interface copies change the elimination
        order the direct solver would pivot off the diagonal (2x slower)."""
        fixed = self._species_dirichlet()
        representative = np.arange(self.n)
        representative[self.ties.other] = self.ties.rep
        rows, cols, coefficients = [], [], []
        for s in self.species:
            term = self.electric_term(s)
            if term is None:
                continue
            scale = term.scale
            field_rows = term.index
            species_rows = representative[s.offset + np.arange(s.space.n)]
            keep = ~fixed[species_rows]
            field_rows, species_rows = field_rows[keep], species_rows[keep]
            rows.append(field_rows)
            cols.append(species_rows)
            coefficients.append(scale * self.x_scale[field_rows] * self.r_scale[field_rows]
                                / self.r_scale[species_rows])
        if not rows:
            return
        B = self.ties.balance(np.concatenate(rows), np.concatenate(cols),
                              np.concatenate(coefficients))
        self._storage_matrix = (self._storage_matrix + B @ self._storage_matrix).tocsr()

    def fold_to_representatives(self, s: SpeciesField, w: np.ndarray) -> np.ndarray:
        """Per-dof weights of species ``s`` with the copies' weights moved to
        their representative (which holds the summed conservation rows)."""
        if self.ties is None or s.name not in self.ties.local:
            return w
        rep, other = self.ties.local[s.name]
        w = np.array(w, dtype=float)
        np.add.at(w, rep, w[other])
        w[other] = 0.0
        return w
