"""Composition groups in stick-breaking coordinates: the map sums to the total and inverts,
its samples are uniform on the simplex (checked against the flat Dirichlet's moments and
marginals), it is refused for constraints it cannot express, and the optimiser that uses it
finds a known optimum on a face of the simplex, holds fixed components exactly, and makes
suggestions that meet the composition sum to 1e-6 (greedy batches, joint batches, greedy
batches whose later steps are warm-started from the previous step's optima, and pooled greedy
batches refined jointly)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from botorch.acquisition import AcquisitionFunction
from torch import Tensor
from torch.nn import Module

from models.bo.config import BOConfig, OptimizerConfig
from models.bo.encoding import Encoder
from models.bo.optimize import optimize_acquisition, search_domain
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.simplex import simplex_map
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

ONES3 = torch.ones(3, dtype=torch.float64)
SPACE = Space.from_dict({
    "parameters": [{"type": "continuous", "name": "t", "lower": -1.0, "upper": 1.0}],
    "compositions": [{"name": "mix", "components": ["a", "b", "c"], "total": 2.0}]})


def _map() -> Any:
    bounds = torch.tensor([[-1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 2.0, 2.0, 1.0, 1.0]],
                          dtype=torch.float64)
    mapping = simplex_map(bounds, [], [(torch.tensor([1, 2, 3]), ONES3, 2.0),
                                       (torch.tensor([4, 5]), ONES3[:2], 1.0)])
    assert mapping is not None
    return mapping


def test_map_sums_to_the_total_and_inverts() -> None:
    mapping = _map()
    assert mapping.unit_dimension == 4 and mapping.others == (0,)
    U = torch.rand(500, mapping.unit_dimension, dtype=torch.float64) * 0.98 + 0.01
    U[:, 0] = U[:, 0] * 2 - 1
    X = mapping.to_features(U)
    assert (X[:, 1:4].sum(-1) - 2.0).abs().max() < 1e-14
    assert (X[:, 4:].sum(-1) - 1.0).abs().max() < 1e-14
    assert bool((X[:, 1:] >= 0).all())
    assert torch.allclose(mapping.to_unit(X), U, atol=1e-12)
    # Vertices and faces are reached: u = 1 puts everything in the first component.
    corner = mapping.to_features(torch.tensor([[0.0, 1.0, 0.3, 0.0]], dtype=torch.float64))
    assert corner[0, 1:4].tolist() == [2.0, 0.0, 0.0] and corner[0, 4:].tolist() == [0.0, 1.0]


def test_samples_are_uniform_on_the_simplex() -> None:
    mapping = _map()
    X = mapping.to_features(mapping.sample(4096, 1, seed=0).squeeze(-2))
    # Flat Dirichlet on 3 components of total 2: each mean 2/3, P(x_i < 1) = 1 - (1/2)^2.
    assert torch.allclose(X[:, 1:4].mean(0), torch.full((3,), 2 / 3, dtype=torch.float64),
                          atol=5e-3)
    assert torch.allclose((X[:, 1:4] < 1.0).double().mean(0),
                          torch.full((3,), 0.75, dtype=torch.float64), atol=5e-3)
    assert abs(float(X[:, 0].mean())) < 5e-3  # the box coordinate: uniform on [-1, 1]


@pytest.mark.parametrize("inequalities, equalities, bounds_lower", [
    ([(torch.tensor([0]), ONES3[:1], 0.0)], [(torch.tensor([0, 1, 2]), ONES3, 1.0)], 0.0),
    ([], [(torch.tensor([0, 1, 2]), 2 * ONES3, 1.0)], 0.0),
    ([], [(torch.tensor([0, 1, 2]), ONES3, 1.0)], 0.1),
    ([], [], 0.0),
])
def test_map_is_refused_for_constraints_it_cannot_express(
        inequalities: list[Any], equalities: list[Any], bounds_lower: float) -> None:
    bounds = torch.tensor([[bounds_lower] * 3, [1.0] * 3], dtype=torch.float64)
    assert simplex_map(bounds, inequalities, equalities) is None


class _Distance(AcquisitionFunction):
    """``-|x - target|^2`` summed over the batch: maximised at the target's projection."""

    def __init__(self, target: Tensor) -> None:
        Module.__init__(self)
        self.target = target
        self.X_pending: Tensor | None = None

    def forward(self, X: Tensor) -> Tensor:
        return -(X - self.target).pow(2).sum(dim=(-1, -2))


def test_optimiser_finds_a_known_optimum_on_a_face() -> None:
    encoder = Encoder(SPACE)
    # Features (t, a, b, c): the projection of (0.4, 1.6, 1.0, -0.6) onto the simplex of
    # total 2 is (1.3, 0.7, 0) (shift 0.3 on the kept components); t is free: 0.4.
    target = torch.tensor([0.4, 1.6, 1.0, -0.6], dtype=torch.float64)
    assert simplex_map(search_domain(encoder, {}).bounds, [],
                       search_domain(encoder, {}).equality_constraints) is not None
    config = OptimizerConfig(num_restarts=2, raw_samples=64, max_iterations=200)
    X = optimize_acquisition(_Distance(target), encoder, q=1, fixed={}, config=config,
                             seed=0).X
    assert torch.allclose(X[0], torch.tensor([0.4, 1.3, 0.7, 0.0], dtype=torch.float64),
                          atol=1e-4)
    assert abs(float(X[0, 1:].sum()) - 2.0) < 1e-12


def test_fixed_component_is_held_and_the_rest_optimised() -> None:
    encoder = Encoder(SPACE)
    target = torch.tensor([0.4, 1.6, 1.0, -0.6], dtype=torch.float64)
    config = OptimizerConfig(num_restarts=2, raw_samples=64, max_iterations=200)
    fixed = {encoder.column_index("a"): 0.5}
    X = optimize_acquisition(_Distance(target), encoder, q=1, fixed=fixed, config=config,
                             seed=0).X
    # b + c = 1.5 with b, c >= 0: the projection of (1.0, -0.6) is (1.5, 0).
    assert float(X[0, 1]) == 0.5
    assert torch.allclose(X[0, [0, 2, 3]], torch.tensor([0.4, 1.5, 0.0], dtype=torch.float64),
                          atol=1e-4)


@pytest.mark.parametrize("mode", ["greedy", "joint", "warm", "pooled"])
def test_suggestions_meet_the_composition_sum(mode: str, fast_config: BOConfig) -> None:
    config = BOConfig(gp=fast_config.gp, acquisition=fast_config.acquisition,
                      optimizer=OptimizerConfig(num_restarts=2, simplex_restarts=4,
                                                raw_samples=32, max_iterations=20,
                                                joint_batch=mode == "joint",
                                                warm_iterations=5 if mode == "warm" else 0,
                                                pooled_from=2 if mode == "pooled" else None),
                      fixed_features={"c": 0.25}, quality=False)
    designs = space_filling_designs(SPACE, 8, seed=1).designs
    observations = [Observation(d, {"y": -(d["a"] - 1.2) ** 2 + d["t"], "k": d["b"]})
                    for d in designs]
    result = suggest(SPACE, observations, [], [Objective("y", "maximize")],
                     [OutcomeConstraint("k", "<=", 1.5)], q=3, config=config, seed=0)
    assert len(result.suggestions) == 3
    for s in result.suggestions:
        p = s.parameters
        assert math.isclose(p["a"] + p["b"] + p["c"], 2.0, abs_tol=1e-6)
        assert p["c"] == 0.25 and min(p["a"], p["b"]) >= 0.0 and -1.0 <= p["t"] <= 1.0


def test_warm_started_greedy_batch_in_a_box_is_distinct_and_in_bounds(
        fast_config: BOConfig) -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
        {"type": "continuous", "name": "y", "lower": -2.0, "upper": 2.0}]})
    config = BOConfig(gp=fast_config.gp, acquisition=fast_config.acquisition,
                      optimizer=OptimizerConfig(num_restarts=2, raw_samples=32,
                                                max_iterations=20, warm_iterations=5),
                      quality=False)
    designs = space_filling_designs(space, 8, seed=2).designs
    observations = [Observation(d, {"f": -(d["x"] - 0.3) ** 2 - (d["y"] - 0.5) ** 2})
                    for d in designs]
    result = suggest(space, observations, [], [Objective("f", "maximize")], [], q=4,
                     config=config, seed=0)
    points = {(round(s.parameters["x"], 9), round(s.parameters["y"], 9))
              for s in result.suggestions}
    assert len(points) == 4
    assert all(0.0 <= x <= 1.0 and -2.0 <= y <= 2.0 for x, y in points)
