r"""qLogNEI's per-sample terms and their derivatives in closed form.

Per posterior sample :math:`s` and candidate, qLogNEI (BoTorch's ``fat`` form) adds

.. math::

    h_s = \log \mathrm{fatplus}_\tau(g(f_s) - f^*_s)
          + \sum_c \log \mathrm{fatmoid}(-\mathrm{slack}_c(f_s) / \eta_c),

with :math:`\mathrm{fatplus}_\tau(x) = \tau\,(\mathrm{softplus}(x/\tau) + 0.1\,c(x/\tau))`,
:math:`c(t) = 1/(1+t^2)`, and :math:`\mathrm{fatmoid}(v) = \tfrac23 c(v - m)` for
:math:`v < 0`, :math:`1 - \tfrac23 c(v + m)` otherwise (:math:`m = 1/\sqrt3`): BoTorch's
``botorch.utils.safe_math`` functions, which compute the values here. Each term depends on
one output of one sample, so its derivative is elementwise:

.. math::

    \frac{d}{dx} \log \mathrm{fatplus}_\tau(x)
        = \frac{\sigma(y) - 0.2\,y\,c(y)^2}{\tau\,(\mathrm{softplus}(y) + 0.1\,c(y))},\ y = x/\tau;
    \qquad
    \frac{d}{dv} \log \mathrm{fatmoid}(v) = \frac{\mathrm{fatmoid}'(v)}{\mathrm{fatmoid}(v)},
    \ c'(t) = -2t\,c(t)^2.

Why by hand: with one candidate per batch member, :class:`models.bo.fused_log_nei.FusedLogNEI`
evaluates these and their gradient without recording them for autograd (what recording and
replaying these few dozen elementwise operations cost was a third of an evaluation). The tests
hold the derivatives to autograd's through BoTorch's functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from botorch.utils.safe_math import log_fatmoid, log_fatplus
from torch import Tensor

from models.bo.sample_terms import OutcomeSlack, SignedOutcome

__all__ = ["LogImprovementTerms"]

_M = math.sqrt(1.0 / 3.0)  # fatmoid's inflection offset (BoTorch's _inv_sqrt_3)
_CAUCHY_WEIGHT = 0.1  # fatplus's weight of the Cauchy term (BoTorch's alpha)


@dataclass
class LogImprovementTerms:
    r"""The objective and constraint terms of qLogNEI, on samples of all outputs.

    Attributes:
        objective_index: The objective's output.
        objective_sign: ``+1`` to maximise, ``-1`` to minimise.
        slack_indices: Each constraint's output (may repeat).
        thresholds: Each constraint's bound, in the outcome's units.
        slack_factors: ``+1`` for ``y <= threshold``, ``-1`` for ``y >= threshold``.
        slack_scales: Each slack's unit.
        eta: Each constraint's temperature.
        tau: The temperature of the fat softplus (BoTorch's ``tau_relu``).
    """

    objective_index: int
    objective_sign: float
    slack_indices: list[int]
    thresholds: Tensor
    slack_factors: Tensor
    slack_scales: Tensor
    eta: Tensor
    tau: float

    @classmethod
    def build(cls, objective: SignedOutcome, slacks: list[OutcomeSlack], eta: Tensor,
              tau: float) -> LogImprovementTerms:
        dtype = torch.float64
        return cls(objective.index, objective.sign, [s.index for s in slacks],
                   torch.tensor([s.threshold for s in slacks], dtype=dtype),
                   torch.tensor([s.sign for s in slacks], dtype=dtype),
                   torch.tensor([s.scale for s in slacks], dtype=dtype), eta, tau)

    def improvement(self, samples: Tensor, best: Tensor) -> Tensor:
        """``g(f) - f*``, `samples x ... x q`, for samples `samples x ... x q x m` and the
        incumbent `samples x ...`."""
        return self.objective_sign * samples[..., self.objective_index] - best.unsqueeze(-1)

    def scaled_slacks(self, samples: Tensor) -> Tensor:
        """``-slack / eta`` of every constraint, `samples x ... x q x constraints`."""
        slack = (samples[..., self.slack_indices] - self.thresholds) * self.slack_factors \
            / self.slack_scales
        return -slack / self.eta

    def values(self, samples: Tensor, best: Tensor) -> Tensor:
        """:math:`h` per sample and candidate, `samples x ... x q` (BoTorch's functions)."""
        value = log_fatplus(self.improvement(samples, best), tau=self.tau)
        if self.slack_indices:
            value = value + log_fatmoid(self.scaled_slacks(samples)).sum(-1)
        return value

    def linear_map(self, outputs: int) -> tuple[Tensor, Tensor]:
        r"""``(A, b)``: every term's argument is affine in the samples,
        ``samples @ A + b`` (`... x (1 + constraints)`), the improvement first (before the
        incumbent is subtracted), then each ``-slack / eta``. ``A`` is `outputs x (1 +
        constraints)`; its transpose takes the terms' derivatives back to the outputs."""
        dtype = self.thresholds.dtype
        A = torch.zeros(outputs, 1 + len(self.slack_indices), dtype=dtype)
        A[self.objective_index, 0] = self.objective_sign
        per_unit = -self.slack_factors / (self.slack_scales * self.eta)
        for column, index in enumerate(self.slack_indices, start=1):
            A[index, column] = per_unit[column - 1]
        b = torch.cat([torch.zeros(1, dtype=dtype), -self.thresholds * per_unit])
        return A, b

    def evaluate(self, arguments: Tensor, gradient: bool) -> tuple[Tensor, Tensor | None]:
        r""":math:`h` (`...`) and, if asked, :math:`\partial h / \partial` ``arguments`` (its
        shape), from the terms' arguments (the improvement already net of the incumbent;
        see :meth:`linear_map`), in one pass: the same formulas as BoTorch's functions."""
        y = arguments[..., 0] / self.tau
        cauchy = 1.0 / (1.0 + y * y)
        fatplus = torch.nn.functional.softplus(y) + _CAUCHY_WEIGHT * cauchy
        h = torch.log(self.tau * fatplus)
        v = arguments[..., 1:]
        negative = v < 0
        t = torch.where(negative, v - _M, v + _M)
        c = 1.0 / (1.0 + t * t)
        fatmoid = torch.where(negative, (2.0 / 3.0) * c, 1.0 - (2.0 / 3.0) * c)
        h = h + torch.log(fatmoid).sum(-1)
        if not gradient:
            return h, None
        slope = (torch.sigmoid(y) - 2.0 * _CAUCHY_WEIGHT * y * cauchy * cauchy) \
            / (self.tau * fatplus)
        moid = (4.0 / 3.0) * t * c * c * torch.where(negative, -1.0, 1.0) / fatmoid
        return h, torch.cat([slope.unsqueeze(-1), moid], dim=-1)
