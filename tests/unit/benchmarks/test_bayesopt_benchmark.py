"""benchmarks/bayesopt.py: the summary's regret ratio and its spread over resampled seeds, on
hand-made final regrets."""

from __future__ import annotations

import statistics
from types import ModuleType
from typing import Any

import pytest

from tests.unit.benchmarks.scripts import load_script

TIMING = {"ratio": 1.5}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("bayesopt")


def _tool(regrets: list[float], seconds: float = 0.1) -> dict[str, Any]:
    return {"final_regrets": regrets, "final_regret_median": statistics.median(regrets),
            "seconds_per_suggestion_wall_median": seconds}


def _results(ours: list[float], ax: list[float], optuna: list[float]
             ) -> dict[str, dict[str, dict[str, Any]]]:
    return {"p": {"sobol": _tool([9.0] * len(ours)), "designloop": _tool(ours),
                  "ax": _tool(ax), "optuna": _tool(optuna)}}


def test_the_ratio_is_designloops_median_over_the_best_peers(bench: ModuleType) -> None:
    results = _results([2.0, 4.0, 6.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    ratio, _, met = bench.verdict(results, TIMING)
    assert ratio == pytest.approx(2.0, rel=1e-5)
    assert not met
    # The worse problem decides.
    results["q"] = _results([1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [3.0, 3.0, 3.0])["p"]
    assert bench.verdict(results, TIMING)[0] == pytest.approx(2.0, rel=1e-5)


def test_a_tool_ahead_on_every_seed_meets_the_goal_on_every_resample(bench: ModuleType) -> None:
    peer = [0.5, 1.0, 2.0, 0.3, 0.9, 1.4, 0.7, 2.2, 0.4, 1.1]
    spread = bench.regret_ratio_spread(_results([0.5 * r for r in peer], peer, peer))
    assert spread["share_at_most_1"] == 1.0
    assert spread["p95"] == pytest.approx(0.5, rel=1e-5)


def test_a_tool_behind_on_every_seed_never_meets_it(bench: ModuleType) -> None:
    peer = [0.5, 1.0, 2.0, 0.3, 0.9, 1.4, 0.7, 2.2, 0.4, 1.1]
    spread = bench.regret_ratio_spread(_results([1.2 * r for r in peer], peer, peer))
    assert spread["share_at_most_1"] == 0.0
    assert spread["p05"] == pytest.approx(1.2, rel=1e-5)


def test_the_same_seeds_are_drawn_for_every_tool(bench: ModuleType) -> None:
    """Tools tied seed by seed stay tied on every resample; drawn independently per tool,
    their medians would part."""
    peer = [0.1, 5.0, 0.2, 4.0, 0.3, 3.0, 0.4, 2.0, 0.5, 1.0]
    spread = bench.regret_ratio_spread(_results(list(peer), peer, [10.0] * 10))
    assert spread["p05"] == pytest.approx(1.0) and spread["p95"] == pytest.approx(1.0)


def test_a_spread_wants_two_seeds_and_a_peer(bench: ModuleType) -> None:
    assert bench.regret_ratio_spread(_results([1.0], [1.0], [1.0])) is None
    alone = {"p": {"designloop": _tool([1.0, 2.0])}}
    assert bench.regret_ratio_spread(alone) is None


def test_seed_by_seed_counts_wins_ties_and_losses(bench: ModuleType) -> None:
    record = bench.seed_by_seed([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 4.0, 5.0])
    assert (record["seeds_better"], record["seeds_equal"], record["seeds_worse"]) == (3, 1, 0)
    assert record["sign_test_p"] == pytest.approx(0.25)  # 3 wins of 3: 2 * 0.5**3
    assert bench.seed_by_seed([1.0], [1.0])["sign_test_p"] == 1.0


class _ShortClient:
    """Gives at most ``per_call[i]`` trials on its i-th call (Ax's ``Client`` gave one where
    two were asked for on its first BO call), remembering what was asked for."""

    def __init__(self, per_call: list[int]) -> None:
        self.per_call, self.asked, self.next_index = list(per_call), [], 0

    def get_next_trials(self, max_trials: int) -> dict[int, dict[str, float]]:
        self.asked.append(max_trials)
        count = min(max_trials, self.per_call.pop(0))
        trials = {self.next_index + i: {"x": float(self.next_index + i)} for i in range(count)}
        self.next_index += count
        return trials


def test_an_ax_round_is_topped_up_to_its_batch_size(bench: ModuleType) -> None:
    """A short answer is asked again for the rest (with the first trials running), so every
    tool gets the same rounds; an empty answer ends the round instead of looping."""
    client = _ShortClient([1, 5])
    assert list(bench._ax_batch(client, 2)) == [0, 1]
    assert client.asked == [2, 1]
    assert list(bench._ax_batch(_ShortClient([2]), 2)) == [0, 1]
    assert list(bench._ax_batch(_ShortClient([1, 0]), 3)) == [0]
