r"""Train a physics-informed network: Adam, then L-BFGS, with the switchable aids.

The loss is :math:`L = \sum_i \lambda_i L_i` over the terms of a :class:`~.problem.PINNProblem`
(``"pde"`` on the collocation points, then every condition). Adam moves the weights out of
the initial region robustly; L-BFGS (strong-Wolfe line search) then converges fast near a
minimum, where first-order methods crawl. Switchable:

* ``adaptive_weights`` — gradient-norm balancing of the :math:`\lambda_i` (:mod:`.weighting`),
  updated every ``weight_every`` Adam steps and frozen during L-BFGS;
* ``resample_every`` — residual-based adaptive resampling of the collocation points
  (:mod:`.sampling`) during Adam;
* Fourier features / hard constraints — properties of the network (:mod:`.network`).

:func:`polish_pinn` continues an already trained (float32) network in float64 with L-BFGS
only, instead of training a second network in float64 from scratch: float64 keeps round-off
out of the loss and its gradients where float32 L-BFGS stalls. Most of its gain comes from
the extra L-BFGS iterations themselves; ``benchmarks/physics.py`` reports the same
continuation kept in float32 as a control.

Every step checks the loss terms: a NaN or inf raises :class:`~.errors.NonFiniteLossError`
(the network is never returned half-broken). ``progress(epoch, terms)`` is called every
``log_every`` steps with the unweighted loss terms (and ``"loss"``, the weighted total).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn

from .errors import NonFiniteLossError
from .problem import TrainableProblem
from .sampling import resample
from .weighting import GradNormBalancer

__all__ = ["PINNConfig", "PINNResult", "Progress", "polish_pinn", "train_pinn"]

#: ``progress(epoch, {term: value}) -> None``.
Progress = Callable[[int, dict[str, float]], None]
#: ``monitor(net) -> float``: e.g. the error against a reference, recorded in the history.
Monitor = Callable[[nn.Module], float]


def _silent(epoch: int, terms: dict[str, float]) -> None:
    """Default progress: nobody listens."""


@dataclass(frozen=True)
class PINNConfig:
    """Training settings (stored with the model version they produce).

    Attributes:
        adam_epochs: Adam steps.
        learning_rate: Adam's initial step size.
        lr_decay: Multiplicative step-size decay per 1000 Adam steps.
        lbfgs_iterations: L-BFGS iterations after Adam (0: none).
        n_collocation: Residual points (Sobol in the domain).
        adaptive_weights: Gradient-norm balancing of the loss weights.
        weight_every: Adam steps between weight updates.
        resample_every: Adam steps between RAD resamplings (0: fixed points).
        resample_factor: Candidates per kept point at a resampling.
        log_every: Steps between progress reports / history entries.
        max_seconds: Wall-clock budget of the whole training (None: no limit).
        seed: Seeds collocation points and resampling.
        dtype: ``"float32"`` or ``"float64"``.
    """

    adam_epochs: int = 2000
    learning_rate: float = 1e-3
    lr_decay: float = 0.9
    lbfgs_iterations: int = 500
    n_collocation: int = 2000
    adaptive_weights: bool = False
    weight_every: int = 100
    resample_every: int = 0
    resample_factor: int = 4
    log_every: int = 50
    max_seconds: float | None = None
    seed: int = 0
    dtype: str = "float32"

    @property
    def torch_dtype(self) -> torch.dtype:
        """The dtype as a torch dtype."""
        return {"float32": torch.float32, "float64": torch.float64}[self.dtype]


@dataclass
class PINNResult:
    """What training produced.

    Attributes:
        net: The trained network.
        coefficients: Trained coefficient values (name -> float; empty for a forward problem).
        history: One entry per log step: ``{"epoch", "stage", "seconds", terms..., "monitor"?}``.
        weights: The final loss weights.
        seconds: Wall-clock time of the training (the monitor's evaluations excluded).
        epochs: Total optimiser steps (Adam + L-BFGS iterations).
        config: The settings used.
    """

    net: nn.Module
    coefficients: dict[str, float]
    history: list[dict[str, Any]]
    weights: dict[str, float]
    seconds: float
    epochs: int
    config: PINNConfig = field(default_factory=PINNConfig)

    def config_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return asdict(self.config)


class _Run:
    """State of one training run (points, weights, clock, history)."""

    def __init__(self, problem: TrainableProblem, net: nn.Module, config: PINNConfig,
                 progress: Progress, monitor: Monitor | None) -> None:
        self.problem, self.net, self.config = problem, net, config
        self.progress, self.monitor = progress, monitor
        dtype = config.torch_dtype
        self.points = problem.training_points(config.n_collocation, config.seed, dtype)
        self.parameters = list(net.parameters()) + list(problem.coefficients.parameters())
        self.balancer = GradNormBalancer((), momentum=0.9)
        self.history: list[dict[str, Any]] = []
        self.start = time.perf_counter()
        self.paused = 0.0
        self.step = 0

    def elapsed(self) -> float:
        """Training time so far, excluding the monitor's evaluations."""
        return time.perf_counter() - self.start - self.paused

    def out_of_time(self) -> bool:
        limit = self.config.max_seconds
        return limit is not None and self.elapsed() >= limit

    def weighted(self, stage: str) -> tuple[Tensor, dict[str, Tensor]]:
        terms = self.problem.losses(self.net, self.points)
        _check_finite(terms, self.step, stage)
        total = sum(self.balancer.weight(k) * v for k, v in terms.items())
        assert isinstance(total, Tensor)
        return total, terms

    def record(self, stage: str, total: Tensor, terms: dict[str, Tensor],
               force: bool = False) -> None:
        if not force and self.step % self.config.log_every:
            return
        values = {k: float(v) for k, v in terms.items()}
        values["loss"] = float(total)
        entry: dict[str, Any] = {"epoch": self.step, "stage": stage,
                                 "seconds": self.elapsed(), **values}
        entry.update({f"coef_{k}": v for k, v in self.problem.coefficients.estimates().items()})
        if self.monitor is not None:
            began = time.perf_counter()
            entry["monitor"] = float(self.monitor(self.net))
            self.paused += time.perf_counter() - began
        self.history.append(entry)
        self.progress(self.step, values)


def _check_finite(terms: dict[str, Tensor], step: int, stage: str) -> None:
    values = {k: float(v.detach()) for k, v in terms.items()}
    if not all(math.isfinite(v) for v in values.values()):
        raise NonFiniteLossError(step, stage, {k: (v if math.isfinite(v) else None)
                                               for k, v in values.items()})


def _resample(run: _Run) -> None:
    config = run.config
    candidates = run.problem.domain.sample(
        config.resample_factor * config.n_collocation, config.seed + 1 + run.step,
        config.torch_dtype)
    residual = run.problem.residuals(run.net, candidates).detach()
    run.points = resample(candidates, residual, config.n_collocation, config.seed + run.step)


def _adam(run: _Run) -> None:
    config = run.config
    optimiser = torch.optim.Adam(run.parameters, lr=config.learning_rate)
    gamma = config.lr_decay ** (1.0 / 1000.0)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=gamma)
    for _ in range(config.adam_epochs):
        if run.out_of_time():
            return
        if config.resample_every and run.step and run.step % config.resample_every == 0:
            _resample(run)
        optimiser.zero_grad(set_to_none=True)
        total, terms = run.weighted("adam")
        if config.adaptive_weights and run.step % config.weight_every == 0:
            run.balancer.update(terms, [p for p in run.parameters if p.requires_grad])
            total = sum(run.balancer.weight(k) * v  # type: ignore[assignment]
                        for k, v in terms.items())
        total.backward()
        optimiser.step()
        scheduler.step()
        run.record("adam", total.detach(), {k: v.detach() for k, v in terms.items()})
        run.step += 1


def _lbfgs(run: _Run) -> None:
    config = run.config
    optimiser = torch.optim.LBFGS(run.parameters, lr=1.0, max_iter=config.log_every,
                                  history_size=50, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-12, tolerance_change=1e-15)
    last: dict[str, Any] = {}

    def closure() -> Tensor:
        optimiser.zero_grad(set_to_none=True)
        total, terms = run.weighted("lbfgs")
        total.backward()
        last["total"], last["terms"] = total.detach(), {k: v.detach() for k, v in terms.items()}
        return total

    done = 0
    while done < config.lbfgs_iterations and not run.out_of_time():
        chunk = min(config.log_every, config.lbfgs_iterations - done)
        optimiser.param_groups[0]["max_iter"] = chunk
        before = optimiser.state[optimiser._params[0]].get("n_iter", 0)
        optimiser.step(closure)
        after = optimiser.state[optimiser._params[0]].get("n_iter", 0)
        taken = max(after - before, 1)
        done += chunk
        run.step += taken
        run.record("lbfgs", last["total"], last["terms"], force=True)
        if after - before < chunk:      # converged (no progress possible)
            return


def train_pinn(problem: TrainableProblem, net: nn.Module, config: PINNConfig | None = None,
               progress: Progress = _silent, monitor: Monitor | None = None) -> PINNResult:
    """Fit ``net`` (and the problem's trainable coefficients) to the physics and data.

    Args:
        problem: Domain, residual, conditions, coefficients (cast to the config's dtype).
        net: The field network (cast to the config's dtype).
        config: Settings (default :class:`PINNConfig`).
        progress: ``progress(epoch, terms)`` every ``log_every`` steps.
        monitor: Optional ``monitor(net) -> float`` recorded in the history (e.g. the error
            against a reference), to measure time-to-accuracy.

    Returns:
        The :class:`PINNResult`.

    Raises:
        NonFiniteLossError: A loss term became NaN or inf.

    Example:
        >>> from models.pinn.cases.fisher_kpp import forward_problem   # doctest: +SKIP
    """
    config = config or PINNConfig()
    if config.resample_every and not hasattr(problem, "residual"):
        raise ValueError("residual-based resampling needs a residual-form problem")
    torch.manual_seed(config.seed)
    net.to(config.torch_dtype)
    problem.to(config.torch_dtype)
    run = _Run(problem, net, config, progress, monitor)
    _adam(run)
    if config.lbfgs_iterations:
        _lbfgs(run)
    total, terms = run.weighted("final")
    run.record("final", total.detach(), {k: v.detach() for k, v in terms.items()}, force=True)
    return PINNResult(net=net, coefficients=problem.coefficients.estimates(),
                      history=run.history, weights=dict(run.balancer.weights),
                      seconds=run.elapsed(), epochs=run.step, config=config)


def polish_pinn(problem: TrainableProblem, net: nn.Module, config: PINNConfig | None = None,
                *, lbfgs_iterations: int = 1000, max_seconds: float | None = None,
                in_place: bool = False, progress: Progress = _silent,
                monitor: Monitor | None = None) -> PINNResult:
    """Polish a trained network: cast it to float64 and continue with L-BFGS only.

    The float32 weights are the starting point (no Adam, no re-initialisation); the loss is
    the same as in training, on the same collocation points (``config``'s ``seed`` and
    ``n_collocation``, drawn in float64). Loss weights restart at 1 and stay fixed (no
    adaptive weighting, no resampling), so the polish minimises one fixed objective.

    Args:
        problem: The problem ``net`` was trained on.
        net: The trained network (any dtype; normally float32).
        config: The settings ``net`` was trained with (default :class:`PINNConfig`); only
            ``n_collocation``, ``seed`` and ``log_every`` carry over.
        lbfgs_iterations: L-BFGS iterations of the polish (it stops earlier when L-BFGS
            makes no more progress).
        max_seconds: Wall-clock budget of the polish (None: no limit).
        in_place: Cast and train ``net`` and ``problem`` themselves; by default deep copies
            are polished and the float32 originals are left untouched.
        progress: As in :func:`train_pinn`.
        monitor: As in :func:`train_pinn` (e.g. the error against a reference).

    Returns:
        The :class:`PINNResult` of the polish: the float64 network, its history (stages
        ``"lbfgs"`` and ``"final"``), ``seconds`` of the polish alone and ``epochs`` = the
        L-BFGS iterations taken.

    Raises:
        ValueError: ``lbfgs_iterations`` < 1.
        NonFiniteLossError: A loss term became NaN or inf.

    Example:
        >>> result = train_pinn(problem, net, PINNConfig())          # doctest: +SKIP
        >>> polished = polish_pinn(problem, result.net, result.config)  # doctest: +SKIP
    """
    if lbfgs_iterations < 1:
        raise ValueError("a polish needs at least one L-BFGS iteration")
    base = config or PINNConfig()
    polish = replace(base, adam_epochs=0, lbfgs_iterations=lbfgs_iterations,
                     adaptive_weights=False, resample_every=0, max_seconds=max_seconds,
                     dtype="float64")
    if not in_place:
        problem, net = deepcopy(problem), deepcopy(net)
    return train_pinn(problem, net, polish, progress=progress, monitor=monitor)
