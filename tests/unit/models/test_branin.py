"""The constrained Branin benchmark against its known optimum, signs and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from models.problems.base import DesignError
from models.problems.branin import SPEC
from models.problems.branin.problem import BraninProblem, branin, branin_constraint
from models.space.space import Space

OPTIMUM = 0.397887


def test_the_three_global_minima() -> None:
    X = torch.tensor(BraninProblem.optimizers, dtype=torch.float64)
    assert torch.allclose(branin(X), torch.full((3,), OPTIMUM, dtype=torch.float64), atol=1e-5)
    assert BraninProblem.optimal_value == pytest.approx(OPTIMUM, abs=1e-6)


def test_no_grid_point_beats_the_optimum_and_only_one_minimiser_is_feasible() -> None:
    x1 = torch.linspace(-5.0, 10.0, 601, dtype=torch.float64)
    x2 = torch.linspace(0.0, 15.0, 601, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(x1, x2, indexing="ij"), dim=-1).reshape(-1, 2)
    values, slack = branin(grid), branin_constraint(grid)
    assert values.min() >= OPTIMUM - 1e-6
    best_feasible = grid[values.masked_fill(slack > 0, math.inf).argmin()]
    assert torch.allclose(best_feasible, torch.tensor([math.pi, 2.275], dtype=torch.float64),
                          atol=0.05)
    optimizers = torch.tensor(BraninProblem.optimizers, dtype=torch.float64)
    feasible = branin_constraint(optimizers) <= 0
    assert feasible.tolist() == [False, True, False]
    assert BraninProblem.feasible_optimizers == ((math.pi, 2.275),)


@pytest.mark.parametrize(("point", "expected"), [
    ((2.5, 7.5), -50.0),                       # centre of the disc
    ((2.5 + math.sqrt(50.0), 7.5), 0.0),       # on its rim
    ((-5.0, 0.0), 62.5),                       # a far corner
    ((math.pi, 2.275), -22.28773386685961),
    ((-math.pi, 12.275), 4.62813),
    ((9.42478, 2.475), 23.20317),
])
def test_constraint_values_and_signs(point: tuple[float, float], expected: float) -> None:
    value = branin_constraint(torch.tensor([point], dtype=torch.float64)).item()
    assert value == pytest.approx(expected, abs=1e-4)


def test_gradients_match_central_differences() -> None:
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(8, 2, dtype=torch.float64, generator=generator) * torch.tensor(
        [15.0, 15.0], dtype=torch.float64) + torch.tensor([-5.0, 0.0], dtype=torch.float64)
    X.requires_grad_(True)
    assert torch.autograd.gradcheck(branin, (X,))
    assert torch.autograd.gradcheck(branin_constraint, (X,))
    # and the analytic gradient vanishes at the minimisers
    optimum = torch.tensor([[math.pi, 2.275]], dtype=torch.float64, requires_grad=True)
    branin(optimum).sum().backward()
    assert optimum.grad is not None and optimum.grad.abs().max() < 1e-12


def test_evaluate_returns_the_spec_outcomes() -> None:
    problem = BraninProblem()
    designs: list[dict[str, float]] = [
        {"x1": math.pi, "x2": 2.275}, {"x1": 2.5, "x2": 7.5}, {"x1": -5.0, "x2": 15.0}]
    outcomes = problem.evaluate(designs)
    names = {o["name"] for o in SPEC.default_objectives or []} | {
        c["name"] for c in SPEC.default_constraints}
    assert all(set(o) == names for o in outcomes)
    assert outcomes[0]["value"] == pytest.approx(OPTIMUM, abs=1e-5)
    assert outcomes[1]["constraint"] == pytest.approx(-50.0)
    assert outcomes[2]["value"] == pytest.approx(17.508299515778166)
    assert all(isinstance(v, float) for o in outcomes for v in o.values())
    assert problem.evaluate([]) == []
    batch = problem.evaluate_tensor(torch.tensor([[math.pi, 2.275]], dtype=torch.float64))
    assert batch.shape == (1, 2) and batch.dtype == torch.float64


@pytest.mark.parametrize("design", [
    {"x1": 0.0},                       # missing x2
    {"x1": 11.0, "x2": 1.0},           # outside the bounds
    {"x1": 0.0, "x2": -0.5},
    {"x1": "a", "x2": 1.0},            # not a number
    {"x1": math.nan, "x2": 1.0},
])
def test_evaluate_refuses_designs_outside_the_space(design: dict) -> None:
    with pytest.raises(DesignError):
        BraninProblem().evaluate([{"x1": 0.0, "x2": 0.0}, design])


def test_the_spec_describes_the_problem() -> None:
    assert SPEC.key == "branin" and SPEC.has_simulator
    assert SPEC.implementation == "models.problems.branin.problem:BraninProblem"
    assert SPEC.default_objectives == [{"name": "value", "goal": "minimize"}]
    assert SPEC.default_constraints == [{"name": "constraint", "op": "<=", "threshold": 0.0}]
    assert SPEC.default_space is not None
    space = Space.from_dict(SPEC.default_space)
    bounds = [(p.lower, p.upper) for p in space.parameters]  # type: ignore[union-attr]
    assert bounds == [tuple(b) for b in BraninProblem.bounds]
    assert BraninProblem().parameter_names() == ["x1", "x2"]
