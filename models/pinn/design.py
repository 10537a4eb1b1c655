r"""Design a growth rate by gradient through a trained parametric Fisher–KPP PINN.

The quantity of interest is the bloom's **biomass at the horizon**,

.. math:: B(r) = \int_0^L u(x, T; r)\,dx \quad\text{(km of channel at full capacity)},

computed from the parametric network :math:`u_\phi(x, t; r)` (:mod:`models.pinn.parametric`)
by the trapezoidal rule on ``n_quad`` equally spaced nodes. With no-flux ends
(:math:`u_x = 0` at both ends, exact in the network) the trapezoidal rule's leading error
term, proportional to :math:`u_x(L) - u_x(0)`, vanishes, so it converges faster than
:math:`O(h^2)`: 201 nodes are far below the network's own error.

The design question: the growth rate :math:`r^*` in :math:`[r_\min, r_\max]` at which the
biomass reaches ``target`` (e.g. the largest rate, i.e. the least nutrient control, that keeps
the bloom at a cap: :math:`B` increases with :math:`r`). It is found by Adam on the scaled
variable :math:`s = (r - r_\min)/(r_\max - r_\min) \in [0, 1]`, minimising
:math:`J(s) = ((B(r(s)) - B^*)/B^*)^2` with :math:`\partial J/\partial s` by autograd through
the network; bounds by projection (clamping :math:`s` to :math:`[0, 1]` after each step).
Adam finds the basin robustly but creeps near the root (its second-moment average remembers
the large early gradients), so a few projected Gauss–Newton steps on the miss,
:math:`s \leftarrow \Pi_{[0,1]}(s - m(s)/m'(s))` with :math:`m = (B - B^*)/B^*` and
:math:`m'` by autograd too, polish it (quadratic convergence on a smooth monotone :math:`B`;
skipped where :math:`m' \le 0`). A target outside the network's range ends at a bound, and
the result says so.

:func:`reference_biomass` is the same quantity from the SciPy reference solver, to verify a
designed rate on the ground truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from models.physics.reaction_diffusion import solve_reference

from .parametric import ParametricBloom

__all__ = ["RateDesign", "biomass", "design_rate", "reference_biomass"]


def biomass(net: nn.Module, bloom: ParametricBloom, rates: Tensor,
            n_quad: int = 201) -> Tensor:
    r""":math:`B(r) = \int_0^L u_\phi(x, T; r)\,dx` (km) for each rate, differentiable in
    ``rates``.

    Args:
        net: The parametric network, ``(x, t, r) -> u``.
        bloom: Its channel and rate range.
        rates: Growth rates (1/day), any shape; the result has the same shape.
        n_quad: Trapezoidal nodes on :math:`[0, L]`.
    """
    case = bloom.case
    flat = rates.reshape(-1)
    xs = torch.linspace(0.0, case.length, n_quad, dtype=flat.dtype)
    n = xs.numel()
    points = torch.stack([xs.repeat(flat.numel()),
                          torch.full((n * flat.numel(),), case.horizon, dtype=flat.dtype),
                          flat.repeat_interleave(n)], dim=1)
    u = net(points).reshape(flat.numel(), n)
    h = case.length / (n - 1)
    integral = h * (u.sum(dim=1) - 0.5 * (u[:, 0] + u[:, -1]))
    return integral.reshape(rates.shape)


def reference_biomass(bloom: ParametricBloom, rate: float, nx: int = 401,
                      rtol: float = 1e-9) -> float:
    r""":math:`B(r)` (km) from the SciPy method-of-lines reference (trapezoid on its nodes).

    At 401 nodes its discretisation error is ~1e-5 relative (second order; see
    :mod:`models.physics.reaction_diffusion.reference`), far below the PINN's.
    """
    ref = solve_reference(bloom.at_rate(rate), nx=nx, nt=2, rtol=rtol)
    return float(np.trapezoid(ref.u[-1], ref.x))


@dataclass
class RateDesign:
    """The designed growth rate and what the network predicts of it.

    Attributes:
        rate: :math:`r^*` (1/day), inside the bounds.
        predicted_biomass: :math:`B_\\phi(r^*)` (km).
        target: :math:`B^*` (km).
        at_bound: ``"lower"`` / ``"upper"`` when the design ended on a bound with the target
            still missed by more than 1e-3 relative (the target is outside the network's
            range), else ``None``.
        history: ``{"step", "stage", "rate", "biomass", "objective"}`` per step (stage
            ``"adam"`` or ``"gauss_newton"``).
    """

    rate: float
    predicted_biomass: float
    target: float
    at_bound: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def predicted_miss(self) -> float:
        """:math:`|B_\\phi(r^*) - B^*| / B^*`."""
        return abs(self.predicted_biomass - self.target) / self.target


def design_rate(net: nn.Module, bloom: ParametricBloom, target: float, *,
                bounds: tuple[float, float] | None = None, start: float | None = None,
                steps: int = 150, learning_rate: float = 0.05, decay: float = 0.97,
                polish: int = 8, tolerance: float = 1e-6, n_quad: int = 201) -> RateDesign:
    """The rate whose predicted biomass is ``target``: projected Adam, then Gauss–Newton polish
    (the network's weights are left untouched).

    Args:
        net: The trained parametric network.
        bloom: Its channel and rate range.
        target: :math:`B^*` (km), > 0.
        bounds: Rate bounds (1/day) inside the network's range; default the whole range.
        start: Initial rate; default the middle of the bounds.
        steps: Most Adam steps.
        learning_rate: Adam's step on the scaled variable :math:`s \\in [0, 1]`.
        decay: Step-size decay per step (damps Adam's oscillation near the solution).
        polish: Most projected Gauss–Newton steps after Adam.
        tolerance: Stop when the relative miss :math:`|B - B^*|/B^*` is below it.
        n_quad: Trapezoidal nodes of the biomass.
    """
    if not target > 0.0:
        raise ValueError(f"target biomass must be positive, got {target}")
    low, high = bounds if bounds is not None else (bloom.rate_min, bloom.rate_max)
    if not bloom.rate_min <= low < high <= bloom.rate_max:
        raise ValueError(f"bounds [{low}, {high}] must lie inside the network's rate range "
                         f"[{bloom.rate_min}, {bloom.rate_max}]")
    dtype = next(net.parameters()).dtype
    frozen = [p for p in net.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    s0 = 0.5 if start is None else (min(max(start, low), high) - low) / (high - low)
    s = torch.tensor(s0, dtype=dtype, requires_grad=True)
    optimiser = torch.optim.Adam([s], lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=decay)
    history: list[dict[str, Any]] = []

    def miss_at(stage: str) -> Tensor:
        rate = low + (high - low) * s
        value = biomass(net, bloom, rate, n_quad)
        miss = (value - target) / target
        history.append({"step": len(history), "stage": stage, "rate": float(rate.detach()),
                        "biomass": float(value.detach()),
                        "objective": float(miss.detach()) ** 2})
        return miss

    try:
        for _ in range(steps):
            optimiser.zero_grad(set_to_none=True)
            miss = miss_at("adam")
            if not math.isfinite(float(miss.detach())) or abs(float(miss.detach())) < tolerance:
                break
            (miss**2).backward()
            optimiser.step()
            scheduler.step()
            with torch.no_grad():
                s.clamp_(0.0, 1.0)
        for _ in range(polish):
            miss = miss_at("gauss_newton")
            if not math.isfinite(float(miss.detach())) or abs(float(miss.detach())) < tolerance:
                break
            (slope,) = torch.autograd.grad(miss, s)
            if not float(slope) > 0.0:
                break
            with torch.no_grad():
                s.sub_(miss.detach() / slope).clamp_(0.0, 1.0)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    scaled = float(s.detach())
    rate_value = low + (high - low) * scaled
    with torch.no_grad():
        predicted = float(biomass(net, bloom, torch.tensor(rate_value, dtype=dtype), n_quad))
    at_bound = None
    if abs(predicted - target) / target > 1e-3:
        if scaled <= 0.0:
            at_bound = "lower"
        elif scaled >= 1.0:
            at_bound = "upper"
    return RateDesign(rate_value, predicted, float(target), at_bound, history)
