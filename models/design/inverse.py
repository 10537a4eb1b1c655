r"""Gradient inverse design: many starts descend a differentiable model together.

Given a differentiable model ``predict(X) -> (mean, sd)`` (a surrogate such as
:class:`models.surrogates.DeepEnsemble`, or a differentiable simulator with ``sd = 0``),
:func:`inverse_design` finds designs :math:`x` in a box that minimise (or maximise) one output
subject to outcome constraints on others, and returns the *distinct* local optima it found,
best first, each with its KKT residuals.

How (sign conventions and the penalised objective :math:`f` are in
:mod:`.inverse_problem`):

1. **Starts.** ``starts`` scrambled-Sobol points of the unit cube :math:`u \in [0,1]^d`
   (:math:`x = \ell + u\,(h - \ell)`), all optimised as one batch: every model call evaluates
   all rows, one backward gives every start its own gradient; no Python loop over starts.
2. **Bounds by projection.** The inner solver is the spectral projected gradient method on
   the cube (:mod:`.inverse_spg`): bounds hold exactly, and the optimality measure is the
   projected gradient.
3. **Scaling.** :math:`f` and each slack :math:`s_j` are divided by their spread over the
   starts (sd, at least a tenth of the mean magnitude), so tolerances, penalties and
   continuation weights mean the same for any units.
4. **Outcome constraints by an augmented Lagrangian** (Rockafellar's form for inequalities,
   Nocedal & Wright §17.4): each inner solve minimises

   .. math:: \phi(u) = \hat f(u) + c_k \tfrac1d\lVert u - a\rVert^2
             + \sum_j \frac{\max(0, \nu_j - \rho\,\hat s_j(u))^2 - \nu_j^2}{2\rho}

   (hats: scaled), then :math:`\nu_j \leftarrow \max(0, \nu_j - \rho \hat s_j)`, and
   :math:`\rho \leftarrow 10\rho` where the violation
   :math:`\max_j |\min(\hat s_j, \nu_j/\rho)|` did not fall by 4x; multipliers and penalties
   are per start.
5. **Continuation.** The weights :math:`c_k` of ``continuation`` (heavy to zero) pull each
   start towards its anchor :math:`a` (its own starting point, or the centre of the box);
   each stage warm-starts from the previous one, so a start follows the path of minimisers of
   an increasingly non-convex problem instead of jumping at once. Optionally the stages also
   anneal an extra roughness weight (``smoothness_continuation``): a smoothness homotopy,
   which for free-form profiles leads past the many bang-bang local optima of the unsmoothed
   problem (see the Rayleigh-step rediscovery in the tests). The last stage's weights must be
   0: the designs returned solve the actual problem.
6. **Uncertainty.** :math:`f` includes :math:`\kappa\sigma` and each slack
   :math:`-\kappa_c\sigma`, so designs are pushed back to where the model has data.
7. **Manufacturability.** A roughness penalty :math:`w\sum_k (x_{k+1}-2x_k+x_{k-1})^2` on a
   profile's values, weight chosen by the user.
8. **Report.** KKT residuals of every design in the problem's units (stationarity of the
   Lagrangian projected on the box, primal feasibility, complementarity), multipliers
   :math:`\mu_j = \nu_j\,\mathrm{sd}(f)/\mathrm{sd}(s_j)` in original units, and the final
   starts clustered (:mod:`.inverse_clustering`) into distinct optima, best first (feasible
   before infeasible).

Example:
    >>> import torch
    >>> def predict(X):   # f = (x1 - 0.8)^2 + (x2 - 0.8)^2 and g = x1 + x2
    ...     mean = torch.stack([((X - 0.8) ** 2).sum(-1), X.sum(-1)], dim=-1)
    ...     return mean, torch.zeros_like(mean)
    >>> bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    >>> result = inverse_design(predict, bounds,
    ...                         constraints=[OutcomeConstraint(1, 1.0, upper=True)],
    ...                         config=InverseDesignConfig(starts=8))
    >>> [round(v, 4) for v in result.x[0].tolist()], round(float(result.multipliers[0, 0]), 4)
    ([0.5, 0.5], 0.6)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from .inverse_clustering import leader_clusters
from .inverse_errors import InverseDesignError
from .inverse_problem import (
    DesignProblem,
    Evaluation,
    KKTResiduals,
    Objective,
    OutcomeConstraint,
    Predict,
)
from .inverse_spg import spg_minimize

__all__ = [
    "InverseDesignConfig",
    "InverseDesignError",
    "InverseDesignResult",
    "KKTResiduals",
    "Objective",
    "OutcomeConstraint",
    "inverse_design",
]


@dataclass(frozen=True)
class InverseDesignConfig:
    r"""Settings of :func:`inverse_design` (stored with the job that ran it).

    Attributes:
        starts: Number of Sobol starts (all optimised as one batch).
        seed: Seed of the scrambled Sobol sequence.
        kappa: :math:`\kappa \ge 0`: minimise :math:`\pm\mu + \kappa\sigma` (a pessimistic
            objective; 0 trusts the model everywhere).
        constraint_kappa: :math:`\kappa_c \ge 0`: constraints must hold at
            :math:`\mu \mp \kappa_c\sigma`.
        smoothness_weight: :math:`w \ge 0` of the roughness penalty (original units).
        smoothness_slice: ``(start, stop)`` of the design variables forming a profile; None:
            all of them.
        continuation: L2 weights :math:`c_k` of the stages (in scaled objective units per
            squared unit-cube RMS distance), ending with 0.
        smoothness_continuation: Extra roughness weights of the stages (original units,
            added to ``smoothness_weight``), one per stage, ending with 0; empty: none.
        anchor: ``"start"`` (each start's own Sobol point) or ``"centre"`` of the box.
        inner_iterations: Cap on projected-gradient iterations per inner solve.
        outer_iterations: Cap on augmented-Lagrangian rounds in the last stage.
        stage_outer_iterations: Augmented-Lagrangian rounds in each earlier stage.
        tol: Inner tolerance on the projected gradient of the scaled merit.
        feasibility_tol: Tolerance on the scaled constraint violation (stops the last stage;
            a design is reported feasible when every slack >= -feasibility_tol * sd(slack)).
        penalty: Initial penalty :math:`\rho` (scaled units).
        penalty_growth: Factor on :math:`\rho` when the violation did not fall by 4x.
        max_penalty: Cap on :math:`\rho`.
        cluster_distance: RMS unit-cube distance within which two final starts are the same
            optimum.
        max_designs: Return at most this many distinct optima (None: all).
        max_backtracks: Cap on line-search halvings per inner iteration.
        max_step: Cap on each inner move, in unit-cube coordinates (:math:`\infty`-norm): a
            start then follows its own basin and the continuation path; None: no cap.
        memory: Non-monotone line-search memory (1: monotone).
    """

    starts: int = 32
    seed: int = 0
    kappa: float = 1.0
    constraint_kappa: float = 1.0
    smoothness_weight: float = 0.0
    smoothness_slice: tuple[int, int] | None = None
    continuation: tuple[float, ...] = (1.0, 0.1, 0.01, 0.0)
    smoothness_continuation: tuple[float, ...] = ()
    anchor: str = "start"
    inner_iterations: int = 200
    outer_iterations: int = 12
    stage_outer_iterations: int = 2
    tol: float = 1e-7
    feasibility_tol: float = 1e-7
    penalty: float = 10.0
    penalty_growth: float = 10.0
    max_penalty: float = 1e10
    cluster_distance: float = 0.05
    max_designs: int | None = None
    max_backtracks: int = 30
    max_step: float | None = 0.1
    memory: int = 10

    def __post_init__(self) -> None:
        checks = [
            (self.starts >= 1, "starts must be >= 1"),
            (min(self.kappa, self.constraint_kappa, self.smoothness_weight) >= 0,
             "kappa, constraint_kappa and smoothness_weight must be >= 0"),
            (len(self.continuation) >= 1 and self.continuation[-1] == 0.0
             and min(self.continuation) >= 0.0,
             "continuation must be non-negative weights ending with 0"),
            (not self.smoothness_continuation
             or (len(self.smoothness_continuation) == len(self.continuation)
                 and self.smoothness_continuation[-1] == 0.0
                 and min(self.smoothness_continuation) >= 0.0),
             ("smoothness_continuation must be empty or one non-negative weight per stage, "
              "ending with 0")),
            (self.anchor in ("start", "centre"), "anchor is 'start' or 'centre'"),
            (self.inner_iterations >= 1 and self.outer_iterations >= 1
             and self.stage_outer_iterations >= 1, "iteration caps must be >= 1"),
            (self.tol > 0 and self.feasibility_tol > 0, "tolerances must be > 0"),
            (self.penalty > 0 and self.penalty_growth > 1 and self.max_penalty >= self.penalty,
             "need penalty > 0, penalty_growth > 1, max_penalty >= penalty"),
            (self.cluster_distance >= 0, "cluster_distance must be >= 0"),
            (self.max_designs is None or self.max_designs >= 1, "max_designs must be >= 1"),
            (self.max_step is None or self.max_step > 0, "max_step must be > 0"),
            (self.memory >= 1, "memory must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass(frozen=True)
class InverseDesignResult:
    r"""Distinct local optima, best first (`k` of them), and where every start ended.

    Attributes:
        x: Designs, `k x d`, original units.
        mean: Predicted outputs, `k x m`.
        sd: Predicted sds, `k x m`.
        objective: The minimised :math:`f` (see :mod:`.inverse_problem`), `k`.
        value: The objective output's predicted mean (in its own sense), `k`.
        roughness: :math:`R(x)` of the smoothness slice, `k`.
        slack: Constraint slacks, `k x c` (feasible when >= 0).
        multipliers: :math:`\mu \ge 0`, `k x c`, original units (objective per slack unit).
        kkt: :class:`KKTResiduals` of each design.
        feasible: `k` booleans.
        converged: `k` booleans: the last inner solve met ``tol`` and the constraints
            ``feasibility_tol``.
        cluster_size: How many starts ended at each design, `k`.
        starts: Final points of all starts, `n x d`, original units.
        start_cluster: Index into the `k` designs of each start (-1: non-finite start), `n`.
        metrics: JSON-ready: ``predict_calls``, ``rows_per_call``, ``spg_iterations``,
            ``spg_evaluations``, ``stages`` (per stage and round), ``objective_scale``,
            ``constraint_scales``, ``distinct``.
    """

    x: Tensor
    mean: Tensor
    sd: Tensor
    objective: Tensor
    value: Tensor
    roughness: Tensor
    slack: Tensor
    multipliers: Tensor
    kkt: KKTResiduals
    feasible: Tensor
    converged: Tensor
    cluster_size: Tensor
    starts: Tensor
    start_cluster: Tensor
    metrics: dict[str, Any] = field(default_factory=dict)


def inverse_design(predict: Predict, bounds: Tensor, *, objective: Objective | None = None,
                   constraints: Sequence[OutcomeConstraint] = (),
                   config: InverseDesignConfig | None = None,
                   initial: Tensor | None = None) -> InverseDesignResult:
    r"""Optimise designs through a differentiable model from many starts at once.

    Args:
        predict: ``predict(X) -> (mean, sd)``: `n x d` -> (`n x m`, `n x m`), differentiable
            w.r.t. ``X``, rows independent.
        bounds: `2 x d` lower and upper bounds (its dtype is used throughout; use float64).
        objective: The output to optimise (default: minimise output 0).
        constraints: Outcome constraints.
        config: Settings (default :class:`InverseDesignConfig`).
        initial: Starting designs, `n x d`, original units, instead of Sobol points.

    Returns:
        The :class:`InverseDesignResult`.

    Raises:
        InverseDesignError: ``predict`` returns wrong shapes, or non-finite values at every
            start.
    """
    config = config or InverseDesignConfig()
    objective = objective or Objective()
    problem = DesignProblem(predict, bounds, objective, constraints, kappa=config.kappa,
                            constraint_kappa=config.constraint_kappa,
                            smoothness_weight=config.smoothness_weight,
                            smoothness_slice=config.smoothness_slice)
    u0 = _starts(problem, config, initial, bounds.dtype)
    with torch.no_grad():
        ev0 = problem.evaluate(u0)
    finite = torch.isfinite(ev0.objective) & torch.isfinite(ev0.slack).all(dim=-1)
    if not bool(finite.any()):
        raise InverseDesignError("the model is NaN/inf at every starting design",
                                 {"starts": int(u0.shape[0])})
    f_scale = _spread(ev0.objective[finite])
    c_scale = torch.stack([_spread(s) for s in ev0.slack[finite].T]) if ev0.slack.shape[1] \
        else ev0.slack.new_ones(0)
    state = _solve(problem, config, u0, finite, f_scale, c_scale)
    multipliers = state.nu * f_scale / c_scale if state.nu.shape[1] else state.nu
    ev, kkt = problem.kkt(state.u, multipliers)
    feasible = (ev.slack >= -config.feasibility_tol * c_scale).all(dim=-1)
    converged = state.inner_converged & (state.violation <= config.feasibility_tol)
    leaders, labels = _distinct(state.u, _ranking(ev, feasible, finite, c_scale), finite,
                                config)
    sizes = torch.bincount(labels[labels >= 0], minlength=leaders.numel())
    metrics = {
        "predict_calls": problem.calls,
        "rows_per_call": sorted(set(problem.rows)),
        "spg_iterations": state.iterations,
        "spg_evaluations": state.evaluations,
        "stages": state.stages,
        "objective_scale": float(f_scale),
        "constraint_scales": c_scale.tolist(),
        "starts": int(u0.shape[0]),
        "finite_starts": int(finite.sum()),
        "distinct": int(leaders.numel()),
    }
    return InverseDesignResult(
        x=problem.to_x(state.u[leaders]), mean=ev.mean[leaders], sd=ev.sd[leaders],
        objective=ev.objective[leaders], value=ev.mean[leaders, objective.output],
        roughness=ev.roughness[leaders], slack=ev.slack[leaders],
        multipliers=multipliers[leaders], kkt=kkt.select(leaders), feasible=feasible[leaders],
        converged=converged[leaders], cluster_size=sizes, starts=problem.to_x(state.u),
        start_cluster=labels, metrics=metrics)


@dataclass
class _State:
    """Where the batch is: points, multipliers, penalties and the bookkeeping."""

    u: Tensor  # n x d
    nu: Tensor  # n x k, scaled multipliers
    rho: Tensor  # n, penalties
    violation: Tensor  # n, scaled max |min(s, nu / rho)| (0 without constraints)
    inner_converged: Tensor  # n
    iterations: int = 0
    evaluations: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)


def _solve(problem: DesignProblem, config: InverseDesignConfig, u0: Tensor, finite: Tensor,
           f_scale: Tensor, c_scale: Tensor) -> _State:
    """The continuation stages, each of augmented-Lagrangian rounds of batched SPG solves."""
    n, k = u0.shape[0], c_scale.shape[0]
    state = _State(u=u0, nu=u0.new_zeros(n, k),
                   rho=torch.full((n,), config.penalty, dtype=u0.dtype),
                   violation=torch.full((n,), float("inf") if k else 0.0, dtype=u0.dtype),
                   inner_converged=torch.zeros(n, dtype=torch.bool))
    anchor = u0.clone() if config.anchor == "start" else torch.full_like(u0, 0.5)
    extra = config.smoothness_continuation or (0.0,) * len(config.continuation)
    for index, (weight, smoothing) in enumerate(zip(config.continuation, extra, strict=True)):
        final = index == len(config.continuation) - 1
        rounds = 1 if k == 0 else (config.outer_iterations if final
                                   else config.stage_outer_iterations)
        for round_ in range(rounds):
            merit = _merit(problem, f_scale, c_scale, float(weight), float(smoothing), anchor,
                           state.nu, state.rho)
            res = spg_minimize(merit, state.u, max_iter=config.inner_iterations, tol=config.tol,
                               max_backtracks=config.max_backtracks, max_step=config.max_step,
                               memory=config.memory)
            state.u, state.inner_converged = res.u, res.converged | ~finite
            state.iterations += res.iterations
            state.evaluations += res.evaluations
            record: dict[str, Any] = {"weight": float(weight), "smoothing": float(smoothing),
                                      "round": round_, "iterations": res.iterations,
                                      "evaluations": res.evaluations,
                                      "inner_converged": int(state.inner_converged.sum())}
            if k:
                _update_multipliers(problem, state, c_scale, config)
                record["max_violation"] = float(state.violation[finite].max())
            state.stages.append(record)
            done = state.inner_converged & (state.violation <= config.feasibility_tol)
            if final and k and bool(done[finite].all()):
                break
    return state


def _update_multipliers(problem: DesignProblem, state: _State, c_scale: Tensor,
                        config: InverseDesignConfig) -> None:
    r""":math:`\nu \leftarrow \max(0, \nu - \rho\hat s)`; :math:`\rho` grows where the
    violation did not fall by 4x."""
    with torch.no_grad():
        scaled = problem.evaluate(state.u).slack / c_scale
    nu = (state.nu - state.rho[:, None] * scaled).clamp(min=0.0)
    violation = torch.minimum(scaled, nu / state.rho[:, None]).abs().amax(dim=-1)
    grow = violation > 0.25 * state.violation
    state.rho = torch.where(grow, (state.rho * config.penalty_growth).clamp(
        max=config.max_penalty), state.rho)
    state.nu, state.violation = nu, violation


def _distinct(u: Tensor, order: Tensor, finite: Tensor,
              config: InverseDesignConfig) -> tuple[Tensor, Tensor]:
    """Leaders (row indices, best first) and every start's cluster (-1: a non-finite start, or
    a cluster beyond ``max_designs``)."""
    rows = order[finite[order]]  # finite starts only, best first
    leaders, labels = leader_clusters(u[rows], torch.arange(rows.numel()),
                                      config.cluster_distance)
    if config.max_designs is not None:
        leaders = leaders[: config.max_designs]
    labels = torch.where(labels < leaders.numel(), labels, torch.full_like(labels, -1))
    every = torch.full((u.shape[0],), -1, dtype=torch.long)
    every[rows] = labels
    return rows[leaders], every


def _starts(problem: DesignProblem, config: InverseDesignConfig, initial: Tensor | None,
            dtype: torch.dtype) -> Tensor:
    if initial is not None:
        if initial.dim() != 2 or initial.shape[1] != problem.dim:
            raise ValueError(f"initial must be n x {problem.dim}, got {tuple(initial.shape)}")
        return problem.to_u(initial.detach().to(dtype)).clamp(0.0, 1.0)
    engine = SobolEngine(problem.dim, scramble=True, seed=config.seed)
    return engine.draw(config.starts, dtype=dtype)


def _spread(values: Tensor) -> Tensor:
    """The scale of ``values``: their sd over the starts, but at least a tenth of their mean
    magnitude (warm starts that all sit at one design have almost no spread), else 1."""
    if values.numel() == 0:
        return torch.ones((), dtype=values.dtype)
    sd = values.std() if values.numel() > 1 else torch.zeros((), dtype=values.dtype)
    scale = torch.maximum(sd, 0.1 * values.abs().mean())
    return scale if bool(scale > 0) else torch.ones((), dtype=values.dtype)


def _merit(problem: DesignProblem, f_scale: Tensor, c_scale: Tensor, weight: float,
           smoothing: float, anchor: Tensor, nu: Tensor,
           rho: Tensor) -> Callable[[Tensor], Tensor]:
    """The scaled augmented-Lagrangian merit of one inner solve, `n x d` -> `n`."""
    def merit(u: Tensor) -> Tensor:
        ev = problem.evaluate(u, extra_smoothness=smoothing)
        value = ev.objective / f_scale
        if weight > 0:
            value = value + weight * ((u - anchor) ** 2).mean(dim=-1)
        if nu.shape[1]:
            shifted = (nu - rho[:, None] * (ev.slack / c_scale)).clamp(min=0.0)
            value = value + ((shifted**2 - nu**2) / (2.0 * rho[:, None])).sum(dim=-1)
        return value
    return merit


def _ranking(ev: Evaluation, feasible: Tensor, finite: Tensor, c_scale: Tensor) -> Tensor:
    """Row order, best first: feasible by objective, then infeasible by (scaled) violation,
    then non-finite rows."""
    violation = ((-ev.slack).clamp(min=0.0) / c_scale).sum(dim=-1) if ev.slack.shape[1] \
        else torch.zeros_like(ev.objective)
    keys = [torch.where(finite, ev.objective, torch.zeros_like(ev.objective)),
            torch.where(feasible, torch.zeros_like(violation), violation),
            (~feasible).to(violation.dtype), (~finite).to(violation.dtype)]
    order = torch.arange(ev.objective.shape[0])
    for key in keys:  # least significant first; stable sorts keep the earlier keys' order
        order = order[torch.argsort(key[order], stable=True)]
    return order
