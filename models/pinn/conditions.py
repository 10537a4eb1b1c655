r"""Boundary, initial and data conditions: each a separate mean-square loss term.

A condition owns its points (fixed at construction, physical units) and gives
:meth:`Condition.loss` of a field network. Kept apart from the PDE residual so that the
trainer can weight, log and balance every term on its own.

* :class:`Dirichlet` — :math:`u = g` on a set of points (a boundary face or, on the
  :math:`t = t_0` face, an initial condition: see :func:`initial`).
* :class:`Neumann` — :math:`\partial u / \partial x_j = g` (no-flux: :math:`g = 0`).
* :class:`Periodic` — :math:`u` and :math:`\partial u/\partial x_j` equal on paired points of
  opposite faces.
* :class:`Observations` — sparse (noisy) measurements of the field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .derivatives import derivative
from .domain import Box

__all__ = ["Condition", "Dirichlet", "Neumann", "Observations", "Periodic", "initial"]

#: ``g(x) -> values`` `n x 1` at physical points `n x d`.
ValueFn = Callable[[Tensor], Tensor]


def _values(value: ValueFn | float, x: Tensor) -> Tensor:
    if callable(value):
        return value(x).reshape(-1, 1).to(x.dtype)
    return torch.full((x.shape[0], 1), float(value), dtype=x.dtype)


class Condition(ABC):
    """One loss term of a physics-informed fit."""

    points: Tensor

    @abstractmethod
    def loss(self, net: nn.Module) -> Tensor:
        """Mean-square violation (a scalar)."""

    def to(self, dtype: torch.dtype) -> Condition:
        """The same condition with its tensors in ``dtype``."""
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.is_floating_point():
                setattr(self, name, value.to(dtype))
        return self


class Dirichlet(Condition):
    """:math:`u_c(x) = g(x)` on ``points``.

    Args:
        points: `n x d` physical points.
        value: :math:`g` (a function of the points or a constant).
        component: Which output field.
    """

    def __init__(self, points: Tensor, value: ValueFn | float, component: int = 0) -> None:
        self.points = points
        self.target = _values(value, points)
        self.component = component

    def loss(self, net: nn.Module) -> Tensor:
        u = net(self.points)[:, self.component:self.component + 1]
        return ((u - self.target) ** 2).mean()


def initial(domain: Box, n: int, value: ValueFn | float, seed: int = 0,
            component: int = 0, dtype: torch.dtype = torch.float32) -> Dirichlet:
    """Initial condition :math:`u(x, t_0) = u_0(x)` on ``n`` points of the ``t = t_0`` face."""
    return Dirichlet(domain.sample_face("t", "lower", n, seed, dtype), value, component)


class Neumann(Condition):
    r""":math:`\partial u_c / \partial x_j = g` on ``points`` (no-flux when :math:`g = 0`).

    Args:
        points: `n x d` physical points on a face normal to dimension ``dim``.
        dim: Index of the normal dimension.
        value: :math:`g`, the normal derivative along :math:`+x_j`.
        component: Which output field.
    """

    def __init__(self, points: Tensor, dim: int, value: ValueFn | float = 0.0,
                 component: int = 0) -> None:
        self.points = points
        self.dim = dim
        self.target = _values(value, points)
        self.component = component

    def loss(self, net: nn.Module) -> Tensor:
        x = self.points.clone().requires_grad_(True)
        u = net(x)[:, self.component:self.component + 1]
        return ((derivative(u, x, self.dim) - self.target) ** 2).mean()


class Periodic(Condition):
    r""":math:`u(x|_{x_j=a}) = u(x|_{x_j=b})` and the same for :math:`\partial_j u`.

    Args:
        domain: The box.
        name: The periodic dimension.
        n: Number of point pairs.
        seed: Seeds the pairs.
        dtype: Point dtype.
    """

    def __init__(self, domain: Box, name: str, n: int, seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        self.dim = domain.index(name)
        self.points = domain.sample_face(name, "lower", n, seed, dtype)
        self.partner = self.points.clone()
        self.partner[:, self.dim] = domain.upper[self.dim]

    def loss(self, net: nn.Module) -> Tensor:
        a = self.points.clone().requires_grad_(True)
        b = self.partner.clone().requires_grad_(True)
        ua, ub = net(a), net(b)
        value = ((ua - ub) ** 2).mean()
        slope = sum(((derivative(ua[:, c:c + 1], a, self.dim)
                      - derivative(ub[:, c:c + 1], b, self.dim)) ** 2).mean()
                    for c in range(ua.shape[1]))
        return value + slope


class Observations(Condition):
    """Sparse measurements :math:`y_i \\approx u_c(x_i)`.

    Args:
        points: `n x d` measurement points.
        values: `n` or `n x 1` measured values.
        component: Which output field is measured.
    """

    def __init__(self, points: Tensor, values: Tensor, component: int = 0) -> None:
        self.points = points
        self.target = values.reshape(-1, 1).to(points.dtype)
        self.component = component

    def loss(self, net: nn.Module) -> Tensor:
        u = net(self.points)[:, self.component:self.component + 1]
        return ((u - self.target) ** 2).mean()
