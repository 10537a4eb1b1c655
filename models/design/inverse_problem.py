r"""What inverse design optimises: objective, outcome constraints and penalties of a model.

A *model* is any ``predict(X) -> (mean, sd)`` with ``X`` of shape `n x d` (original units) and
``mean``, ``sd`` of shape `n x m`, differentiable w.r.t. ``X``, whose rows do not interact
(row :math:`i` of the output depends on row :math:`i` of ``X`` only): a surrogate such as
:class:`models.surrogates.DeepEnsemble`, or a differentiable simulator wrapped to return
``sd = 0``.

Sign conventions (all in the model's original units):

* the optimised objective is to be **minimised**:
  :math:`f(x) = \pm\mu_o(x) + \kappa\,\sigma_o(x) + w\,R(x)`, with :math:`-` when the
  :class:`Objective` maximises; :math:`\kappa\sigma` penalises designs where the model is
  unsure (an upper confidence bound on the loss), :math:`R` is the roughness below;
* an :class:`OutcomeConstraint` is met when its **slack** :math:`s_j(x) \ge 0`:
  :math:`s_j = \mu_c - t - \kappa_c \sigma_c` for a lower threshold (:math:`\mu_c \ge t`) and
  :math:`s_j = t - \mu_c - \kappa_c \sigma_c` for an upper one; the :math:`\kappa_c\sigma_c`
  term asks the constraint to hold with margin where the model is unsure;
* roughness :math:`R(x) = \sum_k (x_{k+1} - 2x_k + x_{k-1})^2` over a slice of consecutive
  design variables (a free-form profile's values): the manufacturability penalty.

The KKT conditions of :math:`\min f` s.t. :math:`s(x) \ge 0`, :math:`x` in the box, with
multipliers :math:`\mu_j \ge 0` and Lagrangian :math:`\ell = f - \sum_j \mu_j s_j`, are
measured by :class:`KKTResiduals` in the unit-cube coordinates :math:`u` of the box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .inverse_errors import InverseDesignError
from .inverse_spg import projected_gradient_norm

__all__ = ["DesignProblem", "Evaluation", "KKTResiduals", "Objective", "OutcomeConstraint",
           "Predict", "roughness"]

Predict = Callable[[Tensor], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class Objective:
    """The output to optimise.

    Attributes:
        output: Column of the model's outputs.
        maximize: Maximise it (default: minimise).
    """

    output: int = 0
    maximize: bool = False


@dataclass(frozen=True)
class OutcomeConstraint:
    """An output that must stay on one side of a threshold.

    Attributes:
        output: Column of the model's outputs.
        threshold: :math:`t`, in the output's units.
        upper: ``False``: feasible when output >= t (e.g. load >= W_min); ``True``: when
            output <= t.

    Example:
        >>> OutcomeConstraint(output=1, threshold=0.15)   # load >= 0.15
        OutcomeConstraint(output=1, threshold=0.15, upper=False)
    """

    output: int
    threshold: float
    upper: bool = False


@dataclass(frozen=True)
class KKTResiduals:
    r"""First-order optimality residuals of designs, each `k` (one per design).

    Attributes:
        stationarity: :math:`\lVert P(u - \nabla_u \ell) - u\rVert_\infty`, the Lagrangian's
            gradient projected on the box (:math:`u` in the unit cube, :math:`\ell` in the
            objective's units): zero at a KKT point, :math:`\max_i |\partial\ell/\partial u_i|`
            over coordinates away from their bounds.
        primal: :math:`\max_j \max(0, -s_j)`: the worst constraint violation.
        complementarity: :math:`\max_j |\mu_j s_j|`.
    """

    stationarity: Tensor
    primal: Tensor
    complementarity: Tensor

    def select(self, index: Tensor) -> KKTResiduals:
        return KKTResiduals(self.stationarity[index], self.primal[index],
                            self.complementarity[index])


@dataclass(frozen=True)
class Evaluation:
    r"""A model evaluated at a batch of designs.

    Attributes:
        mean: `n x m` predicted means.
        sd: `n x m` predicted sds.
        objective: `n`, :math:`f` to minimise (see the module docstring).
        slack: `n x k` constraint slacks, feasible when >= 0.
        roughness: `n`, :math:`R(x)` (0 without a smoothness slice).
    """

    mean: Tensor
    sd: Tensor
    objective: Tensor
    slack: Tensor
    roughness: Tensor


def roughness(x: Tensor) -> Tensor:
    r""":math:`\sum_k (x_{k+1} - 2x_k + x_{k-1})^2` along the last dim (0 below 3 values)."""
    if x.shape[-1] < 3:
        return torch.zeros(x.shape[:-1], dtype=x.dtype)
    return ((x[..., 2:] - 2.0 * x[..., 1:-1] + x[..., :-2]) ** 2).sum(dim=-1)


class DesignProblem:
    r"""A model, a box, an objective and constraints: evaluates designs given in the cube.

    Args:
        predict: The model (see the module docstring).
        bounds: `2 x d` lower and upper bounds of the design variables.
        objective: What to optimise.
        constraints: Outcome constraints (may be empty).
        kappa: :math:`\kappa \ge 0`, uncertainty penalty on the objective.
        constraint_kappa: :math:`\kappa_c \ge 0`, uncertainty margin on the constraints.
        smoothness_weight: :math:`w \ge 0` of the roughness penalty.
        smoothness_slice: ``(start, stop)`` of the variables that form a profile (None: all).

    Attributes:
        calls: How many times ``predict`` was called.
        rows: Row count of each call (every call gets the whole batch).
    """

    def __init__(self, predict: Predict, bounds: Tensor, objective: Objective,
                 constraints: Sequence[OutcomeConstraint] = (), *, kappa: float = 0.0,
                 constraint_kappa: float = 0.0, smoothness_weight: float = 0.0,
                 smoothness_slice: tuple[int, int] | None = None) -> None:
        if bounds.dim() != 2 or bounds.shape[0] != 2 or not bool((bounds[1] > bounds[0]).all()):
            raise ValueError("bounds must be 2 x d with every upper bound above its lower bound")
        if min(kappa, constraint_kappa, smoothness_weight) < 0:
            raise ValueError("kappa, constraint_kappa and smoothness_weight must be >= 0")
        self.predict = predict
        self.lower, self.upper = bounds[0].detach(), bounds[1].detach()
        self.objective = objective
        self.constraints = tuple(constraints)
        self.kappa, self.constraint_kappa = float(kappa), float(constraint_kappa)
        self.smoothness_weight = float(smoothness_weight)
        d = self.lower.shape[0]
        start, stop = smoothness_slice if smoothness_slice is not None else (0, d)
        if not 0 <= start < stop <= d:
            raise ValueError(f"smoothness_slice must lie within 0..{d}, got {smoothness_slice}")
        self.smoothness_slice = (start, stop)
        self.calls = 0
        self.rows: list[int] = []

    @property
    def dim(self) -> int:
        return int(self.lower.shape[0])

    def to_x(self, u: Tensor) -> Tensor:
        """Unit cube to original units, `n x d`."""
        return self.lower.to(u) + u * (self.upper - self.lower).to(u)

    def to_u(self, x: Tensor) -> Tensor:
        """Original units to the unit cube, `n x d`."""
        return (x - self.lower.to(x)) / (self.upper - self.lower).to(x)

    def evaluate(self, u: Tensor, *, extra_smoothness: float = 0.0) -> Evaluation:
        """The model's outputs, objective, slacks and roughness at ``u`` (`n x d`).

        ``extra_smoothness`` is added to the smoothness weight (a continuation stage's)."""
        x = self.to_x(u)
        mean, sd = self.predict(x)
        self.calls += 1
        self.rows.append(int(x.shape[0]))
        self._check(mean, sd, x.shape[0])
        o = self.objective.output
        sign = -1.0 if self.objective.maximize else 1.0
        value = sign * mean[:, o]
        if self.kappa > 0:  # never multiply a possibly undefined sd gradient by zero
            value = value + self.kappa * sd[:, o]
        start, stop = self.smoothness_slice
        rough = roughness(x[:, start:stop])
        weight = self.smoothness_weight + extra_smoothness
        if weight > 0:
            value = value + weight * rough
        slacks = []
        for c in self.constraints:
            s = (mean[:, c.output] - c.threshold) * (-1.0 if c.upper else 1.0)
            if self.constraint_kappa > 0:
                s = s - self.constraint_kappa * sd[:, c.output]
            slacks.append(s)
        slack = torch.stack(slacks, dim=-1) if slacks else mean.new_zeros(mean.shape[0], 0)
        return Evaluation(mean=mean, sd=sd, objective=value, slack=slack, roughness=rough)

    def _check(self, mean: Tensor, sd: Tensor, n: int) -> None:
        if mean.dim() != 2 or mean.shape[0] != n or sd.shape != mean.shape:
            raise InverseDesignError(
                f"predict must return mean and sd of shape n x m with n={n}, got "
                f"{tuple(mean.shape)} and {tuple(sd.shape)}",
                {"rows": n, "mean_shape": list(mean.shape), "sd_shape": list(sd.shape)})
        used = [self.objective.output] + [c.output for c in self.constraints]
        if max(used) >= mean.shape[1] or min(used) < 0:
            raise InverseDesignError(
                f"objective / constraint outputs {used} do not exist: the model has "
                f"{mean.shape[1]} outputs", {"outputs": int(mean.shape[1]), "used": used})

    def kkt(self, u: Tensor, multipliers: Tensor) -> tuple[Evaluation, KKTResiduals]:
        r"""Evaluate at ``u`` (`n x d`) and measure the KKT residuals with multipliers
        :math:`\mu` (`n x k`, original units)."""
        leaf = u.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            ev = self.evaluate(leaf)
            lagrangian = ev.objective - (multipliers * ev.slack).sum(dim=-1)
            (grad,) = torch.autograd.grad(lagrangian.sum(), leaf, allow_unused=True)
        grad = torch.zeros_like(leaf) if grad is None else grad
        slack = ev.slack.detach()
        zeros = slack.new_zeros(slack.shape[0])
        primal = (-slack).clamp(min=0.0).amax(dim=-1) if slack.shape[1] else zeros
        comp = (multipliers * slack).abs().amax(dim=-1) if slack.shape[1] else zeros
        detached = Evaluation(ev.mean.detach(), ev.sd.detach(), ev.objective.detach(), slack,
                              ev.roughness.detach())
        return detached, KKTResiduals(projected_gradient_norm(leaf.detach(), grad), primal, comp)
