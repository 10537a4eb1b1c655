"""The ``inverse_design`` strategy with observations that carry gradients."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
import torch

from models.design.active_learning import (
    ActiveLearningError,
    ActiveLearningOptions,
    _Box,
    _consistent,
    _training_data,
    propose,
)
from models.design.rounds import RoundRequest
from models.space.keys import design_key
from models.space.space import Space
from models.surrogates import DeepEnsemble, EnsembleConfig

F64 = torch.float64
SPACE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})
OBJECTIVES = [{"name": "f", "goal": "minimize"}]
CONSTRAINTS = [{"name": "g", "op": "<=", "threshold": 1.0}]
FAST = {"members": 3, "width": 16, "epochs": 300, "patience": 100, "starts": 8,
        "initial_points": 4}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def simulate(p: Mapping[str, Any], gradients: bool = True) -> dict[str, Any]:
    """min (x - 0.8)^2 + (y - 0.8)^2 s.t. x + y <= 1, with its gradients."""
    x, y = float(p["x"]), float(p["y"])
    obs: dict[str, Any] = {"parameters": dict(p),
                           "outcomes": {"f": (x - 0.8) ** 2 + (y - 0.8) ** 2, "g": x + y}}
    if gradients:
        obs["gradients"] = {"f": {"x": 2 * (x - 0.8), "y": 2 * (y - 0.8)},
                            "g": {"x": 1.0, "y": 1.0}}
    return obs


def request(observations: list[dict[str, Any]], state: dict[str, Any], *, seed: int = 0,
            options: dict[str, Any] | None = None, space: Space = SPACE) -> RoundRequest:
    taken = frozenset(design_key(o["parameters"]) for o in observations)
    return RoundRequest(space=space, observations=observations, pending=[], taken=taken,
                        objectives=OBJECTIVES, constraints=CONSTRAINTS, count=2,
                        options=FAST if options is None else options, seed=seed, state=state)


def start(gradients: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    first = propose(request([], {}))
    designs = [d.parameters for d in first.designs]
    second = propose(request([simulate(d, gradients) for d in designs], first.state))
    designs += [d.parameters for d in second.designs]
    return [simulate(d, gradients) for d in designs], second.state


def test_propose_with_gradient_observations_returns_valid_designs() -> None:
    observations, state = start()
    assert len(observations) == 4
    result = propose(request(observations, state, seed=1))
    assert result.info["phase"] == "inverse_design"
    assert len(result.designs) == 2
    taken = {design_key(o["parameters"]) for o in observations}
    for design in result.designs:
        assert 0.0 <= design.parameters["x"] <= 1.0 and 0.0 <= design.parameters["y"] <= 1.0
        assert design_key(design.parameters) not in taken
    assert result.model is not None
    assert result.model.metrics["gradients"]["used"] is True
    assert result.model.metrics["gradients"]["rows_with_gradients"] == 4


def test_gradients_are_ignored_at_zero_weight_and_value_only_is_unchanged() -> None:
    with_grads, state = start(gradients=True)
    values_only = [{k: v for k, v in o.items() if k != "gradients"} for o in with_grads]
    ignored = propose(request(with_grads, state, options={**FAST, "gradient_weight": 0.0}))
    plain = propose(request(values_only, state))
    assert [d.parameters for d in ignored.designs] == [d.parameters for d in plain.designs]
    assert plain.model is not None and plain.model.metrics["gradients"] == {"used": False}


def test_first_order_consistency_matches_value_and_gradient_at_the_incumbent() -> None:
    observations, _ = start()
    box = _Box.of(SPACE)
    X, Y, dY = _training_data(observations, box, ["f", "g"])
    assert dY is not None and dY.shape == (4, 2, 2)
    model = DeepEnsemble.fit(X, Y, EnsembleConfig(members=2, width=8, epochs=50),
                             bounds=box.bounds, dY=dY)
    incumbent = X[2]
    predict, _ = _consistent(model, X, Y, incumbent, True, dY)
    x = incumbent[None].clone().requires_grad_(True)
    mean, _ = predict(x)
    assert torch.allclose(mean[0].detach(), Y[2], atol=1e-10)
    for k in range(2):
        (grad,) = torch.autograd.grad(mean[0, k], x, retain_graph=True)
        assert torch.allclose(grad[0], dY[2, k], atol=1e-8)


def test_gradients_of_log_scale_parameters_are_taken_wrt_the_logarithm() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "dose", "lower": 0.1, "upper": 10.0, "log_scale": True},
        {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})
    obs = [{"parameters": {"dose": 2.0, "y": 0.5}, "outcomes": {"f": 1.0},
            "gradients": {"f": {"dose": 3.0, "y": None}}},
           {"parameters": {"dose": 4.0, "y": 0.1}, "outcomes": {"f": 2.0}}]
    X, _, dY = _training_data(obs, _Box.of(space), ["f"])
    assert X[0, 0] == pytest.approx(math.log(2.0))
    assert dY is not None
    assert float(dY[0, 0, 0]) == pytest.approx(6.0)  # d f / d log(dose) = dose * df/ddose
    assert math.isnan(float(dY[0, 0, 1])) and bool(torch.isnan(dY[1]).all())


def test_malformed_gradients_and_bad_weight_are_refused() -> None:
    observations, state = start()
    observations[0] = {**observations[0], "gradients": {"f": 1.0}}
    with pytest.raises(ActiveLearningError, match="gradients"):
        propose(request(observations, state))
    observations[0] = {**observations[0], "gradients": {"f": {"x": "steep"}}}
    with pytest.raises(ActiveLearningError, match="not a number"):
        propose(request(observations, state))
    with pytest.raises(ActiveLearningError, match="gradient_weight"):
        ActiveLearningOptions.from_options({"gradient_weight": -1.0})
    with pytest.raises(ActiveLearningError, match="gradient_weight"):
        ActiveLearningOptions.from_options({"gradient_weight": math.inf})
