r"""Energy form (Deep Ritz, E & Yu 2018): train by minimising a potential-energy functional.

For a hyperelastic body the displacement minimises
:math:`\Pi[u] = \int_\Omega W(\nabla u)\,dX - \int_\Omega b\cdot u\,dX
- \int_{\Gamma_N} \tau\cdot u\,dS` over fields that satisfy the essential (displacement)
boundary conditions. Only first derivatives of the network appear (the residual form needs
second ones), and the natural (traction) conditions come for free. The essential conditions
are imposed *hard* by the network's output transform (e.g. :math:`u = X\,N(X)`), because a
penalty would shift the minimiser.

:class:`EnergyProblem` plugs into :func:`~models.pinn.training.train_pinn` (Adam, then
L-BFGS, NaN detection, progress) with its own quadrature points and weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .coefficients import Coefficients
from .domain import Box

__all__ = ["EnergyFunctional", "EnergyProblem", "gauss_legendre", "tensor_gauss_legendre"]

#: ``energy(net, points, weights) -> {term: value}``, the terms summing to :math:`\Pi`.
EnergyFunctional = Callable[[nn.Module, Tensor, Tensor], dict[str, Tensor]]


@dataclass
class EnergyProblem:
    """A potential-energy minimisation over a field network.

    Attributes:
        domain: The reference configuration's box.
        energy: The functional's terms (e.g. ``{"strain": ..., "load": -work}``).
        points: Quadrature nodes `n x d` (physical units).
        weights: Quadrature weights `n` (their sum is the domain's measure).
        coefficients: Unused by default (energy problems with trainable material constants
            are possible but not identifiable from energy alone).
    """

    domain: Box
    energy: EnergyFunctional
    points: Tensor
    weights: Tensor
    coefficients: Coefficients = field(default_factory=Coefficients)

    def training_points(self, n: int, seed: int, dtype: torch.dtype) -> Tensor:
        """The fixed quadrature nodes (``n`` and ``seed`` are not used)."""
        return self.points.to(dtype)

    def losses(self, net: nn.Module, points: Tensor) -> dict[str, Tensor]:
        """The energy's terms at the quadrature nodes."""
        return self.energy(net, points, self.weights.to(points.dtype))

    def residuals(self, net: nn.Module, x: Tensor) -> Tensor:
        """Not defined for an energy form."""
        raise NotImplementedError("an energy problem has no pointwise residual")

    def to(self, dtype: torch.dtype) -> EnergyProblem:
        """Cast nodes and weights in place."""
        self.points, self.weights = self.points.to(dtype), self.weights.to(dtype)
        return self


def gauss_legendre(lower: float, upper: float, n: int) -> tuple[Tensor, Tensor]:
    """``n``-point Gauss–Legendre nodes `n x 1` and weights `n` on ``[lower, upper]``
    (exact for polynomials of degree ``2n - 1``), float64."""
    import numpy as np

    nodes, weights = np.polynomial.legendre.leggauss(n)
    half = 0.5 * (upper - lower)
    x = lower + half * (nodes + 1.0)
    return torch.from_numpy(x).reshape(-1, 1), torch.from_numpy(half * weights)


def tensor_gauss_legendre(domain: Box, n: int) -> tuple[Tensor, Tensor]:
    """Tensor-product Gauss–Legendre rule with ``n`` nodes per dimension on the box."""
    rules = [gauss_legendre(a, b, n) for a, b in zip(domain.lower, domain.upper, strict=True)]
    grids = torch.meshgrid(*[r[0].reshape(-1) for r in rules], indexing="ij")
    wgrid = torch.meshgrid(*[r[1] for r in rules], indexing="ij")
    points = torch.stack([g.reshape(-1) for g in grids], dim=1)
    weights = torch.ones(points.shape[0], dtype=points.dtype)
    for w in wgrid:
        weights = weights * w.reshape(-1)
    return points, weights
