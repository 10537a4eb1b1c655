"""The ``inverse_design`` strategy: space-filling start, surrogate rounds, stopping rule."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
import torch

from models.design.active_learning import (
    ActiveLearningError,
    ActiveLearningOptions,
    _consistent,
    _hat_basis,
    _trust_radius,
    best_feasible,
    propose,
)
from models.design.rounds import RoundRequest
from models.space.keys import design_key
from models.space.space import Space
from models.surrogates import DeepEnsemble

SPACE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})
OBJECTIVES = [{"name": "f", "goal": "minimize"}]
CONSTRAINTS = [{"name": "g", "op": "<=", "threshold": 1.0}]
# min (x - 0.8)^2 + (y - 0.8)^2 s.t. x + y <= 1: the optimum is (0.5, 0.5), f = 0.18.
OPTIMUM = 0.18
FAST = {"members": 3, "width": 32, "epochs": 800, "patience": 150, "starts": 12,
        "initial_points": 6}


def simulate(p: Mapping[str, Any]) -> dict[str, float]:
    x, y = float(p["x"]), float(p["y"])
    return {"f": (x - 0.8) ** 2 + (y - 0.8) ** 2, "g": x + y}


def request(observations: list[dict[str, Any]], state: dict[str, Any], *, count: int = 2,
            seed: int = 0, pending: tuple[dict[str, Any], ...] = (),
            options: dict[str, Any] | None = None, space: Space = SPACE) -> RoundRequest:
    taken = frozenset(design_key(o["parameters"]) for o in observations)
    return RoundRequest(space=space, observations=observations, pending=list(pending),
                        taken=taken | {design_key(p) for p in pending},
                        objectives=OBJECTIVES, constraints=CONSTRAINTS, count=count,
                        options=FAST if options is None else options, seed=seed, state=state)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def run(rounds: int, count: int = 2) -> tuple[list[dict[str, Any]], list[Any]]:
    observations: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    results = []
    for r in range(rounds):
        result = propose(request(observations, state, count=count, seed=r))
        results.append(result)
        observations += [{"parameters": d.parameters, "outcomes": simulate(d.parameters)}
                         for d in result.designs]
        state = result.state
    return observations, results


def test_space_filling_start_continues_one_sobol_stream() -> None:
    first = propose(request([], {}, count=3))
    assert first.model is None and first.info["phase"] == "space_filling"
    assert first.state["sobol_skip"] == 3
    observed = [{"parameters": d.parameters, "outcomes": simulate(d.parameters)}
                for d in first.designs]
    second = propose(request(observed, first.state, count=2))
    keys = {design_key(d.parameters) for d in first.designs + second.designs}
    assert len(keys) == 5 and second.state["sobol_skip"] == 5


def test_active_learning_improves_on_the_initial_design_and_approaches_the_optimum() -> None:
    observations, results = run(rounds=6)  # 3 space-filling rounds, then 3 model rounds
    initial = best_feasible(observations[:6], OBJECTIVES, CONSTRAINTS)
    final = best_feasible(observations, OBJECTIVES, CONSTRAINTS)
    assert initial is not None and final is not None
    assert final < initial - 0.05, (initial, final)
    assert final < OPTIMUM + 0.03, final  # within a few rounds of the constrained optimum
    model_round = results[-1]
    assert model_round.info["phase"] == "inverse_design"
    model = model_round.model
    assert model is not None and model.kind == "deep_ensemble" and model.weights
    assert model.metrics["bound_respected"] is True
    rates, lams = model.metrics["learning_rate"], model.metrics["lambda_max"]
    assert all(r * max(lam, 0.0) < 2.0 for r, lam in zip(rates, lams, strict=True))
    assert set(model.metrics["val_rmse"]) == {"f", "g"}
    restored = DeepEnsemble.from_bytes(model.weights)
    assert restored.num_outputs == 2
    design = model_round.designs[0]
    assert design.predictions["source"] == "inverse_design"
    assert set(design.predictions["mean"]) == {"f", "g"}
    assert set(design.predictions["kkt"]) == {"stationarity", "primal", "complementarity"}


def test_proposals_avoid_pending_and_observed_designs() -> None:
    observations, results = run(rounds=3, count=2)
    first = propose(request(observations, results[-1].state, count=3, seed=7))
    pending = tuple(d.parameters for d in first.designs)
    again = propose(request(observations, results[-1].state, count=3, seed=7,
                            pending=pending))
    taken = {design_key(o["parameters"]) for o in observations} | {
        design_key(p) for p in pending}
    new = [design_key(d.parameters) for d in again.designs]
    assert len(new) == 3 and len(set(new)) == 3 and not set(new) & taken


def test_trust_radius_grows_after_success_and_shrinks_after_failure() -> None:
    observations, _ = run(rounds=3)
    best = best_feasible(observations, OBJECTIVES, CONSTRAINTS)
    assert best is not None
    improved = propose(request(observations, {"trust_radius": 0.25, "best_value": best + 1.0}))
    stalled = propose(request(observations, {"trust_radius": 0.25, "best_value": best}))
    assert improved.state["trust_radius"] == 0.5
    assert stalled.state["trust_radius"] == 0.125


@pytest.mark.parametrize(("options", "match"), [
    ({"ensemble_size": 3}, "unknown"),
    ({"starts": 0}, "starts"),
    ({"trust_radius": 2.0}, "trust_radius"),
])
def test_bad_options_are_refused(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ActiveLearningError, match=match):
        propose(request([], {}, options=options))


def test_non_continuous_spaces_are_refused() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "categorical", "name": "c", "choices": ["a", "b"]}]})
    with pytest.raises(ActiveLearningError, match="continuous"):
        propose(request([], {}, space=space))


def test_best_feasible() -> None:
    obs: list[dict[str, Any]] = [{"outcomes": {"f": 0.5, "g": 1.5}},
                                 {"outcomes": {"f": 0.9, "g": 0.5}},
                                 {"failed": True, "outcomes": None}]
    assert best_feasible(obs, OBJECTIVES, CONSTRAINTS) == 0.9
    assert best_feasible(obs[:1], OBJECTIVES, CONSTRAINTS) is None
    assert best_feasible(obs, [{"name": "f", "goal": "maximize"}]) == 0.9
    assert math.isclose(OPTIMUM, simulate({"x": 0.5, "y": 0.5})["f"])


PROFILE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": f"h_{k:02d}", "lower": 1.0, "upper": 3.0}
    for k in range(12)]})


def test_basis_start_fills_smooth_profiles_and_continues_its_stream() -> None:
    options = {**FAST, "initial_basis": 3, "initial_points": 8}
    first = propose(request([], {}, count=5, options=options, space=PROFILE))
    assert first.model is None and first.info["basis_knots"] == 3
    assert first.state["basis_skip"] == 5
    for design in first.designs:
        h = torch.tensor([design.parameters[f"h_{k:02d}"] for k in range(12)])
        assert bool((h >= 1.0).all() and (h <= 3.0).all())
        # piecewise linear through 3 knots: straight except next to the middle knot
        bend = (h[2:] - 2 * h[1:-1] + h[:-2]).abs()
        assert int((bend > 1e-6).sum()) <= 2
    observed = [{"parameters": d.parameters, "outcomes": {}} for d in first.designs]
    second = propose(request(observed, first.state, count=3, options=options, space=PROFILE))
    keys = {design_key(d.parameters) for d in first.designs + second.designs}
    assert len(keys) == 8 and second.state["basis_skip"] == 8


def test_hat_basis_is_a_partition_of_unity() -> None:
    basis = _hat_basis(4, 10)
    assert torch.allclose(basis.sum(dim=0), torch.ones(10, dtype=torch.float64))
    assert torch.equal(basis[:, 0], torch.tensor([1.0, 0, 0, 0], dtype=torch.float64))


def test_consistent_model_is_exact_at_the_incumbent() -> None:
    X = torch.rand(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    Y = torch.stack([((X - 0.8) ** 2).sum(-1), X.sum(-1)], dim=-1)
    model = DeepEnsemble.fit(X, Y, ActiveLearningOptions(members=2, width=8, epochs=50)
                             .ensemble(0))
    predict, shift = _consistent(model, X, Y, X[3], enabled=True)
    mean, _ = predict(X[3:4])
    assert torch.allclose(mean[0], Y[3], atol=1e-12) and bool(shift.abs().sum() > 0)


def test_trust_radius_grows_while_the_violation_shrinks_before_anything_is_feasible() -> None:
    options = ActiveLearningOptions(trust_radius=0.25)
    state = {"trust_radius": 0.25, "best_value": None, "least_violation": 0.3}
    assert _trust_radius(state, options, None, 0.2, maximize=False) == 0.5
    assert _trust_radius(state, options, None, 0.3, maximize=False) == 0.125
