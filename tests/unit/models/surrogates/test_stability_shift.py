"""The shifted power-iteration pass finds lambda_max from a start aligned with the wrong
eigenvector (a failure seen with indefinite gradient-target losses)."""

from __future__ import annotations

import math

import pytest
import torch

from models.surrogates.stability import power_iteration

F64 = torch.float64


def test_shifted_pass_escapes_a_start_on_the_negative_eigenvector() -> None:
    # Eigenvalue -10 along (1, 1) and 3 along (1, -1): a constant start (plus a bit of the
    # previous eigenvector) lies exactly on the dominant negative eigenvector.
    q = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=F64) / math.sqrt(2.0)
    a = q @ torch.diag(torch.tensor([-10.0, 3.0], dtype=F64)) @ q.T
    estimate = power_iteration(lambda v: [a @ v[0]], [torch.ones(2, dtype=F64)],
                               iterations=200, rtol=1e-12)
    assert estimate.shifted
    assert float(estimate.value) == pytest.approx(3.0, rel=1e-8)
