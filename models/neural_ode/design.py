r"""Design a dosing schedule by gradient descent through the ODE solver.

Find a piecewise-constant schedule :math:`d(t) = d_k` on :math:`K` equal intervals of
:math:`[0, T]`, bounded :math:`0 \le d_k \le d_\max`, that brings the output (e.g. the
protein) to a target :math:`y^*` at time :math:`T` with the least total dose
:math:`\sum_k d_k \Delta t`. Bounds are built in by :math:`d_k = d_\max\,\sigma(z_k)`; the
terminal condition by a quadratic penalty,

.. math:: J(z) = \frac{\sum_k d_k \Delta t}{d_\max T}
          + \rho \Bigl(\frac{y(T) - y^*}{y^*}\Bigr)^2,

minimised by L-BFGS (strong-Wolfe line search; a smooth problem in K variables) with :math:`\partial J / \partial z` through the solver (direct
backpropagation, interval by interval, so the adaptive solver never steps across a jump of
the dose). A large :math:`\rho` makes the terminal miss :math:`O(1/\rho)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .field import ODEField
from .solve import SolverOptions, solve

__all__ = ["DosingProblem", "DosingResult", "design_schedule", "simulate_schedule"]


@dataclass(frozen=True)
class DosingProblem:
    """The design question.

    Attributes:
        horizon: :math:`T` (h).
        n_intervals: :math:`K`.
        max_dose: :math:`d_\\max` (µM).
        target: :math:`y^*` (output units, e.g. nM).
        output: Index of the targeted state variable.
        penalty: :math:`\\rho`.
        steps: Most L-BFGS iterations.
        learning_rate: Unused by L-BFGS (kept for configs written for a first-order
            optimiser).
    """

    horizon: float = 12.0
    n_intervals: int = 6
    max_dose: float = 10.0
    target: float = 8.0
    output: int = 1
    penalty: float = 300.0
    steps: int = 60
    learning_rate: float = 0.1


@dataclass
class DosingResult:
    """The designed schedule (µM per interval) and what the model predicts of it."""

    doses: np.ndarray
    predicted_final: float
    total_dose: float
    history: list[dict[str, float]] = field(default_factory=list)


def simulate_schedule(model: ODEField, y0: Tensor, doses: Tensor, horizon: float,
                      options: SolverOptions) -> Tensor:
    """Final state `1 x n` under ``doses`` (`K`), solving interval by interval."""
    edges = torch.linspace(0.0, horizon, doses.numel() + 1, dtype=y0.dtype)
    y = y0
    for k in range(doses.numel()):
        model.set_inputs(doses[k].reshape(1, 1))
        y = solve(model, y, edges[k:k + 2], options)[-1]
    return y


def design_schedule(model: ODEField, y0: Tensor, problem: DosingProblem,
                    options: SolverOptions | None = None) -> DosingResult:
    """Optimise the schedule on ``model`` (its parameters are left untouched).

    Args:
        model: A trained field whose ``inputs`` are the dose (µM).
        y0: Initial state `1 x n`.
        problem: Bounds, target, penalty and optimiser settings.
        options: Solver settings (default dopri5, rtol 1e-6, float64 time).
    """
    options = options or SolverOptions(time_dtype="float64")
    for p in model.parameters():
        p.requires_grad_(False)
    z = torch.zeros(problem.n_intervals, dtype=y0.dtype, requires_grad=True)
    optimiser = torch.optim.LBFGS([z], lr=1.0, max_iter=problem.steps, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                                  tolerance_change=1e-12)
    dt = problem.horizon / problem.n_intervals
    history: list[dict[str, float]] = []

    def closure() -> Tensor:
        optimiser.zero_grad(set_to_none=True)
        doses = problem.max_dose * torch.sigmoid(z)
        final = simulate_schedule(model, y0, doses, problem.horizon, options)[0, problem.output]
        miss = (final - problem.target) / problem.target
        cost = doses.sum() * dt / (problem.max_dose * problem.horizon)
        objective = cost + problem.penalty * miss**2
        objective.backward()
        history.append({"step": len(history), "objective": float(objective.detach()),
                        "miss": float(miss.detach()), "cost": float(cost.detach())})
        return objective

    try:
        optimiser.step(closure)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    doses = (problem.max_dose * torch.sigmoid(z)).detach()
    with torch.no_grad():
        final = simulate_schedule(model, y0, doses, problem.horizon, options)[0, problem.output]
    return DosingResult(doses.double().numpy(), float(final), float(doses.sum()) * dt, history)


def constant_dose_for_target(final_of_dose: Callable[[float], float], target: float,
                             max_dose: float) -> float:
    """The constant dose reaching ``target`` (bisection on a monotone response), or nan."""
    lo, hi = 0.0, max_dose
    if not (final_of_dose(lo) <= target <= final_of_dose(hi)):
        return math.nan
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if final_of_dose(mid) < target else (lo, mid)
    return 0.5 * (lo + hi)
