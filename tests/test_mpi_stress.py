"""stress-diffusion on several MPI ranks (real mpirun, PETSc, METIS) against
the serial run of the same case (tests/mpi_helpers.py): boundary fluxes and
amounts to 1e-8 relative, every gathered point field (c, u, sigma, sigma_h,
von Mises) to 1e-8 of its largest value.  The serial run is itself verified
against closed forms in tests/test_stress_diffusion.py.

The initial mechanical equilibrium is solved distributed (MUMPS, or CG with
GAMG and the rigid-body near-nullspace); the t = 0 frame of a transient run
checks it.  A free body (rigid-body multipliers) and P2 displacements are
refused (exit 2, one line naming them, nothing written)."""

from __future__ import annotations

import json

import pytest
from conftest import error_line, write, write_layered_mesh
from mpi_helpers import (
    assert_same_fields,
    assert_same_summary,
    femflux,
    pytestmark,  # noqa: F401 - skips the module without MPI
    solved,
)

PLATE = """\
title = "hydrogen in a plate clamped at xmin, bent and pulled at xmax"
[mesh]
generate = { shape = "rectangle", length = [4.0, 1.0], cells = [24, 8] }
scale = 1e-3
[model]
kind = "stress-diffusion"
temperature = 300.0
[[species]]
name = "H"
diffusivity = 1e-9
initial = 1.0
partial_molar_volume = 2.0e-6
[elasticity]
youngs_modulus = 200e9
poisson_ratio = 0.3
chemical_expansion = true
plane = "strain"
[[boundary]]
name = "xmin"
displacement = [0.0, 0.0]
concentration = { H = 1.0 }
[[boundary]]
name = "xmax"
traction = [1e8, "2e8*y/1e-3"]
[[boundary]]
name = "ymax"
concentration = { H = 3.0 }
"""

STEADY = "[solver]\nsteady = true\nnewton_rtol = 1e-12\n"
TRANSIENT = """\
[solver]
steady = false
t_end = 200.0
dt = 20.0
newton_rtol = 1e-13
[output]
every = 4
"""


def _case(tmp_path, coupling: str, solver: str):
    text = PLATE if coupling == "two-way" else PLATE.replace("chemical_expansion = true",
                                                             "chemical_expansion = false")
    return write(tmp_path, "plate.toml", text + solver)


@pytest.mark.parametrize("coupling, ranks", [("two-way", 2), ("two-way", 3),
                                             ("one-way", 3)])
def test_steady_stress_diffusion(tmp_path, coupling, ranks):
    """Steady (Newton from the distributed equilibrium): fluxes, amount and
    the fields u, sigma, sigma_h, H as in the serial run."""
    case = _case(tmp_path, coupling, STEADY)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", ranks)
    assert assert_same_summary(serial, parallel) >= 9
    assert_same_fields(serial, parallel)
    summary = json.loads((parallel / "summary.json").read_text())
    assert summary["mpi"]["ranks"] == ranks and summary["mpi"]["linear"] == "direct"
    assert summary["mpi"]["preconditioner"] == "mumps"
    assert summary["boundaries"]["xmin"]["flux"]["H"] > 1e-10  # stress drives a real flux


@pytest.mark.parametrize("coupling, ranks", [("one-way", 2), ("two-way", 3)])
def test_transient_stress_diffusion(tmp_path, coupling, ranks):
    """Adaptive BDF2, 20-odd steps: the ranks take the serial steps (the
    time-error weights are the whole body's scales); the history, the t = 0
    frame (the distributed mechanical equilibrium) and the last step agree."""
    case = _case(tmp_path, coupling, TRANSIENT)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", ranks)
    assert assert_same_summary(serial, parallel) > 150  # the history included
    steps = sorted(p.stem for p in serial.glob("step_*.vtu"))
    assert sorted(p.stem for p in parallel.glob("step_*.pvtu")) == steps
    assert_same_fields(serial, parallel, steps[0])  # t = 0: the equilibrium
    assert_same_fields(serial, parallel)


def test_iterative_field_split_3d(tmp_path):
    """3D, ``linear = "iterative"``: the equilibrium by CG + GAMG with the six
    rigid-body modes as near-nullspace, Newton by GMRES with the field split
    (u: GAMG with the modes, sigma_h: Jacobi, c: block ILU); the answer is the
    serial one to the Newton tolerance."""
    text = PLATE.replace("rectangle", "box").replace(
        "length = [4.0, 1.0], cells = [24, 8]", "length = [4.0, 1.0, 1.0], cells = [8, 3, 3]") \
        .replace("[0.0, 0.0]", "[0.0, 0.0, 0.0]").replace(
        'traction = [1e8, "2e8*y/1e-3"]', 'traction = [1e8, "2e8*y/1e-3", 5e7]') \
        .replace('plane = "strain"\n', "")
    case = write(tmp_path, "bar.toml", text + STEADY + 'linear = "iterative"\n')
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 2)
    assert_same_summary(serial, parallel)
    assert_same_fields(serial, parallel)
    assert json.loads((parallel / "summary.json").read_text())["mpi"]["linear"] == "iterative"


@pytest.mark.parametrize("change, named", [
    # u_y = 0 on xmin only: the body may slide along x (serial: a zero-mean border)
    (("displacement = [0.0, 0.0]", 'displacement = ["free", 0.0]'), "x translation"),
    (("[solver]\n", "[solver]\ndisplacement_degree = 2\n"), "solver.displacement_degree"),
])
def test_not_yet_distributed_stress_input(tmp_path, change, named):
    """A free elastic body (rigid-body multipliers) and P2 displacements:
    exit 2, one line naming them, nothing written."""
    case = write(tmp_path, "plate.toml", (PLATE + STEADY).replace(*change))
    out = tmp_path / "out"
    run = femflux(case, out, 2)
    assert run.returncode == 2, run.stderr
    line = error_line(run.stderr)
    assert named in line and "MPI" in line, line
    assert run.stderr.count("femflux: error:") == 1
    assert not out.exists()


IONS = """\
title = "ions in a stressed polymer plate: Poisson, elasticity, K+ swelling"
[mesh]
generate = { shape = "rectangle", length = [4.0, 1.0], cells = [24, 8] }
scale = 1e-6
[model]
kind = "stress-diffusion"
temperature = 300.0
[[species]]
name = "K"
charge = 1
diffusivity = 1e-9
initial = 10.0
partial_molar_volume = 2.0e-5
[[species]]
name = "Cl"
charge = -1
diffusivity = 2e-9
initial = 10.0
[electrostatics]
relative_permittivity = 10.0
[elasticity]
youngs_modulus = 1e9
poisson_ratio = 0.3
chemical_expansion = true
plane = "strain"
[[boundary]]
name = "xmin"
displacement = [0.0, 0.0]
concentration = { K = 10.0, Cl = 10.0 }
potential = 0.0
[[boundary]]
name = "xmax"
traction = [1e6, "2e6*y/1e-6"]
concentration = { K = 20.0, Cl = 20.0 }
potential = 0.02
[solver]
steady = false
t_end = 4e-4
dt = 2e-5
adaptive = false
newton_rtol = 1e-13
[output]
every = 5
"""


def test_stress_diffusion_with_poisson(tmp_path):
    """[electrostatics] + [elasticity] (two drift terms, phi, sigma_h and u
    unknowns at every node), 20 fixed BDF steps on 3 ranks."""
    case = write(tmp_path, "ions.toml", IONS)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 3)
    assert assert_same_summary(serial, parallel) > 300
    assert_same_fields(serial, parallel)
    current = json.loads((parallel / "summary.json").read_text())["boundaries"]["xmax"]
    assert abs(current["current"]) > 0


PARTICLE = """\
title = "spherical particle (1D): lithium insertion at a constant flux, two-way"
[mesh]
generate = { shape = "interval", length = [5.0], cells = [40] }
scale = 1e-6
symmetry = "spherical"
[model]
kind = "stress-diffusion"
temperature = 298.15
[[species]]
name = "Li"
diffusivity = 7.08e-15
initial = 0.0
partial_molar_volume = 3.497e-6
[elasticity]
youngs_modulus = 10.0e9
poisson_ratio = 0.3
chemical_expansion = true
[[boundary]]
name = "xmax"
inward_flux = { Li = 7.6e-6 }
[solver]
steady = false
t_end = 300.0
dt = 1.0
newton_rtol = 1e-13
"""


def test_spherical_particle_from_zero(tmp_path):
    """1D spherical (two hoop strains, no rigid-body mode), Li starting at 0:
    its scale is the whole particle's g R / D as in the serial run (not
    c_ref), so the ranks take the serial adaptive steps.  The final
    fields agree to 1e-8; the history to 2e-6 only: Newton's residual scales
    are per-rank medians, so Newton stops at other iterates within its
    tolerance and the late step sizes carry that (measured 8e-7)."""
    case = write(tmp_path, "particle.toml", PARTICLE)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 2)
    assert_same_summary(serial, parallel, rtol=2e-6)
    assert_same_fields(serial, parallel)
    steps = [json.loads((f / "summary.json").read_text())["steps"] for f in (serial, parallel)]
    assert steps[0] == steps[1]


BILAYER = """\
title = "a soft layer on a stiff one: per-region E, nu and D, a pressure load"
[mesh]
file = "bilayer.msh"
[model]
kind = "stress-diffusion"
temperature = 300.0
[[species]]
name = "H"
diffusivity = 1e-9
initial = 1.0
partial_molar_volume = 2.0e-6
[elasticity]
youngs_modulus = 200e9
poisson_ratio = 0.3
chemical_expansion = true
plane = "stress"
[[region]]
name = "soft"
youngs_modulus = 20e9
poisson_ratio = 0.42
diffusivity = { H = 3e-10 }
[[boundary]]
name = "left"
displacement = [0.0, 0.0]
concentration = { H = 2.0 }
[[boundary]]
name = "right"
pressure = 5e7
concentration = { H = 0.5 }
""" + STEADY


def test_regions_and_pressure(tmp_path):
    """Two regions (E, nu, D per region), plane stress, a pressure load, steady on 3 ranks."""
    write_layered_mesh(tmp_path / "bilayer.msh", [("stiff", 1e-3, 12), ("soft", 1e-3, 12)],
                       dim=2, width=5e-4, across=6)
    case = write(tmp_path, "bilayer.toml", BILAYER)
    serial = solved(case, tmp_path / "serial")
    parallel = solved(case, tmp_path / "parallel", 3)
    assert assert_same_summary(serial, parallel) >= 8
    assert_same_fields(serial, parallel)
