r"""Residual-based adaptive resampling of collocation points (RAD).

Where the residual is large the network has not learned the physics yet; putting more
points there spends the budget where it is needed. Following Wu, Zhu, Tan, Kartha & Lu
(2023, "A comprehensive study of non-adaptive and residual-based adaptive sampling for
PINNs"), points are drawn from a dense candidate set with probability

.. math:: p(x) \propto \frac{|r(x)|^k}{\mathbb{E}|r|^k} + c,

``k`` sharpening the focus and ``c`` keeping a uniform share (``k = 1, c = 1`` is their
robust default).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["resample", "residual_probabilities"]


def residual_probabilities(residual: Tensor, k: float = 1.0, c: float = 1.0) -> Tensor:
    """The RAD sampling probabilities of candidates with residuals `n x m` (summing to 1)."""
    size = residual.detach().abs().reshape(residual.shape[0], -1).sum(dim=1) ** k
    mean = size.mean()
    density = size / mean + c if mean > 0 else torch.ones_like(size)
    return density / density.sum()


def resample(candidates: Tensor, residual: Tensor, n: int, seed: int, k: float = 1.0,
             c: float = 1.0) -> Tensor:
    """``n`` of the ``candidates`` (`N x d`, ``N >= n``) drawn without replacement by RAD."""
    if candidates.shape[0] < n:
        raise ValueError(f"need at least {n} candidates, got {candidates.shape[0]}")
    p = residual_probabilities(residual, k, c)
    generator = torch.Generator().manual_seed(seed)
    index = torch.multinomial(p.to(torch.float64), n, replacement=False, generator=generator)
    return candidates[index]
