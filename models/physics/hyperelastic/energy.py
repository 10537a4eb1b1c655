r"""Compressible neo-Hookean strain-energy densities (Pa = J/m³, or consistent units).

With deformation gradient :math:`F`, :math:`J = \det F`, :math:`I_1 = \operatorname{tr}F^\top F`
in :math:`n` dimensions (Bonet & Wood, *Nonlinear Continuum Mechanics*, eq. 6.27):

.. math:: W(F) = \tfrac{\mu}{2}(I_1 - n) - \mu\ln J + \tfrac{\lambda}{2}(\ln J)^2,

zero and stress-free at :math:`F = I`; :math:`\mu, \lambda` are the Lamé constants of the
linearised material. The first Piola–Kirchhoff stress is
:math:`P = \mu(F - F^{-\top}) + \lambda \ln J\, F^{-\top}`.

For a bar (1D, :math:`F = \lambda_s`, the stretch) the same form with :math:`n = 1` and a
single modulus pair gives :math:`P(\lambda_s) = \mu(\lambda_s - 1/\lambda_s)
+ \lambda \ln\lambda_s / \lambda_s`, strictly increasing for :math:`\lambda_s > 0`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["NeoHookean", "bar_energy_density", "bar_stress", "plane_strain_energy_density"]


@dataclass(frozen=True)
class NeoHookean:
    r"""Material constants.

    Attributes:
        mu: Shear modulus :math:`\mu` (Pa, or the problem's stress unit).
        lam: Lamé's first parameter :math:`\lambda` (same unit).
    """

    mu: float = 1.0
    lam: float = 1.5


def bar_energy_density(stretch: Tensor, material: NeoHookean) -> Tensor:
    r""":math:`W(\lambda_s) = \tfrac\mu2(\lambda_s^2 - 1) - \mu\ln\lambda_s
    + \tfrac\lambda2(\ln\lambda_s)^2` per unit reference length (stretch > 0)."""
    log = torch.log(stretch)
    return 0.5 * material.mu * (stretch**2 - 1.0) - material.mu * log + 0.5 * material.lam * log**2


def bar_stress(stretch: float, material: NeoHookean) -> float:
    r""":math:`P = dW/d\lambda_s = \mu(\lambda_s - 1/\lambda_s) + \lambda\ln\lambda_s/\lambda_s`."""
    import math

    return material.mu * (stretch - 1.0 / stretch) + material.lam * math.log(stretch) / stretch


def plane_strain_energy_density(grad_u: Tensor, material: NeoHookean) -> Tensor:
    r""":math:`W(F)` with :math:`F = I + \nabla u`, for displacement gradients `n x 2 x 2`
    (:math:`\partial u_i / \partial X_j`); returns `n`."""
    eye = torch.eye(2, dtype=grad_u.dtype)
    f = eye + grad_u
    det = f[:, 0, 0] * f[:, 1, 1] - f[:, 0, 1] * f[:, 1, 0]
    log = torch.log(det)
    i1 = (f**2).sum(dim=(1, 2))
    return 0.5 * material.mu * (i1 - 2.0) - material.mu * log + 0.5 * material.lam * log**2
