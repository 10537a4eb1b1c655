r"""Check a model's autograd gradient against central finite differences.

Use it on any differentiable function of a tensor — a surrogate, a physics model, your own
plug-in — before trusting its gradient in an optimiser:

>>> import torch
>>> from models.gradcheck import check_gradient
>>> x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
>>> result = check_gradient(lambda v: (v.sin() * v**2).sum(), x)
>>> result.passed, result.max_abs_error < 1e-8
(True, True)

The difference quotient of component :math:`i` is
:math:`(f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)` with
:math:`h_i = \epsilon^{1/3} \max(1, |x_i|)`: :math:`\epsilon^{1/3}` balances the truncation
error (:math:`\propto h^2 f'''`) against round-off (:math:`\propto \epsilon f / h`), and scaling
by :math:`|x_i|` keeps the step meaningful for large variables. In float64 that is
:math:`h \approx 6 \times 10^{-6}` and the quotient is good to about
:math:`\epsilon^{2/3} \approx 4 \times 10^{-11}` relative to the scale of :math:`f` and its
third derivative; in float32 only to about :math:`10^{-5}`, so check in float64.

A vector-valued function is reduced to the scalar :math:`v^\top f(x)` with a fixed random
:math:`v` (a random projection): a wrong Jacobian row or column shows up in it with
probability one, at the cost of one backward pass.

The comparison is per component, as :func:`torch.allclose` does it:
:math:`|g_\text{autograd} - g_\text{fd}| \le \text{atol} + \text{rtol}\,|g_\text{fd}|`.
A function with a kink (an active-set change, a ``clamp``) inside :math:`[x - h, x + h]`
fails this legitimately: check away from kinks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["GradientCheckResult", "central_difference_step", "check_gradient"]


@dataclass(frozen=True)
class GradientCheckResult:
    r"""What :func:`check_gradient` found.

    Attributes:
        analytic: The autograd gradient, shape of ``x``.
        numeric: The central-difference gradient, shape of ``x``.
        step: The difference step used for each component, shape of ``x``.
        max_abs_error: :math:`\max_i |g_i - \hat g_i|`.
        max_rel_error: :math:`\max_i |g_i - \hat g_i| / \max(|g_i|, |\hat g_i|)` over the
            components where that denominator exceeds ``atol`` (components that are zero to
            within ``atol`` both ways have no meaningful relative error; 0 if none remain).
        worst_index: Index (into ``x``) of the component furthest outside the tolerance (or
            closest to it if all pass).
        passed: Whether every component is within ``atol + rtol * |numeric|``.
        rtol: The relative tolerance used.
        atol: The absolute tolerance used.
    """

    analytic: Tensor
    numeric: Tensor
    step: Tensor
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    passed: bool
    rtol: float
    atol: float

    def __str__(self) -> str:
        i = self.worst_index
        return (f"gradient check {'passed' if self.passed else 'FAILED'}: "
                f"max abs error {self.max_abs_error:.3e}, max rel error "
                f"{self.max_rel_error:.3e}; worst component {i}: autograd "
                f"{float(self.analytic[i]):.10g} vs central difference "
                f"{float(self.numeric[i]):.10g} (rtol={self.rtol:g}, atol={self.atol:g})")

    def raise_if_failed(self) -> None:
        """Raise :class:`AssertionError` with the report when the check failed."""
        if not self.passed:
            raise AssertionError(str(self))


def central_difference_step(x: Tensor) -> Tensor:
    r""":math:`h_i = \epsilon^{1/3} \max(1, |x_i|)` for the dtype of ``x``."""
    eps = torch.finfo(x.dtype).eps
    return eps ** (1.0 / 3.0) * x.detach().abs().clamp(min=1.0)


def check_gradient(fn: Callable[[Tensor], Tensor], x: Tensor, *, rtol: float = 1e-5,
                   atol: float = 1e-8, step: float | Tensor | None = None,
                   projection: Tensor | None = None, seed: int = 0) -> GradientCheckResult:
    """Compare ``fn``'s autograd gradient at ``x`` with central differences.

    Args:
        fn: A function of one floating tensor, returning a scalar or a tensor of outputs
            (reduced by a random projection). It must be deterministic.
        x: The point, any shape; not modified. Use float64.
        rtol: Relative tolerance per component.
        atol: Absolute tolerance per component.
        step: Difference step: a float, a tensor of the shape of ``x``, or None for
            :func:`central_difference_step`.
        projection: The vector :math:`v` to project a non-scalar output on (default: standard
            normal draws from ``seed``).
        seed: Seed of the default projection.

    Returns:
        The :class:`GradientCheckResult`.

    Example:
        >>> f = lambda v: torch.stack([v.prod(), v.sum() ** 2])   # vector output
        >>> check_gradient(f, torch.tensor([1.5, 2.0], dtype=torch.float64)).passed
        True
    """
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating tensor, got {x.dtype}")
    point = x.detach().clone()
    scalar = _scalarise(fn, point, projection, seed)
    analytic = _autograd(scalar, point)
    steps = _steps(point, step)
    numeric = _central_differences(scalar, point, steps)
    return _compare(analytic, numeric, steps, rtol, atol)


def _scalarise(fn: Callable[[Tensor], Tensor], x: Tensor, projection: Tensor | None,
               seed: int) -> Callable[[Tensor], Tensor]:
    with torch.no_grad():
        out = fn(x.clone())
    if out.numel() == 1 and projection is None:
        return lambda v: fn(v).reshape(())
    if projection is None:
        generator = torch.Generator().manual_seed(seed)
        projection = torch.randn(out.shape, generator=generator, dtype=out.dtype)
    weights = projection.to(out.dtype).reshape(out.shape)
    return lambda v: (fn(v) * weights).sum()


def _autograd(scalar: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    leaf = x.clone().requires_grad_(True)
    value = scalar(leaf)
    if not value.requires_grad:
        return torch.zeros_like(x)
    (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
    return torch.zeros_like(x) if grad is None else grad.detach()


def _steps(x: Tensor, step: float | Tensor | None) -> Tensor:
    if step is None:
        return central_difference_step(x)
    steps = torch.as_tensor(step, dtype=x.dtype)
    if not bool((steps > 0).all()):
        raise ValueError("difference steps must be positive")
    return torch.broadcast_to(steps, x.shape).clone()


def _central_differences(scalar: Callable[[Tensor], Tensor], x: Tensor, steps: Tensor) -> Tensor:
    numeric = torch.empty_like(x).reshape(-1)
    flat_steps = steps.reshape(-1)
    with torch.no_grad():
        for i in range(x.numel()):
            plus, minus = x.clone().reshape(-1), x.clone().reshape(-1)
            # Difference the representable points actually evaluated, not the nominal step.
            plus[i] += flat_steps[i]
            minus[i] -= flat_steps[i]
            width = plus[i] - minus[i]
            f_plus = scalar(plus.reshape(x.shape))
            f_minus = scalar(minus.reshape(x.shape))
            numeric[i] = (f_plus - f_minus) / width
    return numeric.reshape(x.shape)


def _compare(analytic: Tensor, numeric: Tensor, steps: Tensor, rtol: float,
             atol: float) -> GradientCheckResult:
    error = (analytic - numeric).abs()
    allowed = atol + rtol * numeric.abs()
    tiny = torch.finfo(numeric.dtype).tiny
    scale = torch.maximum(numeric.abs(), analytic.abs())
    relative = torch.where(scale > atol, error / scale.clamp(min=tiny), torch.zeros_like(error))
    ratio = error / allowed.clamp(min=tiny)
    worst = int(ratio.reshape(-1).argmax()) if error.numel() else 0
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), error.shape))
    return GradientCheckResult(
        analytic=analytic, numeric=numeric, step=steps,
        max_abs_error=float(error.max()) if error.numel() else 0.0,
        max_rel_error=float(relative.max()) if error.numel() else 0.0,
        worst_index=index, passed=bool((error <= allowed).all()), rtol=rtol, atol=atol)
