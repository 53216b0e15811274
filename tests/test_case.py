"""The case-file layer: load_case, overrides, validation, warnings, expressions."""

from __future__ import annotations

import copy
import pickle
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import skfem
from conftest import SPEC_EXAMPLE
from scipy.constants import R

from femflux.case import (
    Elasticity,
    Electrostatics,
    Expression,
    OutputSpec,
    SolverSpec,
    Thermo,
    check_against_mesh,
    evaluate,
    is_expression,
    load_case,
)
from femflux.errors import CaseError
from femflux.mesh import FemMesh

# ---------------------------------------------------------------------------
# Small cases to vary
# ---------------------------------------------------------------------------


def diffusion(**sections) -> dict:
    """A valid diffusion case on a generated rectangle."""
    data = {
        "mesh": {"generate": {"shape": "rectangle", "length": [1.0, 1.0], "cells": [2, 2]}},
        "model": {"kind": "diffusion"},
        "species": [{"name": "A", "diffusivity": 1e-9}, {"name": "B", "diffusivity": 2e-9}],
        "boundary": [{"name": "xmin", "concentration": {"A": 1.0}}],
    }
    data.update(sections)
    return data


def npp(**sections) -> dict:
    """A valid nernst-planck-poisson case (the SPEC example)."""
    data = tomllib.loads(SPEC_EXAMPLE)
    data.update(sections)
    return data


def stress(**sections) -> dict:
    data = diffusion(model={"kind": "stress-diffusion"})
    data["species"] = [{"name": "H", "diffusivity": 1e-9, "partial_molar_volume": 2e-6}]
    data["boundary"] = [{"name": "xmin", "displacement": [0.0, 0.0]}]
    data.update(sections)
    return data


def onsager(transport=None, **sections) -> dict:
    data = diffusion(model={"kind": "onsager"})
    if transport is None:
        transport = {"onsager": [[1e-15, 0.0], [0.0, 2e-15]]}
    data["transport"] = transport
    data["species"] = [{"name": "A"}, {"name": "B"}]
    data.update(sections)
    return data


def fails(data, *fragments, overrides=None) -> str:
    """load_case must raise a one-line CaseError containing every fragment."""
    with pytest.raises(CaseError) as info:
        load_case(data, overrides)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------------------
# Loading and defaults
# ---------------------------------------------------------------------------


def test_spec_example_from_file(tmp_path):
    path = tmp_path / "kcl.toml"
    path.write_text(SPEC_EXAMPLE)
    case = load_case(path)
    assert case.path == path.resolve()
    assert case.title.startswith("KCl")
    assert case.model.kind == "nernst-planck-poisson"
    assert [s.name for s in case.species] == ["K", "Cl"]
    assert case.species[1].charge == -1 and case.species[1].diffusivity == 2.03e-9
    assert case.boundaries[1].concentration == {"K": 1.0, "Cl": 1.0}
    assert case.boundaries[1].potential == 0.025
    assert case.mesh.generate.cells == [400] and case.mesh.generate.origin == [0.0]
    assert case.mesh.dim == 1
    assert case.warnings == []
    assert case.raw == tomllib.loads(SPEC_EXAMPLE)


def test_defaults_are_those_of_the_spec():
    case = load_case(diffusion())
    assert case.title == ""
    assert case.mesh.scale == 1.0 and not case.mesh.axisymmetric
    assert case.mesh.symmetry == "planar" and case.mesh.generate.cell == "simplex"
    assert case.model.temperature == 298.15 and case.model.reference_concentration == 1000.0
    a = case.species[0]
    assert (a.charge, a.initial, a.regions, a.activity_coefficient) == (0, 0.0, [], 1.0)
    assert (a.partial_molar_volume, a.standard_potential, a.mobility) == (0.0, 0.0, None)
    assert case.solver == SolverSpec()
    assert SolverSpec() == SolverSpec(True, 1.0, 1e-3, True, "bdf2", 1, 1, 1e-10, 1e-12, 50, "auto")
    assert case.output == OutputSpec("", 1, [])
    assert case.electrostatics is case.elasticity is case.thermo is case.transport is None
    assert load_case(npp()).electrostatics == Electrostatics(78.5, False)
    elasticity = load_case(stress()).elasticity
    assert elasticity == Elasticity(200e9, 0.3, True, {"H": 0.0}, "strain")
    on = load_case(onsager())
    assert on.thermo == Thermo() and on.reference_concentration == 1000.0


def test_mobility_gives_diffusivity():
    data = diffusion(model={"kind": "diffusion", "temperature": 300.0})
    data["species"][0] = {"name": "A", "mobility": 1e-12}
    species = load_case(data).species[0]
    assert species.mobility == 1e-12
    assert species.diffusivity == pytest.approx(1e-12 * R * 300.0)


def test_mesh_file_is_relative_to_the_case_file(tmp_path):
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "m.msh").write_text("")
    (tmp_path / "cases").mkdir()
    text = SPEC_EXAMPLE.replace(
        'generate = { shape = "interval", length = [1.0e-6], cells = [400] }',
        'file = "../meshes/m.msh"',
    )
    (tmp_path / "cases" / "c.toml").write_text(text)
    case = load_case(tmp_path / "cases" / "c.toml")
    assert case.mesh.file == (tmp_path / "meshes" / "m.msh").resolve()
    assert Path(case.raw["mesh"]["file"]).is_absolute()
    fails(tmp_path / "cases" / "c.toml", "[mesh] file", "other.msh", "not found",
          overrides=["mesh.file=other.msh"])


def test_dict_mesh_file_is_relative_to_cwd(tmp_cwd):
    (tmp_cwd / "m.msh").write_text("")
    data = diffusion(mesh={"file": "m.msh"})
    assert load_case(data).mesh.file == (tmp_cwd / "m.msh").resolve()


def test_unreadable_sources(tmp_path):
    fails(tmp_path / "missing.toml", "missing.toml", "not found")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nkind = 1")
    fails(bad, "bad.toml", "not valid TOML")


def test_expressions_in_the_case():
    data = diffusion()
    data["species"][0]["initial"] = "10 + 5*tanh(x/1e-8)"
    data["boundary"][0]["concentration"]["A"] = "1 + sin(2*pi*t)"
    data["boundary"].append({"name": "xmax", "inward_flux": {"A": "2*3"}})
    case = load_case(data)
    assert is_expression(case.species[0].initial)
    assert case.boundaries[0].concentration["A"].depends_on_time
    assert case.boundaries[1].inward_flux["A"] == 6.0  # constant expressions become numbers
    fails(diffusion(), "species 'A': initial must not depend on t",
          overrides={"species.A.initial": "1 + t"})
    # temperature: a number, or an expression of t (kind diffusion: also of x, y, z)
    assert load_case(diffusion(), overrides={"model.temperature": "300"}).model.temperature \
        == 300.0
    ramp = load_case(diffusion(), overrides={"model.temperature": "300 + 2*t"}).model
    assert ramp.temperature == 300.0 and ramp.temperature_at(10.0) == 320.0
    spatial = load_case(diffusion(), overrides={"model.temperature": "300 + x"}).model
    assert spatial.temperature_spatial and not ramp.temperature_spatial
    fails(diffusion(), "[model] temperature", "q", overrides={"model.temperature": "300 + q"})
    fails(diffusion(), "[model] temperature", "must be > 0",
          overrides={"model.temperature": "t - 1"})
    fails(diffusion(), "boundary 'xmin': concentration.A", "expression 'open(1)'",
          overrides={"boundary.xmin.concentration.A": "open(1)"})


# ---------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------


def test_overrides_as_toml_strings():
    data = npp()
    before = copy.deepcopy(data)
    case = load_case(data, [
        "solver.steady=false", "solver.t_end=2.0", "boundary.xmax.potential=0.1",
        "species.K.diffusivity=2e-9", "output.times=[0.5, 1.0]", "title=other",
        "boundary.xmin.potential=0.05*sin(2*pi*t)",
    ])
    assert data == before  # the caller's dict is not changed
    assert case.transient and case.solver.t_end == 2.0
    assert case.boundaries[1].potential == 0.1
    assert case.species_by_name("K").diffusivity == 2e-9
    assert case.output.times == [0.5, 1.0] and case.title == "other"
    assert case.boundaries[0].potential.text == "0.05*sin(2*pi*t)"
    assert case.raw["solver"] == {"steady": False, "t_end": 2.0}
    assert case.raw["boundary"][1]["potential"] == 0.1


def test_overrides_as_dict_and_by_index():
    data = diffusion(reaction=[{"equation": "A => B", "forward": 1.0}])
    case = load_case(data, {"reaction.0.forward": 3.0, "species.B.initial": np.float64(2.0)})
    assert case.reactions[0].forward == 3.0 and case.species[1].initial == 2.0
    assert isinstance(case.raw["species"][1]["initial"], float)
    case = load_case(data, {"electrostatics.relative_permittivity": 2.0, "model.kind":
                            "nernst-planck-poisson"})
    assert case.electrostatics.relative_permittivity == 2.0


def test_override_alternatives_and_removal():
    data = diffusion()
    data["species"][0] = {"name": "A", "mobility": 1e-12}
    assert load_case(data, ["species.A.diffusivity=3e-9"]).species[0].mobility is None
    case = load_case(diffusion(), {"boundary.xmin.concentration": None})
    assert case.boundaries[0].concentration == {}


@pytest.mark.parametrize(
    "override, fragments",
    [
        ("boundary.right.potential=0.1", ["'boundary.right.potential'", "no [[boundary]] named",
                                          "xmin"]),
        ("species.Na.diffusivity=1e-9", ["no [[species]] named 'Na'"]),
        ("region.gel.fixed_charge=1", ["no [[region]] named 'gel'", "none"]),
        ("reaction.0.forward=1", ["no [[reaction]] number 0"]),
        ("solver.tend=2", ["unknown key 'solver.tend'", "did you mean 't_end'"]),
        ("solvers.t_end=2", ["unknown key 'solvers'", "did you mean 'solver'"]),
        ("species.A.diffusivty=2", ["unknown key 'species.A.diffusivty'", "'diffusivity'"]),
        ("species.A=2", ["must name a key of the entry"]),
        ("mesh.generate.shape.x=2", ["'shape' is not a table"]),
        ("solver.t_end", ["must read KEY=VALUE"]),
    ],
)
def test_bad_overrides(override, fragments):
    fails(diffusion(), *fragments, overrides=[override])


# ---------------------------------------------------------------------------
# Unknown keys, types and ranges
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, fragments",
    [
        ("titel", "x", ["unknown key 'titel'", "did you mean 'title'"]),
        ("solvers", {"steady": True}, ["unknown section '[solvers]'", "'[solver]'"]),
        ("boundaries", [{"name": "x"}], ["unknown section '[[boundaries]]'", "'[[boundary]]'"]),
        ("mesh.generate.lenght", [1.0, 1.0], ["unknown key 'mesh.generate.lenght'",
                                              "'length'"]),
        ("model.temprature", 300, ["unknown key 'model.temprature'", "'temperature'"]),
        ("species.A.charg", 1, ["unknown key 'species.A.charg'", "'charge'"]),
        ("boundary.xmin.mass_transfer", {"A": {"coef": 1, "bulk": 1}},
         ["unknown key 'boundary.xmin.mass_transfer.A.coef'", "'coefficient'"]),
        ("output.evry", 2, ["unknown key 'output.evry'", "'every'"]),
    ],
)
def test_unknown_keys(key, value, fragments):
    if "." in key:
        fails(diffusion(), *fragments, overrides={key: value})
    else:
        fails(diffusion(**{key: value}), *fragments)


@pytest.mark.parametrize(
    "key, value, fragments",
    [
        ("model.temperature", 0.0, ["[model] temperature must be > 0 (got 0.0)"]),
        ("model.reference_concentration", -1, ["reference_concentration must be > 0"]),
        ("model.kind", "difusion", ["[model] kind must be one of", "did you mean 'diffusion'"]),
        ("mesh.scale", 0, ["[mesh] scale must be > 0"]),
        ("mesh.symmetry", "polar", ["[mesh] symmetry must be one of planar"]),
        ("mesh.axisymmetric", 1, ["[mesh] axisymmetric must be true or false (got 1)"]),
        ("mesh.generate.shape", "cube", ["[mesh] generate.shape must be one of"]),
        ("mesh.generate.length", [1.0], ["generate.length needs 2 entries", "'rectangle'"]),
        ("mesh.generate.cells", [2, 0], ["generate.cells[1] must be >= 1 (got 0)"]),
        ("mesh.generate.cells", [2, 1.5], ["generate.cells[1] must be an integer"]),
        ("mesh.generate.origin", [0, 0, 0], ["generate.origin needs 2 entries"]),
        ("mesh.generate.length", [1.0, -1.0], ["generate.length[1] must be > 0"]),
        ("mesh.generate.cell", "hex", ["generate.cell must be one of simplex | quad"]),
        ("species.A.diffusivity", -1e-9, ["species 'A': diffusivity must be >= 0 (got -1e-09)"]),
        ("species.A.charge", 0.5, ["species 'A': charge must be an integer (got 0.5)"]),
        ("species.A.initial", -1.0, ["species 'A': initial must be >= 0"]),
        ("species.A.activity_coefficient", 0, ["activity_coefficient must be > 0"]),
        ("species.A.regions", "domain", ["species 'A': regions must be a list"]),
        ("species.A.regions", ["domain", "domain"], ["lists a name twice"]),
        ("species.A.diffusivity", float("nan"), ["diffusivity must be finite"]),
        ("solver.dt", -1.0, ["[solver] dt must be > 0"]),
        ("solver.t_end", 0, ["[solver] t_end must be > 0"]),
        ("solver.degree", 3, ["[solver] degree must be 1 or 2 (got 3)"]),
        ("solver.displacement_degree", 0, ["displacement_degree must be 1 or 2"]),
        ("solver.scheme", "bdf3", ["[solver] scheme must be one of bdf1 | bdf2"]),
        ("solver.linear", "lu", ["[solver] linear must be one of auto | direct | iterative"]),
        ("solver.max_newton", 0, ["max_newton must be >= 1"]),
        ("solver.steady", "yes", ["[solver] steady must be true or false (got string 'yes')"]),
        ("output.every", 0, ["[output] every must be >= 1"]),
        ("output.times", 1.0, ["[output] times must be a list"]),
        ("title", 3, ["title must be a string (got 3)"]),
        ("boundary.xmin.concentration.A", -1.0, ["boundary 'xmin': concentration.A must be >= 0"]),
        ("boundary.xmin.concentration", 1.0, ["boundary 'xmin': concentration must be a table"]),
    ],
)
def test_types_and_ranges(key, value, fragments):
    fails(diffusion(), *fragments, overrides={key: value})


@pytest.mark.parametrize(
    "key, value, fragments",
    [
        ("elasticity.poisson_ratio", 0.5, ["[elasticity] poisson_ratio must be in (-1, 0.5)"]),
        ("elasticity.poisson_ratio", -1, ["poisson_ratio must be in (-1, 0.5) (got -1)"]),
        ("elasticity.youngs_modulus", 0.0, ["[elasticity] youngs_modulus must be > 0"]),
        ("elasticity.plane", "membrane", ["[elasticity] plane must be one of strain | stress"]),
        ("elasticity.stress_free_concentration", {"X": 1.0}, ["names unknown species 'X'"]),
        ("elasticity.stress_free_concentration", -1.0, ["stress_free_concentration must be >="]),
        ("boundary.xmin.displacement", [0.0], ["displacement needs 2 entries"]),
        ("boundary", [{"name": "xmax", "traction": [0.0, 1.0, 2.0]}],
         ["boundary 'xmax': traction needs 2 entries"]),
        ("boundary.xmin.displacement", ["free", "free"], ["leaves every component free"]),
        ("region", [{"name": "domain", "poisson_ratio": 0.7}], ["region 'domain': poisson_ratio"]),
    ],
)
def test_stress_diffusion_values(key, value, fragments):
    fails(stress(), *fragments, overrides={key: value})


@pytest.mark.parametrize(
    "key, value, fragments",
    [
        ("electrostatics.relative_permittivity", 0, ["relative_permittivity must be > 0"]),
        ("boundary.xmin.stern_capacitance", -0.2, ["stern_capacitance must be > 0"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 1, "exchange_current": 1,
                                         "alpha": 1.0, "stern_capacitance": 1},
         ["unknown key 'boundary.xmin.butler_volmer.stern_capacitance'"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 1, "exchange_current": 1,
                                         "alpha": 1.0},
         ["boundary 'xmin': butler_volmer.alpha must be in (0, 1)"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 0, "exchange_current": 1},
         ["butler_volmer.electrons must be > 0"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 1},
         ["butler_volmer.exchange_current is required"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 1,
                                         "exchange_current": {"pre": 0.0, "energy": 1e4}},
         ["butler_volmer.exchange_current", "must be finite, > 0"]),
        ("boundary.xmin.butler_volmer", {"species": "K", "electrons": 1,
                                         "exchange_current": {"pre": 1.0, "enrgy": 1e4}},
         ["unknown key", "exchange_current.enrgy"]),
        ("boundary.xmin.applied_current", "x*t", ["applied_current", "unknown name 'x'"]),
    ],
)
def test_nernst_planck_values(key, value, fragments):
    fails(npp(), *fragments, overrides={key: value})


def test_required_pieces():
    fails({"mesh": diffusion()["mesh"]}, "[model] is required")
    fails(diffusion(model={}), "[model] kind is required")
    data = diffusion()
    del data["mesh"]
    fails(data, "[mesh] is required")
    fails(diffusion(mesh={"scale": 2.0}), "[mesh] needs exactly one of file or generate")
    fails(diffusion(species=[]), "at least one [[species]]")
    fails(diffusion(species={"name": "A"}), "write [[species]]")
    fails(diffusion(boundary=[{"concentration": {"A": 1}}]), "[[boundary]] entry 1 has no name")
    fails(diffusion(species=[{"name": "A"}]), "species 'A': diffusivity (or mobility) is required")
    fails(diffusion(), "species 'A': give diffusivity or mobility, not both",
          overrides={"species": [{"name": "A", "diffusivity": 1.0, "mobility": 1.0}]})
    fails(diffusion(), "[mesh] generate.shape is required",
          overrides={"mesh.generate": {"length": [1.0], "cells": [2]}})


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fragment",
    [("2K", "is not valid"), ("K+", "is not valid"), ("t", "is reserved"),
     ("pi", "is reserved"), ("region", "is reserved")],
)
def test_bad_species_names(name, fragment):
    fails(diffusion(species=[{"name": name, "diffusivity": 1e-9}], boundary=[]),
          f"species name {name!r}", fragment)


def test_names_are_refused_only_where_they_would_be_ambiguous():
    """Tritium "T" (and phi, sigma_h, R) are species names in a diffusion
    case; phi is refused with [electrostatics], sigma_h with [elasticity],
    T and R where [thermo] free_energy uses them."""
    for name in ("T", "R", "F", "phi", "sigma_h"):
        case = load_case(diffusion(species=[{"name": name, "diffusivity": 1e-9}],
                                   boundary=[]))
        assert case.species[0].name == name
    species = [{"name": "phi", "charge": 1, "diffusivity": 1e-9},
               {"name": "Cl", "charge": -1, "diffusivity": 1e-9}]
    fails({"mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
           "model": {"kind": "nernst-planck-poisson"}, "species": species},
          "species name 'phi' is reserved in this case", "[electrostatics]")
    fails({"mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
           "model": {"kind": "stress-diffusion"},
           "species": [{"name": "sigma_h", "diffusivity": 1e-9}]},
          "species name 'sigma_h' is reserved in this case", "[elasticity]")
    fails({"mesh": {"generate": {"shape": "interval", "length": [1.0], "cells": [4]}},
           "model": {"kind": "onsager"},
           "species": [{"name": "T", "diffusivity": 1e-9}, {"name": "B", "diffusivity": 1e-9}],
           "thermo": {"model": "expression", "free_energy": "R*T*(T*log(T) + B*log(B))"},
           "transport": {"onsager": "einstein"}},
          "species name 'T' is reserved in this case", "free_energy")


def test_duplicate_and_clashing_names():
    twice = [{"name": "A", "diffusivity": 1.0}] * 2
    fails(diffusion(species=twice), "species 'A' is defined twice")
    fails(diffusion(boundary=[{"name": "xmin"}] * 2), "boundary 'xmin' is defined twice")
    species = [{"name": "K", "diffusivity": 1.0}, {"name": "mu_K", "diffusivity": 1.0}]
    fails(diffusion(species=species, boundary=[]), "'mu_K' clashes with the output array")


@pytest.mark.parametrize(
    "key, value",
    [
        ("boundary.xmin.concentration", {"Q": 1.0}),
        ("boundary.xmin.inward_flux", {"Q": 1.0}),
        ("boundary.xmin.mass_transfer", {"Q": {"coefficient": 1.0, "bulk": 1.0}}),
        ("region", [{"name": "domain", "diffusivity": {"Q": 1.0}}]),
        ("region", [{"name": "domain", "initial": {"Q": 1.0}}]),
        ("region", [{"name": "domain", "activity_coefficient": {"Q": 1.0}}]),
        ("reaction", [{"equation": "A + Q => B", "forward": 1.0}]),
    ],
)
def test_unknown_species_references(key, value):
    fails(diffusion(), "'Q'", "species: A, B", overrides={key: value})


def test_unknown_species_in_model_sections():
    bv = {"species": "Na", "electrons": 1, "exchange_current": 1.0}
    fails(npp(), "butler_volmer.species names unknown species 'Na'",
          overrides={"boundary.xmin.butler_volmer": bv})
    fails(onsager(thermo={"model": "regular", "interactions": {"A-Q": 1.0}}),
          "[thermo] interactions key 'A-Q' names unknown species 'Q'")


def test_generated_mesh_names():
    fails(diffusion(boundary=[{"name": "left"}]), "boundary 'left' is not in the generated mesh",
          "available: xmax, xmin, ymax, ymin")
    fails(diffusion(region=[{"name": "gel"}]), "region 'gel' is not in the generated mesh",
          "available: domain")
    fails(diffusion(), "species 'A': region 'gel'", overrides={"species.A.regions": ["gel"]})
    data = diffusion(reaction=[{"equation": "A => B", "forward": 1.0, "regions": ["gel"]}])
    fails(data, "reaction 0: region 'gel'")


def test_generated_mesh_geometry():
    gen = {"shape": "interval", "length": [1.0], "cells": [4]}
    fails(diffusion(mesh={"generate": gen, "axisymmetric": True}, boundary=[]),
          "axisymmetric needs a 2D mesh")
    fails(diffusion(boundary=[]), "symmetry = 'spherical' needs a 1D mesh",
          overrides={"mesh.symmetry": "spherical"})
    fails(diffusion(mesh={"generate": {**gen, "origin": [-1.0]}, "symmetry": "cylindrical"},
                    boundary=[]), "origin[0] must be >= 0")
    assert load_case(diffusion(mesh={"generate": gen, "symmetry": "spherical"})).mesh.dim == 1


# ---------------------------------------------------------------------------
# Model kinds and contradictions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, section",
    [(diffusion, "elasticity"), (diffusion, "electrostatics"), (npp, "thermo"),
     (stress, "transport"), (onsager, "electrostatics")],
)
def test_sections_of_another_model(make, section):
    fails(make(**{section: {}}), f"[{section}] is not used by model kind")


@pytest.mark.parametrize(
    "make, key, value",
    [(diffusion, "potential", 0.0), (diffusion, "surface_charge", 0.01),
     (stress, "applied_current", 1.0), (npp, "displacement", [0.0]), (npp, "pressure", 1e5)],
)
def test_boundary_keys_of_another_model(make, key, value):
    fails(make(), f"boundary 'xmin': {key} is not used by model kind",
          overrides={f"boundary.xmin.{key}": value})


def test_at_most_one_condition():
    fails(diffusion(), "boundary 'xmin' gives species 'A' both concentration and inward_flux",
          overrides={"boundary.xmin.inward_flux": {"A": 1.0}})
    mt = {"A": {"coefficient": 1e-5, "bulk": 1.0}}
    fails(diffusion(), "both concentration and mass_transfer",
          overrides={"boundary.xmin.mass_transfer": mt})
    fails(npp(), "gives both potential and surface_charge",
          overrides={"boundary.xmin.surface_charge": 0.01})
    fails(npp(), "gives both potential and applied_current",
          overrides={"boundary.xmin.applied_current": 1.0})
    bv = {"species": "K", "electrons": 1, "exchange_current": 1.0}
    fails(npp(), "species 'K' both concentration and butler_volmer",
          overrides={"boundary.xmin.butler_volmer": bv, "boundary.xmin.stern_capacitance": 0.2})


def test_mechanical_exclusions():
    fails(stress(), "both displacement and traction for component 0",
          overrides={"boundary.xmin.traction": [1.0, "free"]})
    fails(stress(), "both pressure and displacement component 0",
          overrides={"boundary.xmin.pressure": 1e5})
    fails(stress(), "both pressure and traction",
          overrides={"boundary.xmin.displacement": None, "boundary.xmin.pressure": 1.0,
                     "boundary.xmin.traction": [1.0, 1.0]})
    case = load_case(stress(), {"boundary.xmin.displacement": [0.0, "free"],
                                "boundary.xmin.traction": ["free", "1e6*t"]})
    b = case.boundaries[0]
    assert b.displacement == [0.0, None]
    assert b.traction[0] == 0.0 and b.traction[1].text == "1e6*t"


def test_electric_contradictions():
    neutral = {"electrostatics.electroneutral": True}
    fails(npp(), "surface_charge contradicts [electrostatics] electroneutral = true",
          overrides={**neutral, "boundary.xmin.potential": None,
                     "boundary.xmin.surface_charge": -0.02})
    fails(npp(), "stern_capacitance contradicts",
          overrides={**neutral, "boundary.xmin.stern_capacitance": 0.2})
    fails(npp(), "stern_capacitance needs potential or applied_current",
          overrides={"boundary.xmin.potential": None, "boundary.xmin.stern_capacitance": 0.2})
    uncharged = npp()
    for species in uncharged["species"]:
        species["charge"] = 0
    fails(uncharged, "electroneutral = true but no species has a charge", overrides=neutral)


def test_butler_volmer_rules():
    data = npp()
    data["boundary"][1] = {"name": "xmax", "potential": 0.1, "stern_capacitance": 0.2,
                           "butler_volmer": {"species": "K", "electrons": 1,
                                             "exchange_current": 10.0}}
    bv = load_case(data).boundaries[1].butler_volmer
    assert (bv.alpha, bv.equilibrium_potential, bv.electrons) == (0.5, 0.0, 1)
    fails(data, "electrons = 2 must equal the charge of species 'K' (1)",
          overrides={"boundary.xmax.butler_volmer.electrons": 2})
    fails(data, "butler_volmer with full Poisson needs stern_capacitance",
          overrides={"boundary.xmax.stern_capacitance": None})
    fails(data, "butler_volmer needs potential or applied_current",
          overrides={"boundary.xmax.potential": None, "boundary.xmax.stern_capacitance": None})
    case = load_case(data, {"boundary.xmax.potential": None, "boundary.xmax.applied_current":
                            "1e-3*t"})
    assert case.boundaries[1].applied_current.depends_on_time


def test_electroneutral_consistency():
    neutral = {"electrostatics.electroneutral": True}
    fails(npp(), "boundary 'xmax': concentration violates electroneutrality",
          overrides={**neutral, "boundary.xmax.concentration.K": 2.0})
    load_case(npp(), {**neutral, "boundary.xmax.concentration.K": 1.0 + 1e-12})
    region = [{"name": "domain", "fixed_charge": -5.0, "initial": {"K": 10.0, "Cl": 10.0}}]
    fails(npp(region=region), "region 'domain': initial violates electroneutrality",
          "X = -5", overrides=neutral)
    region[0]["initial"]["K"] = 15.0
    load_case(npp(region=region), neutral)  # boundaries are checked against X with the mesh


def test_onsager_transport():
    fails(onsager(transport={}), "needs exactly one of onsager or diffusivity_matrix (got neither)")
    both = {"onsager": "einstein", "diffusivity_matrix": [[1.0, 0.0], [0.0, 1.0]]}
    fails(onsager(transport=both), "(got both)")
    data = onsager()
    del data["transport"]
    fails(data, "[transport] is required for model kind 'onsager'")
    fails(onsager({"onsager": [[1.0, 0.0]]}), "[transport] onsager must be a 2 x 2 matrix",
          "(A, B)")
    fails(onsager({"onsager": [[1.0, 0.1], [0.0, 1.0]]}), "[transport] onsager must be symmetric",
          "L(A, B)")
    fails(onsager({"onsager": [[1.0, 2.0], [2.0, 1.0]]}), "onsager must be positive semi-definite")
    load_case(onsager({"onsager": [[1.0, 1.0], [1.0, 1.0 + 1e-12]]}))  # semi-definite is fine
    load_case(onsager({"onsager": [[1.0, 1e-12], [0.0, 1.0]]}))  # within the tolerance
    fails(onsager({"onsager": "eistein"}), 'must be "einstein" or a matrix')
    fails(onsager({"diffusivity_matrix": [[1.0, -1.0], [1.0, 1.0]]}), "complex eigenvalues")
    fails(onsager({"diffusivity_matrix": [[1.0, 2.0], [2.0, 1.0]]}), "negative eigenvalue")
    case = load_case(onsager({"diffusivity_matrix": [[2e-14, 5e-15], [-4e-15, 1e-14]]}))
    assert case.transport.diffusivity_matrix.shape == (2, 2)
    fails(onsager({"onsager": "einstein"}), "species 'A': diffusivity (or mobility) is required")


def test_onsager_thermo():
    thermo = {"model": "regular", "interactions": {"B-A": 8e4}}
    assert load_case(onsager(thermo=thermo)).thermo.interactions == {("A", "B"): 8e4}
    fails(onsager(thermo={"interactions": {"A-A": 1.0}}), "cannot interact with itself")
    fails(onsager(thermo={"interactions": {"A-B": 1.0, "B-A": 2.0}}), "both 'A-B' and 'B-A'")
    fails(onsager(thermo={"interactions": {"AB": 1.0}}), "key 'AB' must name two species")
    fails(onsager(thermo={"model": "expression"}), "free_energy is required")
    fails(onsager(thermo={"gradient_energy": 1e-20}),
          "boundary 'xmin': concentration cannot be imposed with [thermo] gradient_energy > 0")
    fails(onsager(thermo={"gradient_energy": -1.0}), "gradient_energy must be >= 0")
    text = "R*T*(A*log(A/1000) + B*log(B/1000)) + 1e3*A*B"
    f = load_case(onsager(thermo={"model": "expression", "free_energy": text})).thermo.free_energy
    assert f.free_symbols == {"A", "B", "R", "T"}
    assert float(f.derivative("B").subs({f.symbol("A"): 2.0, f.symbol("B"): 1000.0,
                                         f.symbol("R"): 1.0, f.symbol("T"): 1.0})) == 2001.0
    fails(onsager(thermo={"model": "expression", "free_energy": "A*x"}), "unknown name 'x'")


def test_reactions():
    data = diffusion(reaction=[{"equation": "A + 2 B <=> 3A", "forward": 1.0, "backward": 0.5}])
    reaction = load_case(data).reactions[0]
    assert reaction.reactants == {"A": 1, "B": 2} and reaction.products == {"A": 3}
    assert reaction.reversible and reaction.stoichiometry == {"A": 2, "B": -2}
    irreversible = load_case(diffusion(reaction=[{"equation": "A => ", "forward": 1.0}]))
    assert irreversible.reactions[0].products == {} and not irreversible.reactions[0].reversible
    bad = [
        ({"equation": "A = B", "forward": 1.0}, "needs one '<=>' or '=>'"),
        ({"equation": "A <=> B", "forward": 1.0}, "backward is required"),
        ({"equation": "A => B", "forward": 1.0, "backward": 1.0}, "backward is given"),
        ({"equation": "A => B"}, "forward is required"),
        ({"equation": "A => B", "forward": -1.0}, "forward must be >= 0"),
        ({"equation": "A => B*2", "forward": 1.0}, "cannot read the term 'B*2'"),
        ({"equation": "A => 0 B", "forward": 1.0}, "zero coefficient"),
    ]
    for reaction, fragment in bad:
        fails(diffusion(reaction=[reaction]), "reaction 0", fragment)
    species = [{"name": "K", "charge": 1, "diffusivity": 1.0},
               {"name": "Cl", "charge": -1, "diffusivity": 1.0}]
    data = npp(species=species, reaction=[{"equation": "K => Cl", "forward": 1.0}])
    fails(data, "reaction 0 ('K => Cl') does not balance charge: +1 on the left, -1 on the right")
    data["reaction"] = [{"equation": "K + Cl <=> ", "forward": 1.0, "backward": 1.0}]
    load_case(data)


# ---------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------


def warnings_of(data, overrides=None) -> str:
    return "\n".join(load_case(data, overrides).warnings)


def test_warnings_for_keys_without_effect():
    text = warnings_of(diffusion(region=[{"name": "domain", "fixed_charge": -1.0,
                                          "relative_permittivity": 2.0}]),
                       {"species.A.charge": 1, "species.B.partial_molar_volume": 1e-6})
    assert "species 'A': charge has no effect in model kind 'diffusion'" in text
    assert "species 'B': partial_molar_volume has no effect" in text
    assert "region 'domain': fixed_charge has no effect" in text
    assert "region 'domain': relative_permittivity has no effect" in text
    on = onsager(species=[{"name": "A", "diffusivity": 1e-9}, {"name": "B"}])
    assert "species 'A': diffusivity has no effect with a constant [transport] onsager" in (
        warnings_of(on))
    text = warnings_of(stress(elasticity={"chemical_expansion": False,
                                          "stress_free_concentration": 1.0}))
    assert "stress_free_concentration has no effect with chemical_expansion = false" in text
    text = warnings_of(diffusion(output={"every": 2, "times": [0.5]}, solver={"dt": 0.1}))
    assert "[output] every has no effect in a steady run" in text
    assert "[output] times has no effect" in text and "[solver] dt has no effect" in text
    text = warnings_of(npp(), {"electrostatics.electroneutral": True})
    assert "relative_permittivity has no effect with electroneutral = true" in text
    text = warnings_of(onsager(thermo={"interactions": {"A-B": 1.0}}))
    assert "[thermo] interactions has no effect with model = 'ideal'" in text
    text = warnings_of(diffusion(), {"boundary.xmin.concentration.A": "1 + t"})
    assert "boundary 'xmin': concentration.A depends on t, but the run is steady" in text


def test_expression_objects_in_a_dict():
    case = load_case(diffusion(), {"species.A.initial": Expression("1 + x")})
    assert case.species[0].initial == Expression("1 + x")
    assert case.raw["species"][0]["initial"] == "1 + x"


def test_transient_output_times():
    case = load_case(diffusion(solver={"steady": False, "t_end": 2.0},
                               output={"times": [1.0, 0.5, 1.0]}))
    assert case.output.times == [0.5, 1.0] and case.warnings == []
    fails(diffusion(solver={"steady": False, "t_end": 2.0}, output={"times": [3.0]}),
          "[output] times[0] must be in (0, t_end = 2]")
    fails(diffusion(solver={"steady": False, "t_end": 1e-4}), "[solver] dt must be <= t_end")


# ---------------------------------------------------------------------------
# Checks against a mesh
# ---------------------------------------------------------------------------


@pytest.fixture
def two_regions(tmp_path) -> tuple[FemMesh, str]:
    """A 2 x 1 rectangle: regions gel (x < 1) and bath; boundaries left, right, interface."""
    mesh = skfem.MeshTri.init_tensor(np.linspace(0.0, 2.0, 5), np.linspace(0.0, 1.0, 3))
    centres = mesh.p[:, mesh.t].mean(axis=1)
    facet_x = mesh.p[0, mesh.facets].mean(axis=0)
    vertical = np.isclose(mesh.p[0, mesh.facets[0]], mesh.p[0, mesh.facets[1]])
    boundaries = {name: np.nonzero(vertical & np.isclose(facet_x, x))[0]
                  for name, x in (("left", 0.0), ("interface", 1.0), ("right", 2.0))}
    regions = {"gel": np.nonzero(centres[0] < 1)[0], "bath": np.nonzero(centres[0] > 1)[0]}
    fem = FemMesh(mesh, boundaries, regions, "planar", "two.msh", ["mesh says hello"])
    (tmp_path / "two.msh").write_text("")
    return fem, str(tmp_path / "two.msh")


def on_mesh(fem, data, overrides=None):
    case = load_case(data, overrides)
    check_against_mesh(case, fem)
    return case


def test_check_against_mesh(two_regions):
    fem, path = two_regions
    data = diffusion(mesh={"file": path}, boundary=[{"name": "left",
                                                     "concentration": {"A": "1 + x"}}])
    case = on_mesh(fem, data)
    assert "mesh says hello" in case.warnings
    check_against_mesh(case, fem)
    assert case.warnings.count("mesh says hello") == 1
    cases = [
        ({"boundary.left.name": "top"}, ["boundary 'top' is not in mesh 'two.msh'",
                                         "available: interface, left, right"]),
        ({"region": [{"name": "gell"}]}, ["region 'gell' is not in mesh", "did you mean 'gel'"]),
        ({"species.A.regions": ["bath"]}, ["boundary 'left': species 'A' does not exist next"]),
        ({"species.A.regions": ["gel"], "reaction": [{"equation": "A => B", "forward": 1.0,
                                                      "regions": ["bath"]}]},
         ["reaction 0 ('A => B'): species 'A' does not exist in region 'bath'"]),
        ({"boundary.left.concentration.A": "x - 1"}, ["concentration.A = 'x - 1' must be >= 0",
                                                      "-1"]),
        ({"species.B.initial": "x - 1", "species.B.regions": ["bath"]}, []),
        ({"species.B.initial": "x - 1"}, ["species 'B': initial = 'x - 1' must be >= 0"]),
        ({"region": [{"name": "gel", "initial": {"A": "x - 0.5"}}]},
         ["region 'gel': initial.A = 'x - 0.5' must be >= 0"]),
        ({"mesh.axisymmetric": True, "mesh.generate": None, "boundary.left.concentration": {}},
         []),
        ({"mesh.symmetry": "cylindrical"}, ["symmetry = 'cylindrical' needs a 1D mesh"]),
    ]
    separate = {"species.A.regions": ["gel"], "species.B.regions": ["bath"],
                "reaction": [{"equation": "A => B", "forward": 1.0}]}
    assert "reaction 0 ('A => B') has no effect" in "".join(on_mesh(fem, data, separate).warnings)
    for overrides, fragments in cases:
        if not fragments:
            on_mesh(fem, data, overrides)
            continue
        with pytest.raises(CaseError) as info:
            on_mesh(fem, data, overrides)
        for fragment in fragments:
            assert fragment in str(info.value)


def test_check_against_mesh_vectors_and_plane(two_regions):
    fem, path = two_regions
    data = stress(mesh={"file": path}, boundary=[{"name": "left", "displacement": [0.0]}])
    with pytest.raises(CaseError, match="displacement needs 2 entries"):
        on_mesh(fem, data)
    case = on_mesh(fem, data, {"boundary.left.displacement": [0.0, 0.0]})
    assert not any("plane" in w for w in case.warnings)
    fem.mesh = skfem.MeshTri.init_tensor(np.linspace(-1.0, 1.0, 3), np.linspace(0.0, 1.0, 3))
    with pytest.raises(CaseError, match="x is the radius"):
        on_mesh(fem, data, {"boundary.left.displacement": [0.0, 0.0], "mesh.axisymmetric": True})


def test_electroneutral_boundary_against_fixed_charge(two_regions):
    fem, path = two_regions
    data = npp(mesh={"file": path}, region=[{"name": "gel", "fixed_charge": -5.0}],
               boundary=[{"name": "right", "concentration": {"K": 1.0, "Cl": 1.0}},
                         {"name": "left", "concentration": {"K": 1.0, "Cl": 1.0}}])
    neutral = {"electrostatics.electroneutral": True}
    with pytest.raises(CaseError, match="boundary 'left': concentration violates.* region 'gel'"):
        on_mesh(fem, data, neutral)
    on_mesh(fem, data, {**neutral, "boundary.left.concentration.K": 6.0})


def test_model_requirements_checked_by_the_case_layer(two_regions):
    """Input the models cannot use is rejected by load_case / check_against_mesh."""
    fem, path = two_regions
    reaction = {"equation": "A => B", "forward": 1.0, "regions": ["gel"]}
    data = diffusion(mesh={"file": path}, boundary=[], reaction=[reaction])
    with pytest.raises(CaseError, match="species 'B' does not exist in region 'gel'"):
        on_mesh(fem, data, {"species.B.regions": ["bath"]})
    on_mesh(fem, data, {"species.B.regions": ["gel"]})
    # partial_molar_volume: one value per species wherever it exists (with elasticity)
    data = stress(mesh={"file": path}, boundary=[])
    differs = "species 'H': partial_molar_volume differs between its regions (2e-06, 3e-06)"
    region = [{"name": "gel", "partial_molar_volume": {"H": 3e-6}}]
    with pytest.raises(CaseError, match=re.escape(differs)):
        on_mesh(fem, data, {"region": region})
    on_mesh(fem, data, {"region": region, "species.H.regions": ["gel"]})
    on_mesh(fem, data, {"region": region, "species.H.partial_molar_volume": 3e-6})
    on_mesh(fem, diffusion(mesh={"file": path}, boundary=[]),  # no elasticity: only a warning
            {"region": [{"name": "gel", "partial_molar_volume": {"A": 3e-6}}]})
    # onsager: every species everywhere, gamma = 1
    data = onsager(mesh={"file": path}, boundary=[])
    with pytest.raises(CaseError, match="onsager: species 'B' is restricted to some regions"):
        on_mesh(fem, data, {"species.B.regions": ["gel"]})
    on_mesh(fem, data, {"species.B.regions": ["bath", "gel"]})
    fails(onsager(), "onsager: species 'A': activity_coefficient must be 1 (non-ideality goes "
          "into [thermo]); got 0.5", overrides={"species.A.activity_coefficient": 0.5})
    fails(onsager(region=[{"name": "domain", "activity_coefficient": {"B": 2.0}}]),
          "species 'B': activity_coefficient must be 1", "got 2 in region 'domain'")


# ---------------------------------------------------------------------------
# Combined physics, gravity (SPEC section 6)
# ---------------------------------------------------------------------------


def test_presets_have_their_own_physics():
    for data, electrostatics, elasticity in [
        (diffusion(), False, False), (onsager(), False, False), (npp(), True, False),
        (stress(), False, True), (npp(elasticity={}), True, True),
        (stress(electrostatics={}), True, True),
    ]:
        case = load_case(data)
        assert (case.has_electrostatics, case.has_elasticity) == (electrostatics, elasticity)
        assert (case.electrostatics is not None, case.elasticity is not None) == (
            electrostatics, elasticity)
    fails(onsager(elasticity={}), "[elasticity] is not used by model kind 'onsager'")
    fails(diffusion(), "[electrostatics] is not used by model kind 'diffusion'",
          overrides=["electrostatics.electroneutral=true"])


def test_nernst_planck_with_elasticity():
    data = npp(elasticity={"youngs_modulus": 70e9})
    data["boundary"][0]["displacement"] = [0.0]
    data["species"][0]["partial_molar_volume"] = 2e-6
    case = load_case(data, ["region=[{name = 'domain', poisson_ratio = 0.25}]",
                            "solver.displacement_degree=2"])
    assert case.elasticity == Elasticity(70e9, 0.3, True, {"K": 0.0, "Cl": 0.0}, "strain")
    assert case.boundaries[0].displacement == [0.0] and case.boundaries[0].potential == 0.0
    assert case.warnings == []
    text = warnings_of(npp(elasticity={}))
    assert "every partial_molar_volume is 0" in text
    # without [elasticity] the mechanical keys say what is missing
    fails(npp(), "boundary 'xmin': displacement is not used by model kind "
          "'nernst-planck-poisson' without [elasticity]",
          overrides={"boundary.xmin.displacement": [0.0]})
    text = warnings_of(npp(), {"species.K.partial_molar_volume": 1e-6,
                               "solver.displacement_degree": 2,
                               "region": [{"name": "domain", "youngs_modulus": 1e9}]})
    assert ("species 'K': partial_molar_volume has no effect in model kind "
            "'nernst-planck-poisson' without [elasticity]") in text
    assert "displacement_degree has no effect in model kind 'nernst-planck-poisson' without" in (
        text)
    assert "region 'domain': youngs_modulus has no effect" in text
    # --set adds the section
    assert load_case(npp(), ["elasticity.plane='stress'"]).has_elasticity


def test_stress_diffusion_with_electrostatics():
    data = stress(electrostatics={"relative_permittivity": 10.0})
    data["species"] = [{"name": "Li", "charge": 1, "diffusivity": 1e-14,
                        "partial_molar_volume": 3e-6},
                       {"name": "X", "charge": -1, "diffusivity": 1e-14}]
    data["boundary"].append({"name": "xmax", "potential": 0.1, "concentration": {"Li": 1.0}})
    data["region"] = [{"name": "domain", "fixed_charge": -1.0, "relative_permittivity": 5.0}]
    case = load_case(data)
    assert case.electrostatics == Electrostatics(10.0, False)
    assert case.boundaries[1].potential == 0.1 and case.warnings == []
    # the electric rules of nernst-planck-poisson apply
    fails(data, "surface_charge contradicts [electrostatics] electroneutral = true",
          overrides={"electrostatics.electroneutral": True, "boundary.xmax.potential": None,
                     "boundary.xmax.surface_charge": 0.01})
    fails(data, "region 'domain': initial violates electroneutrality",
          overrides={"electrostatics.electroneutral": True,
                     "region.domain.initial": {"Li": 1.0, "X": 1.0}})
    bv = {"species": "Li", "electrons": 1, "exchange_current": 1.0}
    fails(data, "butler_volmer with full Poisson needs stern_capacitance",
          overrides={"boundary.xmax.concentration": None, "boundary.xmax.butler_volmer": bv})
    # without [electrostatics]: keys of the electric physics
    del data["electrostatics"]
    message = fails(data, "boundary 'xmax': potential is not used by model kind "
                    "'stress-diffusion' without [electrostatics]")
    assert message.startswith("boundary 'xmax': potential")
    data["boundary"][1].pop("potential")
    text = warnings_of(data)
    assert ("species 'Li': charge has no effect in model kind 'stress-diffusion' without "
            "[electrostatics]") in text
    assert "region 'domain': fixed_charge has no effect in model kind 'stress-diffusion'" in text
    assert "relative_permittivity has no effect" in text
    assert load_case(data, ["electrostatics.relative_permittivity=2.0"]).has_electrostatics


def test_combined_physics_against_the_mesh(two_regions):
    fem, path = two_regions
    data = stress(mesh={"file": path}, electrostatics={"electroneutral": True},
                  region=[{"name": "gel", "fixed_charge": -5.0}],
                  boundary=[{"name": "left", "concentration": {"K": 1.0, "Cl": 1.0}}])
    data["species"] = [{"name": "K", "charge": 1, "diffusivity": 1e-9},
                       {"name": "Cl", "charge": -1, "diffusivity": 1e-9}]
    with pytest.raises(CaseError, match="boundary 'left': concentration violates.* region 'gel'"):
        on_mesh(fem, data)
    on_mesh(fem, data, {"boundary.left.concentration.K": 6.0})
    data = npp(mesh={"file": path}, elasticity={}, boundary=[],
               region=[{"name": "bath", "partial_molar_volume": {"K": 1e-6}}])
    with pytest.raises(CaseError, match="species 'K': partial_molar_volume differs"):
        on_mesh(fem, data)
    del data["elasticity"]
    on_mesh(fem, data)


def test_gravity_and_molar_mass():
    case = load_case(diffusion())
    assert case.model.gravity is None and case.species[0].molar_mass == 0.0
    case = load_case(diffusion(), ["model.gravity=[0,-9.81]", "species.A.molar_mass=0.1"])
    assert case.model.gravity == [0.0, -9.81] and case.species[0].molar_mass == 0.1
    assert case.raw["model"]["gravity"] == [0, -9.81] and case.warnings == []
    case = load_case(stress(model={"kind": "stress-diffusion", "gravity": [0.0, -9.81]}),
                     {"species.H.molar_mass": 1e-3})
    assert case.model.gravity == [0.0, -9.81] and case.species[0].molar_mass == 1e-3
    load_case(npp(), ["model.gravity=[-9.81]", "species.K.molar_mass=0.039"])
    # warnings: one without the other
    assert "species 'A': molar_mass has no effect without [model] gravity" in warnings_of(
        diffusion(), ["species.A.molar_mass=0.1"])
    assert "[model] gravity has no effect: no species has a molar_mass" in warnings_of(
        diffusion(), ["model.gravity=[0,-9.81]"])
    # bad values
    fails(onsager(), "[model] gravity is not used by model kind 'onsager'",
          overrides=["model.gravity=[0,-9.81]"])
    fails(diffusion(), "[model] gravity needs 2 entries, one per dimension of the mesh (got 3)",
          overrides=["model.gravity=[0,-9.81,0]"])
    fails(diffusion(), "[model] gravity needs one entry per dimension (got 0)",
          overrides=["model.gravity=[]"])
    fails(diffusion(), "[model] gravity must be a list", overrides=["model.gravity=9.81"])
    fails(diffusion(), "[model] gravity[1] must be a number", "expressions are not allowed",
          overrides={"model.gravity": [0.0, "-9.81*t"]})
    fails(diffusion(), "species 'A': molar_mass must be >= 0",
          overrides=["species.A.molar_mass=-1"])
    # radial geometries
    heavy = ["species.A.molar_mass=0.1"]
    fails(diffusion(), "[model] gravity = [-9.81, 0]: an axisymmetric mesh needs gx = 0",
          overrides=[*heavy, "mesh.axisymmetric=true", "model.gravity=[-9.81, 0]"])
    load_case(diffusion(), [*heavy, "mesh.axisymmetric=true", "model.gravity=[0, -9.81]"])
    radial = diffusion(mesh={"generate": {"shape": "interval", "length": [1.0], "cells": [2]},
                             "symmetry": "spherical"}, boundary=[])
    fails(radial, "[model] gravity = [9.81] cannot be used with [mesh] symmetry = 'spherical'",
          overrides=[*heavy, "model.gravity=[9.81]"])
    load_case(radial, [*heavy, "model.gravity=[0]"])


def test_gravity_against_the_mesh(two_regions):
    fem, path = two_regions
    data = diffusion(mesh={"file": path}, boundary=[])
    heavy = {"species.A.molar_mass": 0.1}
    with pytest.raises(CaseError, match=re.escape("[model] gravity needs 2 entries, one per "
                                                  "dimension of the mesh (got 1)")):
        on_mesh(fem, data, {**heavy, "model.gravity": [-9.81]})
    on_mesh(fem, data, {**heavy, "model.gravity": [0.0, -9.81]})
    with pytest.raises(CaseError, match="axisymmetric mesh needs gx = 0"):
        on_mesh(fem, data, {**heavy, "model.gravity": [1.0, -9.81], "mesh.axisymmetric": True})


# ---------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------


def test_expression_evaluation():
    e = Expression("10 + 5*tanh(x/1e-8) + max(y, 0.5)*t")
    assert e.free_symbols == {"x", "y", "t"} and e.depends_on_time and not e.is_constant
    values = e(x=np.array([0.0, 1e-8]), y=0.0, t=2.0)
    assert values == pytest.approx([11.0, 11.0 + 5 * np.tanh(1.0)])
    assert Expression("2*pi").is_constant and float(Expression("2*pi")) == pytest.approx(2 * np.pi)
    x = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    assert evaluate(Expression("x**2 + 3*y - z"), x) == pytest.approx([3.0, 4.0, 7.0])
    assert evaluate(Expression("sqrt(abs(-x)) + exp(0)*log(1)"), x[:1]) == pytest.approx(
        np.sqrt([0.0, 1.0, 2.0]))
    assert evaluate(2.5, np.zeros((3, 4, 5))).shape == (4, 5)
    assert evaluate(Expression("sin(pi*t)"), np.zeros((2, 3)), t=0.5) == pytest.approx(np.ones(3))
    assert evaluate(Expression("min(x, 1, 2)"), x).shape == (3,)
    with pytest.raises(CaseError, match="needs a value for t"):
        e(x=1.0, y=1.0)


def test_expression_calculus_and_pickle():
    f = Expression("c*log(c) + w*c**2", symbols=("c", "w"))
    dfdc = f.derivative("c")
    assert float(dfdc.subs({f.symbol("c"): 1.0, f.symbol("w"): 2.0})) == pytest.approx(5.0)
    assert f.lambdify(["w", "c"])(2.0, np.array([1.0, 2.0])) == pytest.approx(
        [2.0, 2 * np.log(2) + 8.0])
    copy_ = pickle.loads(pickle.dumps(f))
    assert copy_ == f and copy_(c=1.0, w=1.0) == 1.0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("x.__class__", "attribute access"),
        ("(1).real", "attribute access"),
        ("open('f')", "unknown function 'open'"),
        ("lambda: 1", "lambda"),
        ("x[0]", "subscript"),
        ("q + 1", "unknown name 'q'"),
        ("e**x", "unknown name 'e'"),
        ("'abc'", "only numbers"),
        ("x ^ 2", "use ** for powers"),
        ("x // 2", "operator '//'"),
        ("x if y else 1", "conditional"),
        ("x < 1", "comparison"),
        ("sin", "must be called"),
        ("sin(x, y)", "exactly one argument"),
        ("max(x)", "two or more arguments"),
        ("sin(x=1)", "plain arguments"),
        ("(x, y)", "tuple"),
        ("1/0", "infinite or undefined"),
        ("sqrt(-1)", "not real"),
        ("9**9**9**9", "not a finite real number"),
        ("1e999", "not finite"),
        ("exp(x", "invalid syntax"),
        ("", "is empty"),
        ("(" * 1000 + "x" + ")" * 1000, "nested"),
    ],
)
def test_unsafe_or_invalid_expressions(text, fragment):
    with pytest.raises(CaseError) as info:
        Expression(text, where="boundary 'left': potential")
    message = str(info.value)
    assert message.startswith("boundary 'left': potential: expression")
    assert fragment in message and "\n" not in message
