"""benchmarks/sequence.py: the table, the summary goal and the JSON sanitiser on hand-made runs."""

from __future__ import annotations

import json
import math
from types import ModuleType
from typing import Any

import pytest

from tests.unit.benchmarks.scripts import load_script


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("sequence")


def _outcomes(bench: ModuleType, *, ours_4x4: bool = True, ours_6x6: int = 2,
              sa: bool = True) -> list:
    """2 targets per lattice; gradient: 5 calls, SA: 600 calls, random: 1000 calls each."""
    rows = []
    for lattice in ("4x4", "6x6"):
        for target in (0, 1):
            ours = ours_4x4 if lattice == "4x4" else target < ours_6x6
            for method, success, calls, predictor in (
                    ("gradient_boltzmann", ours, 5, 1700),
                    ("simulated_annealing", sa, 600, 0),
                    ("random_search", False, 1000, 0)):
                rows.append(bench.Outcome(lattice, target, method, success, calls, predictor,
                                          0.5, "hp" if success else None,
                                          True if success else None))
    return rows


def test_summary_goal_met(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    table = bench.summarise(_outcomes(bench))
    row = table["all/gradient_boltzmann"]
    assert row["successes"] == 4 and row["oracle_calls_per_success"] == 5.0
    assert row["predictor_calls_per_success"] == 1700.0 and row["seconds_per_success"] == 0.5
    assert table["all/random_search"]["predictor_calls"] == 0  # oracle-only, no successes
    assert table["all/random_search"]["predictor_calls_per_success"] == 0.0
    assert math.isinf(table["all/random_search"]["oracle_calls_per_success"])
    summary = bench._summary(table)
    assert summary == {"success_rate": 1.0, "oracle_calls_vs_sa": 120.0, "false_positives": 0,
                       "goal_met": True}
    bench.print_table(table, bench.SETTINGS["quick"])  # inf cells print without error
    assert "per-target wall-clock cap" in capsys.readouterr().out


@pytest.mark.parametrize("change", [{"ours_4x4": False}, {"ours_6x6": 1}])
def test_summary_goal_not_met_below_success_targets(bench: ModuleType,
                                                    change: dict[str, Any]) -> None:
    summary = bench._summary(bench.summarise(_outcomes(bench, **change)))
    assert not summary["goal_met"]


def test_false_positive_and_over_cap_fail_the_goal(bench: ModuleType) -> None:
    outcomes = _outcomes(bench)
    outcomes[0].confirmed = False  # a claimed success the exact fold rejects
    summary = bench._summary(bench.summarise(outcomes))
    assert summary["false_positives"] == 1 and not summary["goal_met"]
    outcomes = _outcomes(bench)
    outcomes[0].success, outcomes[0].over_cap = False, True  # found after the cap
    table = bench.summarise(outcomes)
    assert table["4x4/gradient_boltzmann"]["over_cap"] == 1
    assert not bench._summary(table)["goal_met"]


def test_summary_ratio_below_ten_fails(bench: ModuleType) -> None:
    outcomes = _outcomes(bench)
    for o in outcomes:
        if o.method == "simulated_annealing":
            o.oracle_calls = 40  # SA 40 calls per success vs 5: ratio 8
    summary = bench._summary(bench.summarise(outcomes))
    assert summary["oracle_calls_vs_sa"] == 8.0 and not summary["goal_met"]


@pytest.mark.parametrize(("sa", "expected"), [(True, 0.0), (False, None)])
def test_zero_successes_write_finite_json(bench: ModuleType, sa: bool,
                                          expected: float | None) -> None:
    table = bench.summarise(_outcomes(bench, ours_4x4=False, ours_6x6=0, sa=sa))
    summary = bench._summary(table)
    assert summary["success_rate"] == 0.0 and not summary["goal_met"]
    text = json.dumps(bench._finite({"table": table, "summary": summary}), allow_nan=False)
    document = json.loads(text)
    assert document["summary"]["oracle_calls_vs_sa"] == expected
    assert document["table"]["all/gradient_boltzmann"]["oracle_calls_per_success"] is None
    assert document["table"]["all/gradient_boltzmann"]["seconds_per_success"] is None
