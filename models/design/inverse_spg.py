r"""Spectral projected gradient on the unit cube, for a batch of independent starts at once.

Each start :math:`i` minimises its own :math:`\phi_i(u_i)` over :math:`[0, 1]^d`; the batch
shares every evaluation (one call of ``fun`` on all `n` rows, one backward of
:math:`\sum_i \phi_i`, which gives every start its own gradient because the rows do not
interact) but keeps its own step size, line search and stopping test.

The method is SPG (Birgin, Martínez & Raydan, SIAM J. Optim. 10 (2000) 1196–1211) with the
non-monotone (Grippo–Lampariello–Lucidi) Armijo search: the direction :math:`d = P(u - \alpha g) - u` (:math:`P` the clamp to
the cube), the spectral (Barzilai–Borwein) step :math:`\alpha = s^\top s / s^\top y` from the
last move :math:`s` and gradient change :math:`y`, and backtracking :math:`t \leftarrow t/2`
until :math:`\phi(u + t d) \le \phi(u) + \gamma t\, g^\top d`. Backtracking is batched too: a
trial evaluates every row; rows already accepted keep their point (so their values repeat) and
only the others shrink. A start stops when its projected gradient
:math:`\lVert P(u - g) - u\rVert_\infty` (the first-order optimality measure on a box) falls
below ``tol``, or when its line search fails (it cannot decrease further in floating point).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["SPGResult", "projected_gradient_norm", "spg_minimize"]

Merit = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class SPGResult:
    r"""Where each start ended.

    Attributes:
        u: Final points, `n x d` in the unit cube.
        value: :math:`\phi_i(u_i)`, `n`.
        grad: :math:`\nabla\phi_i(u_i)`, `n x d`.
        pg_norm: :math:`\lVert P(u - g) - u\rVert_\infty`, `n`.
        converged: `n` booleans: ``pg_norm <= tol``.
        iterations: Iterations of the batch (the most any start used).
        evaluations: Calls of ``fun`` (each on all `n` rows).
    """

    u: Tensor
    value: Tensor
    grad: Tensor
    pg_norm: Tensor
    converged: Tensor
    iterations: int
    evaluations: int


def projected_gradient_norm(u: Tensor, grad: Tensor) -> Tensor:
    r""":math:`\lVert P_{[0,1]^d}(u - g) - u\rVert_\infty` per row, `n`."""
    return ((u - grad).clamp(0.0, 1.0) - u).abs().amax(dim=-1)


def _value_and_grad(fun: Merit, u: Tensor) -> tuple[Tensor, Tensor]:
    leaf = u.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        value = fun(leaf)
        (grad,) = torch.autograd.grad(value.sum(), leaf)
    return value.detach(), grad.detach()


def spg_minimize(fun: Merit, u0: Tensor, *, max_iter: int = 200, tol: float = 1e-6,
                 gamma: float = 1e-4, memory: int = 10, max_backtracks: int = 30,
                 max_step: float | None = None, alpha_min: float = 1e-10,
                 alpha_max: float = 1e10) -> SPGResult:
    r"""Minimise every row's merit over the unit cube, all rows in each call.

    Args:
        fun: ``fun(u) -> phi``: `n x d` to `n`, differentiable, rows independent.
        u0: Starting points, `n x d` (clamped into the cube).
        max_iter: Cap on iterations.
        tol: Projected-gradient tolerance (in units of :math:`\phi` per unit of :math:`u`).
        gamma: Armijo sufficient-decrease constant.
        memory: Non-monotone memory :math:`M` (1: a monotone search).
        max_backtracks: Cap on step halvings per iteration.
        max_step: Cap on :math:`\lVert d\rVert_\infty` (the direction is shortened, staying
            in the cube): a trust region on each move, so a start follows its own basin (and a
            continuation path) instead of jumping across the landscape. None: no cap.
        alpha_min: Lower safeguard of the spectral step.
        alpha_max: Upper safeguard of the spectral step.

    Returns:
        The :class:`SPGResult`.

    Example:
        >>> target = torch.tensor([[0.3, 1.5]], dtype=torch.float64)
        >>> res = spg_minimize(lambda u: ((u - target) ** 2).sum(-1),
        ...                    torch.full((1, 2), 0.5, dtype=torch.float64))
        >>> res.u
        tensor([[0.3000, 1.0000]], dtype=torch.float64)
    """
    u = u0.detach().clamp(0.0, 1.0)
    value, grad = _value_and_grad(fun, u)
    evaluations = 1
    pg = projected_gradient_norm(u, grad)
    tiny = torch.finfo(u.dtype).tiny
    alpha = (1.0 / pg.clamp(min=tiny)).clamp(alpha_min, alpha_max)
    done = (pg <= tol) | ~torch.isfinite(value)
    history = value[:, None].repeat(1, max(memory, 1))
    iterations = 0
    while iterations < max_iter and not bool(done.all()):
        iterations += 1
        direction = (u - alpha[:, None] * grad).clamp(0.0, 1.0) - u
        direction = torch.where(done[:, None], torch.zeros_like(direction), direction)
        if max_step is not None:
            length = direction.abs().amax(dim=-1, keepdim=True)
            direction = direction * (max_step / length.clamp(min=max_step))
        slope = (grad * direction).sum(dim=-1)
        reference = history.amax(dim=-1)
        step = torch.ones_like(value)
        accepted = done.clone()
        new_u, new_value, new_grad = u.clone(), value.clone(), grad.clone()
        for _ in range(max_backtracks + 1):
            trial = (u + step[:, None] * direction).clamp(0.0, 1.0)
            trial_value, trial_grad = _value_and_grad(fun, trial)
            evaluations += 1
            ok = ~accepted & torch.isfinite(trial_value) & (
                trial_value <= reference + gamma * step * slope)
            new_u = torch.where(ok[:, None], trial, new_u)
            new_value = torch.where(ok, trial_value, new_value)
            new_grad = torch.where(ok[:, None], trial_grad, new_grad)
            accepted = accepted | ok
            if bool(accepted.all()):
                break
            step = torch.where(accepted, step, _backtrack(step, slope, trial_value - value))
        stalled = ~accepted
        s, y = new_u - u, new_grad - grad
        sy, ss = (s * y).sum(dim=-1), (s * s).sum(dim=-1)
        spectral = torch.where(sy > 0, ss / sy.clamp(min=tiny), torch.full_like(ss, alpha_max))
        alpha = torch.where(done | stalled, alpha, spectral.clamp(alpha_min, alpha_max))
        u, value, grad = new_u, new_value, new_grad
        history = torch.cat([history[:, 1:], value[:, None]], dim=-1)
        pg = projected_gradient_norm(u, grad)
        done = done | stalled | (pg <= tol)
    return SPGResult(u=u, value=value, grad=grad, pg_norm=pg, converged=pg <= tol,
                     iterations=iterations, evaluations=evaluations)


def _backtrack(step: Tensor, slope: Tensor, rise: Tensor) -> Tensor:
    r"""The next trial step: the minimiser of the quadratic through :math:`\phi(0)`,
    :math:`\phi'(0) = ` ``slope`` and :math:`\phi(t) - \phi(0) = ` ``rise``, safeguarded to
    :math:`[0.1\,t, 0.5\,t]` (halving where the model is useless, e.g. a NaN value)."""
    curvature = rise - step * slope
    quadratic = -0.5 * step**2 * slope / torch.where(curvature > 0, curvature,
                                                      torch.ones_like(curvature))
    quadratic = torch.where((curvature > 0) & torch.isfinite(quadratic), quadratic, 0.5 * step)
    return torch.minimum(torch.maximum(quadratic, 0.1 * step), 0.5 * step)
