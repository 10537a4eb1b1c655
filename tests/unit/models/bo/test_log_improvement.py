"""qLogNEI's per-sample terms in one pass: the values are BoTorch's (log fatplus of the
improvement, log fatmoid of each scaled slack, computed here from the objective and slack
value objects with BoTorch's own functions) and the closed-form derivatives are autograd's
through them, on both sides of every branch."""

from __future__ import annotations

import torch
from botorch.utils.safe_math import log_fatmoid, log_fatplus

from models.bo.log_improvement import LogImprovementTerms
from models.bo.sample_terms import OutcomeSlack, SignedOutcome

F64 = torch.float64
OBJECTIVE = SignedOutcome(0, -1.0)
SLACKS = [OutcomeSlack(1, 1.0, 0.3, 0.5), OutcomeSlack(2, -1.0, -0.2, 2.0),
          OutcomeSlack(1, -1.0, -1.0, 1.0)]  # output 1 twice, as two constraints
ETA = torch.tensor([1e-2, 1e-3, 0.5], dtype=F64)


def _botorch(samples: torch.Tensor, best: torch.Tensor, tau: float) -> torch.Tensor:
    """BoTorch's qLogNEI terms per sample and candidate, from the value objects."""
    value = log_fatplus(OBJECTIVE(samples) - best.unsqueeze(-1), tau=tau)
    for slack, eta in zip(SLACKS, ETA, strict=True):
        value = value + log_fatmoid(-slack(samples) / eta)
    return value


def test_values_and_derivatives_match_botorch() -> None:
    g = torch.Generator().manual_seed(0)
    samples = torch.randn(64, 5, 2, 3, generator=g, dtype=F64) * 0.7
    best = torch.randn(64, 1, generator=g, dtype=F64) * 0.7
    for tau in (1e-6, 1.0):
        terms = LogImprovementTerms.build(OBJECTIVE, SLACKS, ETA, tau, outputs=3)
        arguments = terms.arguments(samples, best)
        # Both branches of every term are exercised.
        assert bool((arguments < 0).any(dim=(0, 1, 2)).all())
        assert bool((arguments > 0).any(dim=(0, 1, 2)).all())
        value, slopes = terms.evaluate(arguments, gradient=True)
        assert slopes is not None
        x = samples.clone().requires_grad_(True)
        expected = _botorch(x, best, tau)
        (expected_grad,) = torch.autograd.grad(expected.sum(), x)
        torch.testing.assert_close(value, expected.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(slopes @ terms.A.T, expected_grad, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(terms.values(samples, best), value, rtol=0, atol=0)
        assert terms.evaluate(arguments, gradient=False)[1] is None
