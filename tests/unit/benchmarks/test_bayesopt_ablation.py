"""benchmarks/bayesopt_ablation.py: Ax's bilog transform, the copy it is applied to, and the
summary of variants against the default."""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from tests.unit.benchmarks.scripts import load_script


@pytest.fixture(scope="module")
def ablation() -> ModuleType:
    return load_script("bayesopt_ablation")


def test_bilog_keeps_the_threshold_and_the_order(ablation: ModuleType) -> None:
    bound = 3.0
    assert ablation.bilog(bound, bound) == bound
    assert ablation.bilog(bound + math.e - 1.0, bound) == pytest.approx(bound + 1.0)
    assert ablation.bilog(bound - (math.e - 1.0), bound) == pytest.approx(bound - 1.0)
    values = [-5.0, 0.0, 2.9, 3.0, 3.1, 6.0, 50.0]
    transformed = [ablation.bilog(v, bound) for v in values]
    assert transformed == sorted(transformed)
    assert all((t <= bound) == (v <= bound) for v, t in zip(values, transformed, strict=True))


def test_the_bilog_problem_is_a_copy(ablation: ModuleType) -> None:
    problem = ablation.bench._problems()["hartmann6_constrained"]
    design = {f"x{i}": 0.9 for i in range(6)}  # sum 5.4: infeasible by 2.4
    transformed = ablation.with_bilog_constraint(problem)
    assert transformed.measure(0)([design])[0]["c"] == pytest.approx(3.0 + math.log1p(2.4))
    assert problem.measure(0)([design])[0]["c"] == pytest.approx(5.4)
    assert transformed.measure(0)([design])[0]["hartmann"] == \
        problem.measure(0)([design])[0]["hartmann"]


def test_the_summary_is_over_the_variants_not_the_default(ablation: ModuleType) -> None:
    def variant(median: float, p: float) -> dict:
        return {"median": median, "vs_default": {"sign_test_p": p}}

    results = {"a": {"default": variant(2.0, 1.0), "x": variant(1.0, 0.3)},
               "b": {"default": variant(4.0, 1.0), "x": variant(5.0, 0.6)}}
    assert ablation.summary(results) == (0.3, 0.5)


def test_runs_off_the_benchmarks_batch_size_or_seeds_write_their_own_file(
        ablation: ModuleType) -> None:
    q = ablation.bench.Q
    assert ablation.results_name(q, 0) == "bayesopt_ablation.json"
    assert ablation.results_name(8, 0) == "bayesopt_ablation_q8.json"
    assert ablation.results_name(q, 100) == "bayesopt_ablation_from100.json"
    assert ablation.results_name(8, 100) == "bayesopt_ablation_q8_from100.json"
