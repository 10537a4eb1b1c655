"""The strategy contract: the registry, the stopping rule, and the space-filling round."""

from __future__ import annotations

import importlib

import pytest

from models.design.rounds import STRATEGIES, RoundRequest, UnknownStrategyError, load_strategy
from models.design.space_filling_round import propose as space_filling
from models.design.stopping import stopped_improving
from models.space.keys import design_key
from models.space.space import Space
from service.schemas.campaign import STRATEGY_KINDS

SPACE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "integer", "name": "n", "lower": 1, "upper": 4}]})


def test_the_api_offers_exactly_the_registered_strategies() -> None:
    assert sorted(STRATEGY_KINDS) == sorted(STRATEGIES)


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_every_registered_strategy_imports(kind: str) -> None:
    module_name, _, attr = STRATEGIES[kind].partition(":")
    assert callable(getattr(importlib.import_module(module_name), attr))
    assert callable(load_strategy(kind))


def test_an_unknown_strategy_is_a_typed_error() -> None:
    with pytest.raises(UnknownStrategyError, match="known"):
        load_strategy("alchemy")


def request(count: int, state: dict[str, int] | None = None,
            taken: frozenset[str] = frozenset()) -> RoundRequest:
    return RoundRequest(space=SPACE, observations=[], pending=[], taken=taken, objectives=[],
                        constraints=[], count=count, seed=3, state=state or {})


def test_space_filling_rounds_continue_one_stream_and_skip_taken_designs() -> None:
    whole = space_filling(request(6))
    first = space_filling(request(3))
    keys = frozenset(design_key(d.parameters) for d in first.designs)
    second = space_filling(request(3, state=dict(first.state), taken=keys))
    assert [d.parameters for d in first.designs + second.designs] == \
        [d.parameters for d in whole.designs]
    assert second.state["sobol_skip"] == whole.state["sobol_skip"]


@pytest.mark.parametrize(("history", "goal", "stopped"), [
    ([5.0, 3.0, 2.9999, 2.9999], "minimize", True),     # gains below 1e-3 relative
    ([5.0, 3.0, 2.0], "minimize", False),
    ([1.0, 2.0, 2.0005, 2.0009], "maximize", True),
    ([1.0, 2.0, 2.5, 2.5], "maximize", False),           # the window still holds a gain
    ([None, None, None], "minimize", False),             # nothing feasible yet
    ([3.0, 2.0], "minimize", False),                     # too short to judge
    ([0.0, 1e-6, 2e-6, 3e-6], "maximize", True),         # near zero: the absolute floor
])
def test_the_stopping_rule(history: list[float | None], goal: str, stopped: bool) -> None:
    assert stopped_improving(history, goal=goal, patience=2, min_improvement=1e-3) is stopped


def test_patience_must_be_positive() -> None:
    with pytest.raises(ValueError, match="patience"):
        stopped_improving([1.0], goal="minimize", patience=0, min_improvement=0.0)
