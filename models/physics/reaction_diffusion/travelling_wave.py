r"""The exact Ablowitz–Zeppetella travelling wave of Fisher–KPP.

For :math:`u_t = D u_{xx} + r u (1-u)` (Ablowitz & Zeppetella 1979, Bull. Math. Biol. 41:835):

.. math:: u(x, t) = \bigl[1 + C\,e^{\kappa (x - c t)}\bigr]^{-2},
          \qquad \kappa = \sqrt{r / (6D)}, \quad c = 5\sqrt{rD/6},

a front moving towards :math:`+x` (invading :math:`u = 0` from :math:`u = 1`) at the speed
:math:`c`, slightly above the minimal speed :math:`2\sqrt{rD}`. :math:`C > 0` shifts it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = ["travelling_wave", "wave_speed"]


def wave_speed(diffusivity: float, rate: float) -> float:
    r""":math:`c = 5\sqrt{rD/6}` in km/day."""
    return 5.0 * math.sqrt(rate * diffusivity / 6.0)


def travelling_wave(x: Tensor | np.ndarray, t: Tensor | np.ndarray, diffusivity: float,
                    rate: float, shift: float = 1.0) -> Tensor | np.ndarray:
    """The exact wave at points ``x`` (km), times ``t`` (days); torch or numpy in, same out."""
    kappa = math.sqrt(rate / (6.0 * diffusivity))
    z = kappa * (x - wave_speed(diffusivity, rate) * t)
    if isinstance(z, Tensor):
        return (1.0 + shift * torch.exp(z)) ** -2
    return (1.0 + shift * np.exp(z)) ** -2
