r"""A stack of MLPs evaluated as one: every weight carries a leading member dimension.

Member :math:`e` maps :math:`u \in \mathbb{R}^d` through ``depth`` hidden layers of ``width``
units to :math:`\mathbb{R}^m`; all members run in one batched matrix product per layer
(:func:`torch.matmul` broadcasting over the member dimension), so an ensemble costs a few
kernel launches, not a Python loop over members, and the per-member loss sum has a
block-diagonal Hessian (see :mod:`.stability`).

Parameters are a plain list ``[W_0, b_0, ..., W_L, b_L]`` with ``W_l`` of shape
`members x fan_in x fan_out` and ``b_l`` of shape `members x 1 x fan_out`, so they can be
snapshotted, masked per member with :func:`torch.where` and stored as they are.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch.nn import functional

__all__ = ["ACTIVATIONS", "init_parameters", "mlp_forward"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "silu": functional.silu,
    "tanh": torch.tanh,
    "gelu": functional.gelu,
    "softplus": functional.softplus,
    "relu": torch.relu,
}
"""Hidden activations by stable name. The smooth ones (all but ``relu``) give input gradients
and parameter Hessians that exist everywhere, which gradient design and the curvature
estimate rely on."""


def init_parameters(members: int, inputs: int, outputs: int, width: int, depth: int, *,
                    seeds: Sequence[int], dtype: torch.dtype = torch.float64) -> list[Tensor]:
    r"""LeCun-normal weights (:math:`\mathcal N(0, 1/\text{fan\_in})`), zero biases.

    Member :math:`e` draws its weights from its own generator seeded ``seeds[e]``, so a member
    is reproducible on its own whatever the ensemble size.

    Returns:
        ``[W_0, b_0, ..., W_depth, b_depth]`` (see the module docstring).
    """
    if len(seeds) != members:
        raise ValueError(f"need one seed per member: {members} members, {len(seeds)} seeds")
    sizes = [inputs] + [width] * depth + [outputs]
    per_member: list[list[Tensor]] = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        layers = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            weight = torch.randn(fan_in, fan_out, generator=generator, dtype=dtype)
            layers += [weight / math.sqrt(fan_in), torch.zeros(1, fan_out, dtype=dtype)]
        per_member.append(layers)
    return [torch.stack(group) for group in zip(*per_member, strict=True)]


def mlp_forward(params: Sequence[Tensor], u: Tensor, activation: str) -> Tensor:
    r"""Every member's output.

    Args:
        params: ``[W_0, b_0, ..., W_L, b_L]``, member dimension first.
        u: Inputs, `n x d` (the same rows for every member) or `members x n x d`.
        activation: A key of :data:`ACTIVATIONS`.

    Returns:
        `members x n x m`, differentiable w.r.t. ``u`` and ``params``.
    """
    act = ACTIVATIONS[activation]
    h = u
    last = len(params) // 2 - 1
    for layer in range(last + 1):
        weight, bias = params[2 * layer], params[2 * layer + 1]
        h = torch.matmul(h, weight) + bias
        if layer < last:
            h = act(h)
    return h
