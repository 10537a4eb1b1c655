"""Observations become training sets: bad data refused, failures and missing outcomes left
out, known noise used only when complete; the config round-trips through JSON."""

from __future__ import annotations

import json
import math

import pytest
import torch

from models.bo.config import BOConfig, GPConfig, HillPriorConfig
from models.bo.data import assemble, data_hash
from models.bo.encoding import Encoder
from models.bo.errors import BadObservationError
from models.bo.problem import Objective, Observation, OutcomeConstraint, outcome_names
from models.space.space import Space

SPACE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "categorical", "name": "c", "choices": ["a", "b"]}]})


def test_failures_and_missing_outcomes_are_left_out() -> None:
    observations = [
        Observation({"x": 0.1, "c": "a"}, {"y": 1.0, "z": 2.0}),
        Observation({"x": 0.2, "c": "b"}, {"y": 1.5}),
        Observation({"x": 0.3, "c": "a"}, failed=True),
        Observation({"x": 0.4, "c": "b"}, {"z": 3.0}),
    ]
    data = assemble(Encoder(SPACE), observations, ["y", "z"])
    assert data.outcomes["y"].Y.squeeze(-1).tolist() == [1.0, 1.5]
    assert data.outcomes["z"].X[:, 0].tolist() == [0.1, 0.4]
    assert data.failed.tolist() == [False, False, True, False]
    assert data.X_observed[:, 0].tolist() == [0.1, 0.2, 0.4]
    assert data.X_attempted.shape == (4, 2) and data.n_failed == 1


def test_noise_fixed_only_when_every_observation_gives_it() -> None:
    observations = [Observation({"x": 0.1 * i, "c": "a"}, {"y": float(i), "z": 1.0},
                                noise_sd={"y": 0.5} | ({"z": 0.1} if i else {}))
                    for i in range(3)]
    data = assemble(Encoder(SPACE), observations, ["y", "z"])
    assert data.outcomes["y"].noise == "fixed"
    assert torch.allclose(data.outcomes["y"].Yvar, torch.full((3, 1), 0.25, dtype=torch.float64))
    assert data.outcomes["z"].noise == "inferred-partial" and data.outcomes["z"].Yvar is None


@pytest.mark.parametrize("value", [math.nan, math.inf, "high", None, True])
def test_non_finite_outcomes_never_reach_a_model(value: object) -> None:
    observations = [Observation({"x": 0.1, "c": "a"}, {"y": 1.0}),
                    Observation({"x": 0.2, "c": "a"}, {"y": value})]  # type: ignore[dict-item]
    with pytest.raises(BadObservationError) as info:
        assemble(Encoder(SPACE), observations, ["y"])
    assert info.value.details["observation"] == 1 and info.value.details["outcome"] == "y"


def test_negative_noise_is_refused() -> None:
    with pytest.raises(BadObservationError, match="negative"):
        assemble(Encoder(SPACE), [Observation({"x": 0.1, "c": "a"}, {"y": 1.0},
                                              noise_sd={"y": -1.0})], ["y"])


def test_problem_types_read_the_api_shapes() -> None:
    assert Objective.from_dict({"name": "y", "goal": "minimize", "unit": "nm"}).sign == -1.0
    c = OutcomeConstraint.from_dict({"name": "z", "op": ">=", "threshold": 2.0, "risk": 0.05})
    assert c.slack(torch.tensor([1.0, 3.0])).tolist() == [1.0, -1.0]
    assert c.is_met(2.0) and not c.is_met(1.9) and c.risk == 0.05
    o = Observation.from_dict({"parameters": {"x": 1}, "outcomes": None, "failed": True,
                               "posted_by": "robot"})
    assert o.failed and o.outcomes == {}
    assert outcome_names([Objective("y")], [c, OutcomeConstraint("y", "<=", 1.0)]) == ["y", "z"]
    with pytest.raises(ValueError):
        OutcomeConstraint("z", "<", 1.0)
    with pytest.raises(ValueError):
        OutcomeConstraint("z", "<=", 1.0, risk=1.5)


def test_data_hash_is_stable_and_sensitive() -> None:
    observations = [Observation({"x": 0.1, "c": "a"}, {"y": 1.0})]
    h = data_hash(observations, [{"x": 0.5, "c": "b"}])
    assert h == data_hash(list(observations), [{"c": "b", "x": 0.5}])
    assert h != data_hash(observations, [])
    assert h != data_hash([Observation({"x": 0.1, "c": "a"}, {"y": 1.0 + 1e-15})],
                          [{"x": 0.5, "c": "b"}])


def test_config_round_trips_through_json() -> None:
    config = BOConfig(gp=GPConfig(prior_mean=HillPriorConfig("dose", outcomes=("act",))),
                      fixed_features={"dose": 2.0})
    assert BOConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown field"):
        BOConfig.from_dict({"gp": {"iterations": 3}})
