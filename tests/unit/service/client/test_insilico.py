"""The built-in in-silico lab measures the constrained Branin benchmark."""

from __future__ import annotations

import math

import pytest

from service.client.insilico import LABS, BraninLab, ExperimentFailed, branin


@pytest.mark.parametrize("x", [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)])
def test_branin_minimisers(x: tuple[float, float]) -> None:
    assert branin(*x) == pytest.approx(0.397887, abs=1e-6)


def test_the_noiseless_lab_is_the_benchmark() -> None:
    lab = LABS["branin"]()
    outcomes = lab.run({"x1": math.pi, "x2": 2.275})
    assert outcomes["value"] == pytest.approx(0.397887, abs=1e-6)
    assert outcomes["constraint"] == pytest.approx((math.pi - 2.5) ** 2 + 5.225**2 - 50)
    assert outcomes["constraint"] < 0  # the constrained optimum is feasible
    assert lab.run({"x1": 10.0, "x2": 15.0})["constraint"] > 0


def test_noise_and_failures_follow_the_seed() -> None:
    a = [BraninLab(noise_sd=0.5, seed=3).run({"x1": 1.0, "x2": 1.0}) for _ in range(2)]
    assert a[0] == a[1] and a[0]["value"] != branin(1.0, 1.0)
    with pytest.raises(ExperimentFailed):
        BraninLab(failure_rate=1.0).run({"x1": 1.0, "x2": 1.0})
    with pytest.raises(ValueError):
        BraninLab(noise_sd=-1.0)
