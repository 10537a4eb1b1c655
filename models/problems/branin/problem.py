r"""The constrained Branin benchmark (Gardner et al., 2014), evaluated with torch.

Branin, with the usual constants ``a = 1``, ``b = 5.1 / (4 pi^2)``, ``c = 5 / pi``, ``r = 6``,
``s = 10``, ``t = 1 / (8 pi)``:

    f(x1, x2) = a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s

on ``x1 in [-5, 10]``, ``x2 in [0, 15]``, with the outcome constraint

    g(x1, x2) = (x1 - 2.5)^2 + (x2 - 7.5)^2 - 50 <= 0    (feasible inside the disc).

Known optimum: ``f = 0.397887`` at ``(-pi, 12.275)``, ``(pi, 2.275)`` and
``(9.42478, 2.475)``. Only ``(pi, 2.275)`` is feasible (``g = -22.29``); the other two lie
outside the disc (``g = +4.63`` and ``g = +23.20``), so the constrained optimum is
``0.397887`` at ``(pi, 2.275)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from models.problems.base import DesignError, Problem, ProblemSpec
from models.problems.branin import SPEC

_A = 1.0
_B = 5.1 / (4.0 * math.pi**2)
_C = 5.0 / math.pi
_R = 6.0
_S = 10.0
_T = 1.0 / (8.0 * math.pi)


def branin(X: Tensor) -> Tensor:
    r"""The Branin function.

    Args:
        X: `batch_shape x 2` points ``(x1, x2)``.

    Returns:
        `batch_shape` values, differentiable in ``X``.

    Example:
        >>> round(branin(torch.tensor([[math.pi, 2.275]], dtype=torch.float64)).item(), 6)
        0.397887
    """
    x1, x2 = X[..., 0], X[..., 1]
    return _A * (x2 - _B * x1**2 + _C * x1 - _R) ** 2 + _S * (1.0 - _T) * torch.cos(x1) + _S


def branin_constraint(X: Tensor) -> Tensor:
    r"""Gardner et al.'s constraint ``(x1 - 2.5)^2 + (x2 - 7.5)^2 - 50``: feasible when ``<= 0``.

    Args:
        X: `batch_shape x 2` points ``(x1, x2)``.

    Returns:
        `batch_shape` constraint values.
    """
    return (X[..., 0] - 2.5) ** 2 + (X[..., 1] - 7.5) ** 2 - 50.0


class BraninProblem(Problem):
    r"""Constrained Branin: minimise ``value`` subject to ``constraint <= 0``.

    Example:
        >>> problem = BraninProblem()
        >>> problem.evaluate([{"x1": math.pi, "x2": 2.275}])  # doctest: +ELLIPSIS
        [{'value': 0.3978873..., 'constraint': -22.287...}]
    """

    spec: ClassVar[ProblemSpec] = SPEC
    outcome_names: ClassVar[tuple[str, str]] = ("value", "constraint")
    bounds: ClassVar[tuple[tuple[float, float], tuple[float, float]]] = (
        (-5.0, 10.0), (0.0, 15.0))
    #: Branin's global minimum and its three minimisers.
    optimal_value: ClassVar[float] = 0.397887357729738
    optimizers: ClassVar[tuple[tuple[float, float], ...]] = (
        (-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475))
    #: The minimisers that meet the constraint: the constrained optimum.
    feasible_optimizers: ClassVar[tuple[tuple[float, float], ...]] = ((math.pi, 2.275),)

    def evaluate_tensor(self, X: Tensor) -> Tensor:
        r"""Both outcomes for a batch of points, in float64.

        Args:
            X: `n x 2` points ``(x1, x2)`` inside the bounds.

        Returns:
            `n x 2`: ``value`` then ``constraint`` for each point.
        """
        X = X.to(torch.float64)
        if X.dim() != 2 or X.shape[-1] != 2:
            raise DesignError(f"expected points of shape n x 2, got {tuple(X.shape)}")
        if not bool(torch.isfinite(X).all()):
            raise DesignError("points must be finite")
        lower = torch.tensor([b[0] for b in self.bounds], dtype=torch.float64)
        upper = torch.tensor([b[1] for b in self.bounds], dtype=torch.float64)
        outside = ((X < lower) | (X > upper)).any(dim=-1).nonzero().squeeze(-1).tolist()
        if outside:
            raise DesignError(f"designs {outside} lie outside x1 in [-5, 10], x2 in [0, 15]")
        return torch.stack([branin(X), branin_constraint(X)], dim=-1)

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        rows = []
        for index, design in enumerate(designs):
            try:
                rows.append([float(design["x1"]), float(design["x2"])])
            except (TypeError, ValueError) as exc:
                raise DesignError(f"design {index}: x1 and x2 must be numbers ({exc})") from None
        outcomes = self.evaluate_tensor(torch.tensor(rows, dtype=torch.float64).reshape(-1, 2))
        return [dict(zip(self.outcome_names, row, strict=True)) for row in outcomes.tolist()]
