"""Continuation: heavy L2 pull towards the anchor, annealed to zero, each stage warm-started.

On f(x) = (x1 - 0.8)^2 + (x2 - 0.8)^2 over [0, 1]^2 (so u = x) without constraints, the merit of
a stage with weight c is f / s + c * mean((u - a)^2) (s: the objective scale, a: the start), whose
minimiser is closed form: u_c = (2 * 0.8 / s + c * a) / (2 / s + c). Each stage must end there,
start from where the previous one ended, and the last stage (c = 0) at the optimum (0.8, 0.8).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import torch

import models.design.inverse as inverse_module
from models.design.inverse import InverseDesignConfig, inverse_design
from models.design.inverse_spg import SPGResult, spg_minimize

F64 = torch.float64
TARGET = 0.8
UNIT = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=F64)


def bowl(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = ((X - TARGET) ** 2).sum(dim=-1, keepdim=True)
    return mean, torch.zeros_like(mean)


def test_continuation_stages_warm_start_and_reach_the_known_optimum(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []  # (start, end) of each inner solve

    def recording_spg(fun: Callable[[torch.Tensor], torch.Tensor], u0: torch.Tensor,
                      **kwargs: Any) -> SPGResult:
        res = spg_minimize(fun, u0, **kwargs)
        calls.append((u0.detach().clone(), res.u.detach().clone()))
        return res

    monkeypatch.setattr(inverse_module, "spg_minimize", recording_spg)
    initial = torch.tensor([[0.1, 0.2], [0.3, 0.95], [0.0, 0.0]], dtype=F64)
    config = InverseDesignConfig(kappa=0.0, max_step=None, tol=1e-10, inner_iterations=500)
    assert config.continuation == (1.0, 0.1, 0.01, 0.0)  # the documented default
    result = inverse_design(bowl, UNIT, config=config, initial=initial)

    # One inner solve per stage (no constraints), in the order heavy -> none.
    stages = result.metrics["stages"]
    assert [stage["weight"] for stage in stages] == [1.0, 0.1, 0.01, 0.0]
    assert len(calls) == 4

    # Stage 1 starts at the given designs; each later stage where the previous one ended.
    torch.testing.assert_close(calls[0][0], initial, atol=0, rtol=0)
    for (_, end), (start, _) in itertools.pairwise(calls):
        torch.testing.assert_close(start, end, atol=0, rtol=0)

    # Each stage ends at its own closed-form minimiser: the heavy stage stays near the starts,
    # and the pull weakens stage by stage.
    scale = result.metrics["objective_scale"]
    for weight, (_, end) in zip(config.continuation, calls, strict=True):
        expected = (2 * TARGET / scale + weight * initial) / (2 / scale + weight)
        torch.testing.assert_close(end, expected, atol=1e-6, rtol=0)
    heavy_gap = (calls[0][1] - TARGET).abs().max()
    assert float(heavy_gap) > 0.05  # the heavy-L2 stage has not reached the optimum yet
    gaps = [float((end - TARGET).abs().max()) for _, end in calls]
    assert gaps == sorted(gaps, reverse=True)

    # The last stage (weight 0) solves the actual problem: every start at the known optimum.
    torch.testing.assert_close(result.starts, torch.full((3, 2), TARGET, dtype=F64),
                               atol=1e-6, rtol=0)
    assert result.x.shape == (1, 2) and int(result.cluster_size[0]) == 3
    assert float(result.value[0]) == pytest.approx(0.0, abs=1e-10)
    assert bool(result.converged[0])
