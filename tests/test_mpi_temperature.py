"""A temperature field T(x, y, z, t) on several MPI ranks (real mpirun)
against the serial run of the same case (tests/mpi_helpers.py): fluxes,
amounts and the history (its temperature the volume mean over the whole
mesh, reduced over the ranks) to 1e-8, gathered fields to 1e-8.  The serial
runs are verified against closed forms in tests/test_spatial_temperature.py
and tests/test_temperature_field_drift.py."""

from __future__ import annotations

import json

import pytest
from conftest import write
from mpi_helpers import (
    assert_same_fields,
    assert_same_summary,
    femflux,
    pytestmark,  # noqa: F401 - skips the module without MPI
    solved,
)

TRAPPED = """\
title = "hydrogen desorbing from a heated plate with a trap, T a field of x, y and t"
[mesh]
generate = { shape = "rectangle", length = [2.0, 1.0], cells = [16, 8] }
scale = 1e-4
[model]
kind = "diffusion"
temperature = "300 + 2e5*x + 4e5*y + t"
[[species]]
name = "H"
diffusivity = { pre = 1e-7, energy = 30e3 }
initial = 0.0
[[trap]]
species = "H"
density = 2.0
initial = 1.0
trapping = { pre = 1e3, energy = 30e3 }
detrapping = { pre = 1e8, energy = 70e3 }
[[boundary]]
name = "xmin"
concentration = { H = 0.0 }
[solver]
steady = false
t_end = 60.0
dt = 0.5
[output]
every = 5
"""

MEMBRANE = """\
title = "K+ and Cl- through a membrane with a temperature gradient"
[mesh]
generate = { shape = "rectangle", length = [1.0, 0.5], cells = [20, 6] }
scale = 1e-9
[model]
kind = "nernst-planck-poisson"
temperature = "300 + 2e11*x + 1e11*y"
[[species]]
name = "K"
charge = 1
diffusivity = 1e-9
initial = 60.0
[[species]]
name = "Cl"
charge = -1
diffusivity = 1e-9
initial = 180.0
[electrostatics]
relative_permittivity = 1e7
[[boundary]]
name = "xmin"
potential = 0.0
concentration = { K = 100.0, Cl = 60.0 }
[[boundary]]
name = "xmax"
potential = -0.05
concentration = { K = 20.0, Cl = 300.0 }
[solver]
steady = true
newton_rtol = 1e-12
"""


def test_trap_desorption_under_a_temperature_field(tmp_path):
    case = write(tmp_path, "trap.toml", TRAPPED)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 2)
    assert assert_same_summary(serial, parallel) > 100  # the history included
    assert_same_fields(serial, parallel)
    history = json.loads((parallel / "summary.json").read_text())["history"]
    # volume mean of 300 + 2e5 x + 4e5 y + t over 0.2 mm x 0.1 mm
    assert abs(history[-1]["temperature"] - (300 + 20 + 20 + history[-1]["t"])) < 1e-9


def test_npp_drift_under_a_temperature_field(tmp_path):
    case = write(tmp_path, "membrane.toml", MEMBRANE)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 3)
    assert_same_summary(serial, parallel)
    assert_same_fields(serial, parallel)


BILAYER = """\
title = "hydrogen through a W/Cu-like bilayer, Sieverts K Arrhenius, T a field"
[mesh]
file = "bilayer.msh"
[model]
kind = "diffusion"
temperature = "400 + 2e5*x + 0.5*t"
[[species]]
name = "H"
diffusivity = 1e-9
initial = 0.02
[[region]]
name = "A"
solubility = { law = "sieverts", K = { pre = 1.0, energy = 20e3 } }
[[region]]
name = "B"
diffusivity = { H = 3e-9 }
solubility = { law = "sieverts", K = { pre = 4054.0, energy = 50e3 } }
[[boundary]]
name = "left"
sieverts = { pressure = 1e4, K = { pre = 1.0, energy = 20e3 } }
[[boundary]]
name = "right"
concentration = { H = 0.0 }
[solver]
steady = false
t_end = 400.0
dt = 10.0
adaptive = false
newton_rtol = 1e-13
[output]
every = 5
"""


def test_sieverts_bilayer_with_a_wall_under_a_temperature_field(tmp_path):
    """Region solubilities (gamma = K_ref(T0)/K(T(x, t)): storage that changes
    in time) and a `sieverts` wall at a given pressure on 3 ranks, 40 fixed
    BDF2 steps (adaptive steps agree to ~1e-8 only: Newton's residual scales
    are per-rank medians)."""
    from conftest import write_layered_mesh

    write_layered_mesh(tmp_path / "bilayer.msh", [("A", 1e-3, 12), ("B", 1e-3, 12)], dim=2,
                       width=5e-4, across=4)
    case = write(tmp_path, "bilayer.toml", BILAYER)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 3)
    assert assert_same_summary(serial, parallel) > 50
    assert_same_fields(serial, parallel)
    summary = json.loads((serial / "summary.json").read_text())
    assert summary["boundaries"]["right"]["flux"]["H"] > 0  # it breaks through


@pytest.mark.parametrize("change, named", [
    (('law = "sieverts", K = { pre = 4054.0', 'law = "henry", K = { pre = 4054.0'),
     "Sieverts and Henry regions"),
    (('temperature = "400 + 2e5*x + 0.5*t"', 'temperature = "400 + 0.5*t"'),
     "solubility energies that differ"),
])
def test_broken_solubility_spaces_are_refused(tmp_path, change, named):
    """What needs tied copies of interface dofs (not distributed yet): exit 2,
    one line naming the region's solubility, no folder."""
    from conftest import error_line, write_layered_mesh

    write_layered_mesh(tmp_path / "bilayer.msh", [("A", 1e-3, 4), ("B", 1e-3, 4)], dim=2,
                       width=5e-4, across=2)
    case = write(tmp_path, "bilayer.toml", BILAYER.replace(*change))
    run = femflux(case, tmp_path / "out", 2)
    assert run.returncode == 2, run.stderr
    line = error_line(run.stderr)
    assert "region.B.solubility" in line and named in line and "MPI" in line, line
    assert not (tmp_path / "out").exists()
