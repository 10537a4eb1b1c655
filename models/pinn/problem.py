r"""A physics-informed problem: a domain, a PDE residual, conditions and coefficients.

The residual is written by the user with :mod:`.derivatives`, e.g. for Fisher–KPP::

    def residual(x, u, c):
        u_t = derivative(u, x, dim=1)
        u_xx = derivative(u, x, dim=0, order=2)
        return u_t - c["D"] * u_xx - c["r"] * u * (1 - u)

It is evaluated at collocation points drawn by the trainer; its mean square is the
``"pde"`` loss term.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor, nn

from .coefficients import Coefficients
from .conditions import Condition
from .domain import Box

__all__ = ["PINNProblem", "Residual", "TrainableProblem"]

#: ``residual(x, u, coefficients) -> r`` `n x k`; ``x`` `n x d` requires grad, ``u = net(x)``.
Residual = Callable[[Tensor, Tensor, Mapping[str, Tensor | float]], Tensor]


class TrainableProblem(Protocol):
    """What :func:`~models.pinn.training.train_pinn` needs of a problem (residual or energy
    form)."""

    domain: Box
    coefficients: Coefficients

    def training_points(self, n: int, seed: int, dtype: torch.dtype) -> Tensor:
        """The initial collocation / quadrature points."""

    def losses(self, net: nn.Module, points: Tensor) -> dict[str, Tensor]:
        """The loss terms at ``points``."""

    def residuals(self, net: nn.Module, x: Tensor) -> Tensor:
        """Pointwise residuals (for adaptive resampling)."""

    def to(self, dtype: torch.dtype) -> TrainableProblem:
        """Cast in place."""


@dataclass
class PINNProblem:
    """Everything the trainer needs besides the network and its settings.

    Attributes:
        domain: The input box.
        residual: The PDE residual.
        conditions: Named loss terms (boundary, initial, observations); ``"pde"`` is reserved.
        coefficients: Known and trainable PDE coefficients.
    """

    domain: Box
    residual: Residual
    conditions: dict[str, Condition] = field(default_factory=dict)
    coefficients: Coefficients = field(default_factory=Coefficients)

    def __post_init__(self) -> None:
        if "pde" in self.conditions:
            raise ValueError("'pde' is the residual's term; name the condition otherwise")

    def training_points(self, n: int, seed: int, dtype: torch.dtype) -> Tensor:
        """``n`` Sobol collocation points in the domain."""
        return self.domain.sample(n, seed, dtype)

    def residuals(self, net: nn.Module, x: Tensor) -> Tensor:
        """PDE residual `n x k` at points ``x`` (differentiable w.r.t. the weights)."""
        x = x.detach().clone().requires_grad_(True)
        return self.residual(x, net(x), self.coefficients.values())

    def losses(self, net: nn.Module, collocation: Tensor) -> dict[str, Tensor]:
        """Every loss term, ``"pde"`` first."""
        terms = {"pde": (self.residuals(net, collocation) ** 2).mean()}
        terms.update({name: c.loss(net) for name, c in self.conditions.items()})
        return terms

    def to(self, dtype: torch.dtype) -> PINNProblem:
        """Cast the conditions' tensors (in place) and return self."""
        for c in self.conditions.values():
            c.to(dtype)
        self.coefficients.to(dtype)
        return self
