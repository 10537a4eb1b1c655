"""qLogNEI's per-sample terms in one pass: the values are BoTorch's (log fatplus of the
improvement, log fatmoid of each scaled slack) and the closed-form derivatives are autograd's
through BoTorch's functions, on both sides of every branch."""

from __future__ import annotations

import torch

from models.bo.log_improvement import LogImprovementTerms
from models.bo.sample_terms import OutcomeSlack, SignedOutcome

F64 = torch.float64


def _terms(tau: float) -> LogImprovementTerms:
    slacks = [OutcomeSlack(1, 1.0, 0.3, 0.5), OutcomeSlack(2, -1.0, -0.2, 2.0),
              OutcomeSlack(1, -1.0, -1.0, 1.0)]  # output 1 twice, as two constraints
    return LogImprovementTerms.build(SignedOutcome(0, -1.0), slacks,
                                     torch.tensor([1e-2, 1e-3, 0.5], dtype=F64), tau)


def _samples() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    samples = torch.randn(64, 5, 1, 3, generator=g, dtype=F64) * 0.7
    best = torch.randn(64, 1, generator=g, dtype=F64) * 0.7
    return samples, best


def test_values_and_derivatives_match_botorch() -> None:
    for tau in (1e-6, 1.0):
        terms = _terms(tau)
        samples, best = _samples()
        A, b = terms.linear_map(3)
        arguments = samples @ A + b
        arguments[..., 0] -= best.unsqueeze(-1)
        torch.testing.assert_close(arguments[..., 0], terms.improvement(samples, best))
        torch.testing.assert_close(arguments[..., 1:], terms.scaled_slacks(samples))
        # Both branches of every term are exercised.
        assert bool((arguments < 0).any(dim=(0, 1, 2)).all())
        assert bool((arguments > 0).any(dim=(0, 1, 2)).all())
        value, slopes = terms.evaluate(arguments, gradient=True)
        assert slopes is not None
        x = samples.clone().requires_grad_(True)
        expected = terms.values(x, best)
        (expected_grad,) = torch.autograd.grad(expected.sum(), x)
        torch.testing.assert_close(value, expected.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(slopes @ A.T, expected_grad, rtol=1e-9, atol=1e-12)
        no_gradient = terms.evaluate(arguments, gradient=False)
        assert no_gradient[1] is None and torch.equal(no_gradient[0], value)
