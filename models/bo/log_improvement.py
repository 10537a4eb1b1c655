r"""qLogNEI's per-sample terms and their derivatives in closed form.

Per posterior sample :math:`s` and candidate, qLogNEI (BoTorch's ``fat`` form) adds

.. math::

    h_s = \log \mathrm{fatplus}_\tau(g(f_s) - f^*_s)
          + \sum_c \log \mathrm{fatmoid}(-\mathrm{slack}_c(f_s) / \eta_c),

with :math:`\mathrm{fatplus}_\tau(x) = \tau\,(\mathrm{softplus}(x/\tau) + 0.1\,c(x/\tau))`,
:math:`c(t) = 1/(1+t^2)`, and :math:`\mathrm{fatmoid}(v) = \tfrac23 c(v - m)` for
:math:`v < 0`, :math:`1 - \tfrac23 c(v + m)` otherwise (:math:`m = 1/\sqrt3`): BoTorch's
``botorch.utils.safe_math`` functions, written out here once for every path (the tests hold
them to BoTorch's). Every argument is affine in the samples (:meth:`LogImprovementTerms.
arguments`), and each term depends on one argument, so its derivative is elementwise:

.. math::

    \frac{d}{dx} \log \mathrm{fatplus}_\tau(x)
        = \frac{\sigma(y) - 0.2\,y\,c(y)^2}{\tau\,(\mathrm{softplus}(y) + 0.1\,c(y))},\ y = x/\tau;
    \qquad
    \frac{d}{dv} \log \mathrm{fatmoid}(v) = \frac{\mathrm{fatmoid}'(v)}{\mathrm{fatmoid}(v)},
    \ c'(t) = -2t\,c(t)^2.

Why by hand: with one candidate per batch member, :class:`models.bo.fused_log_nei.FusedLogNEI`
evaluates these and their gradient without recording them for autograd (what recording and
replaying these few dozen elementwise operations cost was a third of an evaluation); for
several candidates autograd differentiates the same formulas. The tests hold values and
derivatives to BoTorch's functions and autograd's gradient through them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
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
        A: `outputs x (1 + constraints)`: the terms' arguments are ``samples @ A + b``, the
            improvement first (before the incumbent is subtracted), then each constraint's
            ``-slack / eta``; its transpose takes the terms' derivatives back to the outputs.
        b: `1 + constraints` offsets of the arguments.
        tau: The temperature of the fat softplus (BoTorch's ``tau_relu``).
    """

    objective_index: int
    objective_sign: float
    A: Tensor
    b: Tensor
    tau: float

    @classmethod
    def build(cls, objective: SignedOutcome, slacks: list[OutcomeSlack], eta: Tensor,
              tau: float, outputs: int) -> LogImprovementTerms:
        """The terms of an objective and constraint slacks (each ``sign * (y - threshold) /
        scale``) with temperatures ``eta`` (one per slack), on samples of ``outputs``."""
        dtype = torch.float64
        A = torch.zeros(outputs, 1 + len(slacks), dtype=dtype)
        b = torch.zeros(1 + len(slacks), dtype=dtype)
        A[objective.index, 0] = objective.sign
        for column, (slack, temperature) in enumerate(zip(slacks, eta.tolist(), strict=True),
                                                      start=1):
            per_unit = -slack.sign / (slack.scale * temperature)
            A[slack.index, column] = per_unit
            b[column] = -slack.threshold * per_unit
        return cls(objective.index, objective.sign, A, b, tau)

    def arguments(self, samples: Tensor, best: Tensor) -> Tensor:
        """Every term's argument, `samples x ... x q x (1 + constraints)`, for samples
        `samples x ... x q x m` and the incumbent `samples x ...` (broadcastable)."""
        arguments = samples @ self.A + self.b
        arguments[..., 0] -= best.unsqueeze(-1)
        return arguments

    def values(self, samples: Tensor, best: Tensor) -> Tensor:
        """:math:`h` per sample and candidate, `samples x ... x q` (differentiable)."""
        return self.evaluate(self.arguments(samples, best), gradient=False)[0]

    def evaluate(self, arguments: Tensor, gradient: bool) -> tuple[Tensor, Tensor | None]:
        r""":math:`h` (`...`) and, if asked, :math:`\partial h / \partial` ``arguments`` (its
        shape), from the terms' :meth:`arguments`, in one pass: the same formulas as BoTorch's
        functions."""
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
