r"""Derivatives of a network's output with respect to its inputs, by autograd.

The residual of a PDE is written with these: ``u`` is the network's output at points ``x``
(``x`` created with ``requires_grad=True``), and every derivative keeps its graph
(``create_graph=True``) so the residual can itself be differentiated with respect to the
network's weights (and, for higher orders, with respect to ``x`` again).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["derivative", "gradient", "laplacian"]


def gradient(u: Tensor, x: Tensor) -> Tensor:
    r""":math:`\partial u / \partial x_j` for every input dimension.

    Args:
        u: `n` or `n x 1` values, each depending on its own row of ``x`` only.
        x: `n x d` points with ``requires_grad``.

    Returns:
        `n x d` gradient, differentiable again.
    """
    (g,) = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)
    return g


def derivative(u: Tensor, x: Tensor, dim: int, order: int = 1) -> Tensor:
    r""":math:`\partial^k u / \partial x_{dim}^k`, shape `n x 1`.

    Args:
        u: `n x 1` values (row-wise functions of ``x``).
        x: `n x d` points with ``requires_grad``.
        dim: Which input dimension.
        order: How many times to differentiate (>= 1).
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    out = u.reshape(-1, 1)
    for _ in range(order):
        out = gradient(out, x)[:, dim:dim + 1]
    return out


def laplacian(u: Tensor, x: Tensor, dims: tuple[int, ...],
              first: Tensor | None = None) -> Tensor:
    r""":math:`\sum_{j \in dims} \partial^2 u / \partial x_j^2`, shape `n x 1`.

    ``first``: the already computed :func:`gradient` of ``u`` (saves one backward pass when
    the residual also needs first derivatives)."""
    if first is None:
        first = gradient(u.reshape(-1, 1), x)
    total = torch.zeros_like(u.reshape(-1, 1))
    for j in dims:
        total = total + gradient(first[:, j:j + 1], x)[:, j:j + 1]
    return total
