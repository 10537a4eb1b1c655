"""The texture problem plug-in: torch-free spec and options, the simulator path, the plot."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from models.gradcheck import check_gradient
from models.physics.lubrication import Grid, InclinedPad, analytic, simulate
from models.problems.base import DesignError, ProblemError
from models.problems.branin.problem import BraninProblem
from models.problems.texture import (
    SPEC,
    default_constraints,
    default_space,
    free_form_names,
    validate_options,
)
from models.problems.texture.plot import design_plot
from models.problems.texture.problem import TextureProblem
from models.space.space import Space

F64 = torch.float64
DIMPLE = {"dimple_depth": 1.5, "dimple_radius": 0.08, "area_density": 0.3,
          "textured_fraction": 0.5}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_spec_is_torch_free_and_complete() -> None:
    code = ("import sys; import models.problems.texture as t; "
            "t.validate_options({'profile': 'free_form'}); t.default_space({'nodes': 40, "
            "'profile': 'free_form'}); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert SPEC.key == "texture" and SPEC.has_simulator
    assert set(SPEC.strategies or ()) == {"space_filling", "bayesian", "inverse_design"}
    assert [p["name"] for p in SPEC.default_space["parameters"]] == [  # type: ignore[index]
        "dimple_depth", "dimple_radius", "area_density", "textured_fraction"]
    assert SPEC.default_objectives == [{"name": "friction", "goal": "minimize"}]
    assert list(SPEC.default_constraints) == [{"name": "load", "op": ">=", "threshold": 0.06}]
    Space.from_dict(SPEC.default_space)  # type: ignore[arg-type]


def test_free_form_defaults_follow_the_options() -> None:
    opts = validate_options({"profile": "free_form", "nodes": 40, "h_max": 2.5})
    assert opts["grid"] == {"nx": 41} and opts["load_floor"] == 0.15
    space = default_space(opts)
    assert [p["name"] for p in space["parameters"]] == free_form_names(40)
    assert {(p["lower"], p["upper"]) for p in space["parameters"]} == {(1.0, 2.5)}
    assert default_constraints({"profile": "free_form", "load_floor": 0.1})[0]["threshold"] == 0.1


@pytest.mark.parametrize(("options", "key"), [
    ({"profile": "grooves"}, "profile"),
    ({"nodes": 40}, "nodes"),  # a free-form option on the dimple profile
    ({"profile": "free_form", "nodes": 31}, "nodes"),
    ({"profile": "free_form", "nodes": 65}, "nodes"),
    ({"profile": "free_form", "nodes": 32.0}, "nodes"),
    ({"profile": "free_form", "h_max": 1.0}, "h_max"),
    ({"profile": "free_form", "grid": {"nx": 50}}, "grid.nx"),
    ({"profile": "free_form", "grid": {"nz": 5}}, "grid.nz"),
    ({"grid": {"nx": 41, "nz": 2}}, "grid.nz"),
    ({"grid": [41, 21]}, "grid"),
    ({"load_floor": -0.1}, "load_floor"),
    ({"load_floor": "high"}, "load_floor"),
    ({"inclination": -1.0}, "inclination"),
    ({"width_ratio": 0}, "width_ratio"),
    ({"cavitation": "none"}, "cavitation"),
    ({"colour": "red"}, "colour"),
])
def test_bad_options_name_the_key(options: dict, key: str) -> None:
    with pytest.raises(ProblemError, match=f"'{key}'"):
        validate_options(options)


def test_plain_pad_matches_the_bare_simulator_and_outcomes_are_consistent() -> None:
    problem = TextureProblem({"grid": {"nx": 31, "nz": 11}})
    # A vanishing dimple leaves the inclined base: the same load as simulating it bare.
    out = problem.evaluate([{**DIMPLE, "dimple_depth": 0.1, "textured_fraction": 0.05}])[0]
    bare = simulate(InclinedPad(1.0), Grid.pad(31, 11, width_ratio=1.0))
    assert out["load"] == pytest.approx(float(bare.load), rel=0.02)
    textured = problem.evaluate([DIMPLE])[0]
    assert textured["friction_coefficient"] == pytest.approx(
        textured["friction"] / textured["load"], rel=1e-12)
    assert textured["min_film"] == pytest.approx(1.0)
    assert textured["friction"] < out["friction"]  # deeper film, less Couette shear


def test_free_form_rayleigh_step_has_the_classic_load() -> None:
    problem = TextureProblem({"profile": "free_form", "nodes": 64})
    ratio, position, load = analytic.rayleigh_step_optimum()
    cells = [ratio if (k + 0.5) / 64 < position else 1.0 for k in range(64)]
    out = problem.evaluate([dict(zip(problem.parameter_names(), cells, strict=True))])[0]
    assert out["load"] == pytest.approx(load, rel=2e-3)
    assert out["min_film"] == 1.0


def test_batched_evaluation_equals_one_at_a_time() -> None:
    problem = TextureProblem({"grid": {"nx": 31, "nz": 11}})
    designs = [DIMPLE, {**DIMPLE, "textured_fraction": 0.9, "dimple_depth": 2.5}]
    together = problem.evaluate(designs)
    for design, row in zip(designs, together, strict=True):
        assert problem.evaluate([design])[0] == pytest.approx(row, rel=1e-10)


def test_designs_are_checked() -> None:
    problem = TextureProblem({})
    with pytest.raises(DesignError, match="lacks"):
        problem.evaluate([{"dimple_depth": 1.0}])
    with pytest.raises(DesignError, match="outside"):
        problem.evaluate([{**DIMPLE, "dimple_depth": 5.0}])
    with pytest.raises(DesignError, match="numbers"):
        problem.evaluate([{**DIMPLE, "area_density": "dense"}])


def test_designs_with_gradients_are_the_tensor_path_keyed_by_name() -> None:
    """The service's form of the derivatives: the values of ``evaluate`` and, per outcome
    asked for, ``d outcome / d parameter`` from ``evaluate_tensor_with_gradients``; a problem
    without a differentiable simulator says so."""
    problem = TextureProblem({"grid": {"nx": 31, "nz": 11}})
    designs = [DIMPLE, {**DIMPLE, "dimple_depth": 2.5}]
    rows = problem.evaluate_with_gradients(designs, ["friction", "load", "not_an_outcome"])
    X = torch.tensor([[d[n] for n in problem.parameter_names()] for d in designs], dtype=F64)
    _, slopes = problem.evaluate_tensor_with_gradients(X, ("friction", "load"))
    for i, (values, gradients) in enumerate(rows):
        assert values == pytest.approx(problem.evaluate([designs[i]])[0], rel=1e-12)
        assert set(gradients) == {"friction", "load"}
        for j, name in enumerate(("friction", "load")):
            assert list(gradients[name]) == problem.parameter_names()
            assert list(gradients[name].values()) == pytest.approx(slopes[i, j].tolist())
    with pytest.raises(DesignError, match="lacks"):
        problem.evaluate_with_gradients([{"dimple_depth": 1.0}], ["load"])
    with pytest.raises(ProblemError, match="no derivatives"):
        BraninProblem().evaluate_with_gradients([{"x1": 0.0, "x2": 0.0}], ["value"])


def test_registry_style_loading_through_from_options() -> None:
    problem = TextureProblem.from_options({"profile": "free_form"})
    assert isinstance(problem, TextureProblem) and problem.profile == "free_form"
    assert problem.bounds.shape == (2, 32)


@pytest.mark.parametrize("options", [{"grid": {"nx": 31, "nz": 11}},
                                     {"profile": "free_form"}])
def test_gradient_of_the_simulator_path_matches_central_differences(options: dict) -> None:
    problem = TextureProblem(options)
    if problem.profile == "dimples":
        x = torch.tensor([1.3, 0.09, 0.35, 0.55], dtype=F64)
    else:
        x = 1.2 + 1.5 * torch.rand(32, dtype=F64, generator=torch.Generator().manual_seed(0))
    result = check_gradient(lambda v: problem.evaluate_tensor(v.reshape(1, -1))[:, :3], x)
    assert result.passed, (result.max_rel_error, result.worst_index)


@pytest.mark.parametrize("options", [{"grid": {"nx": 31, "nz": 11}}, {"profile": "free_form"}])
def test_design_plot_is_a_png(options: dict) -> None:
    problem = TextureProblem(options)
    design = DIMPLE if problem.profile == "dimples" else {
        name: 2.0 if k < 20 else 1.0 for k, name in enumerate(problem.parameter_names())}
    png = design_plot(problem, design)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    with pytest.raises(DesignError):
        design_plot(problem, {})
