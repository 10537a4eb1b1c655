"""Winsorising outcomes: Tukey fences on the uninteresting side only, never across a
constraint's threshold, small data left alone, and the suggest metrics say what was moved."""

from __future__ import annotations

import math

import torch

from models.bo.config import BOConfig
from models.bo.data import OutcomeData, TrainingData
from models.bo.problem import Objective, OutcomeConstraint
from models.bo.suggest import suggest
from models.bo.winsorize import cutoffs, winsorize
from models.space.space import Space

F64 = torch.float64


def _column(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=F64).unsqueeze(-1)


def _data(**outcomes: list[float]) -> TrainingData:
    n = len(next(iter(outcomes.values())))
    X = torch.linspace(0, 1, n, dtype=F64).unsqueeze(-1)
    return TrainingData(
        outcomes={name: OutcomeData(name, X, _column(v), None, "inferred")
                  for name, v in outcomes.items()},
        X_observed=X, X_attempted=X, failed=torch.zeros(n, dtype=torch.bool))


def test_maximised_objective_is_clipped_below_at_the_lower_fence() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, -40.0]
    lower, upper = cutoffs(_column(values), [Objective("y", "maximize")], [])
    # Sorted, Q1 is the 2nd value (1, "lower"), Q3 the 7th (6, "higher"): IQR 5, fence -6.5.
    assert (lower, upper) == (-6.5, math.inf)
    data, clips = winsorize(_data(y=values), [Objective("y", "maximize")], [])
    assert data.outcomes["y"].Y[-1, 0] == -6.5
    assert clips["y"].clipped == 1
    assert torch.equal(data.outcomes["y"].Y[:-1], _column(values[:-1]))


def test_minimised_objective_is_clipped_above() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 90.0]
    data, clips = winsorize(_data(y=values), [Objective("y", "minimize")], [])
    assert clips["y"].clipped == 1
    assert float(data.outcomes["y"].Y.max()) == 7.0 + 1.5 * (7.0 - 2.0)
    assert float(data.outcomes["y"].Y.min()) == 1.0


def test_constraint_is_clipped_only_on_its_infeasible_side_and_never_across() -> None:
    values = [0.05, 0.1, 0.12, 0.2, 0.25, 0.28, 3.0, 5.0, -9.0]
    constraint = OutcomeConstraint("c", "<=", 0.3)
    data, clips = winsorize(_data(c=values), [Objective("y")], [constraint])
    Y = data.outcomes["c"].Y.reshape(-1)
    raw = _column(values).reshape(-1)
    assert float(Y[-1]) == -9.0  # the feasible side is untouched
    assert bool(((raw > 0.3) == (Y > 0.3)).all())  # nobody changes side
    assert clips["c"].upper > 0.3 and clips["c"].clipped >= 1
    # ">=": the mirror image.
    flipped = [-v for v in values]
    data, _ = winsorize(_data(c=flipped), [Objective("y")], [OutcomeConstraint("c", ">=", -0.3)])
    torch.testing.assert_close(data.outcomes["c"].Y.reshape(-1), -Y)


def test_threshold_beyond_the_quartiles_moves_the_fence_out() -> None:
    """All values feasible and tightly bunched: the fence starts at the threshold, so values
    between the bulk and the threshold are not clipped."""
    values = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.9]
    lower, upper = cutoffs(_column(values), [], [OutcomeConstraint("c", "<=", 1.0)])
    assert (lower, upper) == (-math.inf, 1.0 + 1.5 * (1.0 - 0.01))
    _, clips = winsorize(_data(c=values), [], [OutcomeConstraint("c", "<=", 1.0)])
    assert not clips


def test_few_values_and_unused_outcomes_are_left_alone() -> None:
    data, clips = winsorize(_data(y=[1.0, 2.0, -100.0]), [Objective("y")], [])
    assert not clips and float(data.outcomes["y"].Y.min()) == -100.0
    data, clips = winsorize(_data(z=[1.0, 2.0, 3.0, 4.0, -100.0]), [Objective("y")], [])
    assert not clips


def test_suggest_reports_the_clips_when_switched_on(fast_config: BOConfig) -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0}]})
    xs = [i / 9 for i in range(10)]
    observations = [{"parameters": {"x": x},
                     "outcomes": {"y": -200.0 if x > 0.95 else math.sin(6 * x)}} for x in xs]
    result = suggest(space, observations, [], [{"name": "y", "goal": "maximize"}], [], q=1,
                     config=fast_config, seed=0)
    assert "winsorized" not in result.metrics  # off by default
    on = BOConfig.from_dict({**fast_config.to_dict(),
                             "gp": {**fast_config.to_dict()["gp"], "winsorize": True}})
    result = suggest(space, observations, [], [{"name": "y", "goal": "maximize"}], [], q=1,
                     config=on, seed=0)
    assert result.metrics["winsorized"]["y"]["clipped"] == 1
