"""Pooled greedy batches (``OptimizerConfig.pooled_from``): the later designs of a batch come
from a pool instead of a solve each, and the batch is then refined jointly. Checked: the
designs are new (not pending, not repeated) and feasible; the joint refinement raises the
batch's acquisition value over the pooled batch it starts from and never returns a lower one;
batches smaller than ``pooled_from`` are built exactly as without the option; spaces without
warm starts (integers, categoricals, linear constraints) fall back to full greedy steps; and
the refinement reaches a batch optimum known in closed form."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from botorch.acquisition import AcquisitionFunction
from torch import Tensor
from torch.nn import Module

from models.bo import optimize
from models.bo.config import BOConfig, OptimizerConfig
from models.bo.encoding import Encoder
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import BOResult, suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

BOX = Space.from_dict({"parameters": [
    {"type": "continuous", "name": n, "lower": -1.0, "upper": 2.0} for n in "xyz"]})
MIXED = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "integer", "name": "k", "lower": 0, "upper": 4},
    {"type": "categorical", "name": "c", "choices": ["p", "q"]}],
    "linear_constraints": [{"coefficients": {"x": 1.0, "k": 0.25}, "upper": 1.2}]})


def _config(fast_config: BOConfig, **optimizer: Any) -> BOConfig:
    return BOConfig(gp=fast_config.gp, acquisition=fast_config.acquisition,
                    optimizer=OptimizerConfig(**{"num_restarts": 2, "raw_samples": 32,
                                                 "max_iterations": 20, **optimizer}),
                    quality=False)


def _box(config: BOConfig, q: int, pending: list[dict[str, Any]] | None = None) -> BOResult:
    """A constrained campaign on :data:`BOX`: maximise a bump at (0.5, 0.5, 0.5) with
    x + y <= 1 as a black-box outcome constraint."""
    designs = space_filling_designs(BOX, 10, seed=3).designs
    observations = [Observation(d, {"f": -sum((v - 0.5) ** 2 for v in d.values()),
                                    "s": d["x"] + d["y"]}) for d in designs]
    return suggest(BOX, observations, pending or [], [Objective("f", "maximize")],
                   [OutcomeConstraint("s", "<=", 1.0)], q=q, config=config, seed=0)


def _rows(result: BOResult, names: str = "xyz") -> list[tuple[float, ...]]:
    return [tuple(s.parameters[n] for n in names) for s in result.suggestions]


def test_a_pooled_batch_is_new_feasible_and_avoids_the_pending_designs(
        fast_config: BOConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    pooled = []
    step = optimize._pooled_step

    def spy(*args: Any, **kwargs: Any) -> Any:
        ranked = step(*args, **kwargs)
        pooled.append(ranked is not None)
        return ranked

    monkeypatch.setattr(optimize, "_pooled_step", spy)
    pending = [{"x": 0.5, "y": 0.4, "z": 0.5}, {"x": 0.2, "y": 0.2, "z": 0.6}]
    rows = _rows(_box(_config(fast_config, pooled_from=2), q=5, pending=pending))
    assert pooled == [False] + [True] * 4  # the first by a solve, the rest from the pool
    assert len(set(rows)) == 5
    for row in rows:
        assert all(-1.0 <= v <= 2.0 for v in row)
        for p in pending:
            assert max(abs(a - b) for a, b in zip(row, p.values(), strict=True)) > 1e-6


class _Targets(AcquisitionFunction):
    """``-sum_i |x_i - t_i|^2`` over a batch's designs in order (pending designs ignored): a
    one-design batch is best at ``t_1``, a two-design batch at ``(t_1, t_2)``."""

    def __init__(self, targets: Tensor) -> None:
        Module.__init__(self)
        self.targets = targets
        self.X_pending: Tensor | None = None

    def forward(self, X: Tensor) -> Tensor:
        return -(X - self.targets[:X.shape[-2]]).pow(2).sum(dim=(-1, -2))


def test_the_refinement_reaches_a_known_batch_optimum() -> None:
    """The pooled step can only offer a second design near ``t_1`` or a random one; the joint
    solve that follows must move the batch to ``(t_1, t_2)``."""
    targets = torch.tensor([[0.5, -0.5, 1.0], [1.5, 0.25, -0.75]], dtype=torch.float64)
    config = OptimizerConfig(num_restarts=2, raw_samples=32, max_iterations=100,
                             pooled_from=2, refine_iterations=100)
    batch = optimize.optimize_acquisition(_Targets(targets), Encoder(BOX), q=2, fixed={},
                                          config=config, seed=0).X
    assert torch.allclose(batch, targets, atol=1e-4), batch
    unrefined = optimize.optimize_acquisition(
        _Targets(targets), Encoder(BOX), q=2, fixed={}, seed=0,
        config=OptimizerConfig(num_restarts=2, raw_samples=32, max_iterations=100,
                               pooled_from=2, refine_iterations=0)).X
    assert float((unrefined[1] - targets[1]).abs().max()) > 0.1


def test_the_joint_refinement_raises_the_batch_value(fast_config: BOConfig) -> None:
    unrefined = _box(_config(fast_config, pooled_from=2, refine_iterations=0), q=4)
    refined = _box(_config(fast_config, pooled_from=2, refine_iterations=20), q=4)
    before = unrefined.metrics["batch_acquisition_value"]
    after = refined.metrics["batch_acquisition_value"]
    assert after > before + 1e-3, (before, after)
    assert _rows(refined) != _rows(unrefined)


def test_a_refinement_that_lowers_the_value_is_not_taken(
        fast_config: BOConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solve is replaced by one that returns distinct designs near a corner of the box,
    far from the bump and outside the constraint: acceptable, but worth less; the pooled batch
    must come back."""
    def worse(acq_function: Any, domain: Any, config: Any, q: int, starts: Any = None) -> Any:
        steps = torch.arange(q, dtype=starts.dtype).unsqueeze(-1)
        return domain.bounds[1] - 0.1 * steps * torch.ones_like(starts[0])

    unrefined = _rows(_box(_config(fast_config, pooled_from=2, refine_iterations=0), q=3))
    monkeypatch.setattr(optimize, "_optimize_joint", worse)
    assert _rows(_box(_config(fast_config, pooled_from=2), q=3)) == unrefined


def test_batches_below_the_threshold_are_built_as_without_the_option(
        fast_config: BOConfig) -> None:
    plain = _box(_config(fast_config, pooled_from=None), q=2)
    below = _box(_config(fast_config, pooled_from=3), q=2)
    assert _rows(below) == _rows(plain)
    assert _rows(_box(_config(fast_config, pooled_from=2), q=2)) != _rows(plain)


def test_spaces_without_warm_starts_fall_back_to_greedy_steps(
        fast_config: BOConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    refined = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        refined.append(1)
        return args[5]

    monkeypatch.setattr(optimize, "_refine_jointly", spy)
    designs = space_filling_designs(MIXED, 10, seed=0).designs
    observations = [Observation(d, {"f": d["x"] + 0.3 * d["k"] - (d["c"] == "q")})
                    for d in designs]
    result = suggest(MIXED, observations, [], [Objective("f", "maximize")], q=3,
                     config=_config(fast_config, pooled_from=2, max_alternating=2), seed=0)
    assert not refined
    rows = [tuple(s.parameters.values()) for s in result.suggestions]
    assert len(set(rows)) == 3
    for s in result.suggestions:
        p = s.parameters
        assert isinstance(p["k"], int) and p["c"] in ("p", "q") and 0.0 <= p["x"] <= 1.0
        assert p["x"] + 0.25 * p["k"] <= 1.2 + 1e-6
        assert not math.isnan(s.acquisition_value)


@pytest.mark.parametrize(("options", "field"), [
    ({"pooled_from": 1}, "pooled_from"), ({"pooled_from": "3"}, "pooled_from"),
    ({"pooled_from": True}, "pooled_from"), ({"refine_iterations": -1}, "refine_iterations"),
    ({"refine_iterations": 2.5}, "refine_iterations")])
def test_bad_pooling_options_are_refused_by_name(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"optimizer.{field}"):
        BOConfig.from_dict({"optimizer": options})
    assert BOConfig.from_dict({"optimizer": {"pooled_from": 2, "refine_iterations": 0}}) \
        .optimizer.pooled_from == 2
