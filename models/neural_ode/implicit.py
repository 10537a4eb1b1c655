r"""A stiff fallback: the L-stable two-stage SDIRK method of order 2 (Alexander 1977).

With :math:`\gamma = 1 - 1/\sqrt 2`, each step of size :math:`h` solves two implicit stages

.. math:: k_1 = f(t + \gamma h,\; y + \gamma h k_1), \qquad
          k_2 = f(t + h,\; y + (1-\gamma) h k_1 + \gamma h k_2),
          \qquad y_{n+1} = y + (1-\gamma) h k_1 + \gamma h k_2,

by Newton's method on :math:`z = h k`, with the Jacobian :math:`J = \partial f / \partial y`
from autograd (one per step, detached: a simplified Newton). L-stability means any decay
rate, however fast, is damped in one step: it never needs the tiny steps that make explicit
adaptive methods underflow on stiff kinetics. Gradients flow by direct backpropagation
through the (converged) Newton iterations.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["sdirk2"]

GAMMA = 1.0 - 1.0 / math.sqrt(2.0)


def _jacobian(func: Callable[[Tensor, Tensor], Tensor], t: Tensor, y: Tensor) -> Tensor:
    flat = y.detach().reshape(-1)

    def f_flat(v: Tensor) -> Tensor:
        return func(t, v.reshape(y.shape)).reshape(-1)

    with torch.enable_grad():
        jac = torch.autograd.functional.jacobian(f_flat, flat)
    return jac.detach()


def _stage(func: Callable[[Tensor, Tensor], Tensor], t: Tensor, base: Tensor, h: Tensor,
           lu: tuple[Tensor, Tensor], iterations: int) -> Tensor:
    """Solve :math:`k = f(t, base + \\gamma h k)` for :math:`k` by simplified Newton."""
    k = func(t, base)
    for _ in range(iterations):
        g = (k - func(t, base + GAMMA * h * k)).reshape(-1, 1)
        k = k - torch.linalg.lu_solve(*lu, g).reshape(k.shape)
    return k


def sdirk2(func: Callable[[Tensor, Tensor], Tensor], y0: Tensor, t: Tensor, step: float,
           newton_iterations: int = 4) -> Tensor:
    """States at the times ``t`` (`len(t) x *y0.shape`) by fixed steps of at most ``step``.

    Args:
        func: :math:`f(t, y)`.
        y0: Initial state at ``t[0]``.
        t: Increasing output times.
        step: Largest step (the interval between outputs is split evenly).
        newton_iterations: Simplified-Newton iterations per stage.
    """
    out = [y0]
    y = y0
    eye = torch.eye(y0.numel(), dtype=y0.dtype)
    for a, b in itertools.pairwise(t):
        n = max(1, math.ceil(float(b - a) / step))
        h = (b - a) / n
        for i in range(n):
            ti = a + i * h
            lu = torch.linalg.lu_factor(eye - GAMMA * h * _jacobian(func, ti, y))
            k1 = _stage(func, ti + GAMMA * h, y, h, lu, newton_iterations)
            base = y + (1.0 - GAMMA) * h * k1
            k2 = _stage(func, ti + h, base, h, lu, newton_iterations)
            y = base + GAMMA * h * k2
        out.append(y)
    return torch.stack(out)
