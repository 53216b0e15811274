"""The onsager model on several MPI ranks (real mpirun, PETSc MUMPS, METIS)
against the serial run of the same case (tests/mpi_helpers.py): fluxes,
amounts and the history (free energy included) to 1e-8 relative, every
gathered point and cell field to 1e-8 of its largest value.  The serial
model is verified against closed forms and PFHub BM1 in tests/test_onsager.py.

Cahn-Hilliard (mixed c / mu) takes the serial steps only if its own error
measure (relative to the global spread of c) and its spinodal step limit
(median f'' over all points) are reduced over the ranks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write
from mpi_helpers import (
    assert_same_fields,
    assert_same_summary,
    pytestmark,  # noqa: F401 - skips the module without MPI
    solved,
)

TERNARY = """\
title = "ternary regular solution, Einstein mobilities, a reaction, open sides"
[mesh]
generate = { shape = "rectangle", length = [1.0, 1.0], cells = [12, 10] }
scale = 1e-3
[model]
kind = "onsager"
temperature = 298.15
[[species]]
name = "A"
diffusivity = 1e-9
initial = "100 + 50*sin(3*x/1e-3)*cos(2*y/1e-3)"
[[species]]
name = "B"
diffusivity = 3e-10
initial = "80 + 40*cos(5*x/1e-3 + y/1e-3)"
[[species]]
name = "C"
diffusivity = 2e-9
initial = "60 - 30*sin(4*y/1e-3)"
[thermo]
model = "regular"
interactions = { A-B = 8e3, B-C = -2e3 }
[transport]
onsager = "einstein"
[[reaction]]
equation = "A + B <=> C"
forward = 1e-5
backward = 1e-3
[[boundary]]
name = "xmax"
mass_transfer = { B = { coefficient = 1e-6, bulk = 50.0 } }
[[boundary]]
name = "xmin"
concentration = { A = 120.0 }
[solver]
steady = false
t_end = 60.0
dt = 10.0
newton_rtol = 1e-12
"""

SPINODAL = """\
title = "Cahn-Hilliard spinodal decomposition (PFHub BM1 law) on a 40 x 40 patch"
[mesh]
generate = { shape = "rectangle", length = [40.0, 40.0], cells = [24, 24] }
[model]
kind = "onsager"
temperature = 298.15
[[species]]
name = "c"
initial = "0.5 + 0.01*(cos(0.105*x)*cos(0.11*y) + (cos(0.13*x)*cos(0.087*y))**2 \
+ cos(0.025*x - 0.15*y)*cos(0.07*x - 0.02*y))"
[thermo]
model = "expression"
free_energy = "5*(c - 0.3)**2*(0.7 - c)**2"
gradient_energy = 2.0
[transport]
onsager = [[5.0]]
[solver]
steady = false
t_end = 5.0
dt = 0.05
newton_rtol = 1e-12
[output]
every = 6
"""

FICK = """\
title = "ternary Fickian couple with a non-symmetric D, both ends held"
[mesh]
generate = { shape = "rectangle", length = [2.0, 1.0], cells = [20, 8] }
scale = 1e-6
[model]
kind = "onsager"
temperature = 1273.15
[[species]]
name = "A"
initial = 0.4
[[species]]
name = "B"
initial = 0.35
[transport]
diffusivity_matrix = [[2.0e-14, 5.0e-15], [-4.0e-15, 1.0e-14]]
[[boundary]]
name = "xmin"
concentration = { A = 0.6, B = 0.35 }
[[boundary]]
name = "xmax"
concentration = { A = 0.2, B = 0.35 }
[[boundary]]
name = "ymax"
inward_flux = { B = 1e-12 }
[solver]
steady = true
"""


@pytest.mark.parametrize("ranks", [2, 3])
def test_cahn_hilliard_spinodal(tmp_path, ranks):
    """Mixed c / mu, 18 adaptive steps inside the spinodal: the serial steps,
    history (free energy), c and mu fields; the free energy never rises."""
    case = write(tmp_path, "spinodal.toml", SPINODAL)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", ranks)
    assert assert_same_summary(serial, parallel) > 100
    steps = sorted(p.stem for p in serial.glob("step_*.vtu"))
    assert sorted(p.stem for p in parallel.glob("step_*.pvtu")) == steps
    assert_same_fields(serial, parallel)
    history = json.loads((parallel / "summary.json").read_text())["history"]
    energy = np.array([row["free_energy"] for row in history])
    assert np.all(np.diff(energy) <= 1e-12 * abs(energy[0]))


def test_ternary_einstein_with_reaction(tmp_path):
    """Concentration-dependent L (Einstein) and a regular solution's Hessian,
    a mass-action reaction, a held and an exchanging side, on 3 ranks."""
    case = write(tmp_path, "ternary.toml", TERNARY)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 3)
    assert assert_same_summary(serial, parallel) > 100
    assert_same_fields(serial, parallel)


def test_fickian_steady(tmp_path):
    """A constant non-symmetric D (cross terms): steady profile and fluxes."""
    case = write(tmp_path, "fick.toml", FICK)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 2)
    assert_same_summary(serial, parallel)
    assert_same_fields(serial, parallel)
    flux = json.loads((parallel / "summary.json").read_text())["boundaries"]["xmin"]["flux"]
    assert abs(flux["B"]) > 1e-3 * abs(flux["A"])  # B moves by the cross term alone
