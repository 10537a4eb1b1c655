r"""Fit a neural ODE to trajectories, with a curriculum over the time horizon.

The loss is the mean squared error at the observed points, each state variable divided by
its typical magnitude (so a protein in the hundreds of nM does not drown an mRNA in the
units). A long series fitted from the start can trap the parameters in a bad minimum (the
far-future error is huge and its gradient chaotic); the **curriculum** trains on the first
``horizons[0]`` fraction of the time range, then extends it stage by stage to the whole
series. Adam with a cosine-decaying step size within each stage.

``progress(epoch, terms)`` receives ``{"loss", "horizon", "nfe"}`` every ``log_every``
epochs; the history keeps them with the solver statistics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from .data import TrajectoryBatch
from .errors import NonFiniteFieldError, NonFiniteODELossError
from .field import ODEField
from .solve import SolverOptions, solve

__all__ = ["NeuralODEConfig", "NeuralODEResult", "train_neural_ode"]

Progress = Callable[[int, dict[str, float]], None]


def _silent(epoch: int, terms: dict[str, float]) -> None:
    """Default progress: nobody listens."""


@dataclass(frozen=True)
class NeuralODEConfig:
    """Training settings.

    Attributes:
        epochs_per_stage: Adam steps per curriculum stage.
        horizons: Fractions of the full time range, increasing to 1.0 (``(1.0,)``: no
            curriculum).
        learning_rate: Adam's initial step size (cosine decay to 5% within a stage).
        solver: Integration settings (method, tolerances, adjoint, fallback).
        log_every: Epochs between history entries.
        max_seconds: Wall-clock budget (None: unlimited).
        seed: Seeds the parameter initialisation.
    """

    epochs_per_stage: int = 150
    horizons: tuple[float, ...] = (0.35, 0.7, 1.0)
    learning_rate: float = 2e-2
    solver: SolverOptions = field(default_factory=SolverOptions)
    log_every: int = 10
    max_seconds: float | None = None
    seed: int = 0


@dataclass
class NeuralODEResult:
    """What training produced: the field (trained in place), history and timings."""

    field: ODEField
    history: list[dict[str, Any]]
    seconds: float
    epochs: int
    config: NeuralODEConfig

    def config_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return asdict(self.config)


def trajectory_loss(field: ODEField, batch: TrajectoryBatch, scale: Tensor,
                    options: SolverOptions) -> Tensor:
    """Scaled mean squared error at the observed points of ``batch``."""
    field.set_inputs(batch.inputs)
    pred = solve(field, batch.y0, batch.t, options)
    err = ((pred - batch.values) / scale) ** 2 * batch.mask
    return err.sum() / (batch.mask.sum() * batch.values.shape[-1])


def train_neural_ode(field: ODEField, data: TrajectoryBatch,
                     config: NeuralODEConfig | None = None,
                     progress: Progress = _silent) -> NeuralODEResult:
    """Train ``field`` in place on ``data``.

    Raises:
        NonFiniteODELossError: The loss became NaN/inf — or, as its subclass
            :class:`~.errors.NonFiniteFieldError`, the model produced NaN/inf during a solve
            (with the epoch in its details).
        StiffSolverError: The solver failed and no fallback is configured.
    """
    config = config or NeuralODEConfig()
    torch.manual_seed(config.seed)
    scale = (data.values.abs() * data.mask).amax(dim=(0, 1)).clamp(min=1e-12)
    t0, t_end = float(data.t[0]), float(data.t[-1])
    history: list[dict[str, Any]] = []
    start, epoch = time.perf_counter(), 0
    optimiser = torch.optim.Adam(field.parameters(), lr=config.learning_rate)
    for fraction in config.horizons:
        stage = data.until(t0 + fraction * (t_end - t0))
        for local in range(config.epochs_per_stage):
            if config.max_seconds is not None and time.perf_counter() - start > config.max_seconds:
                break
            lr = config.learning_rate * (0.05 + 0.95 * 0.5 * (
                1 + math.cos(math.pi * local / config.epochs_per_stage)))
            for group in optimiser.param_groups:
                group["lr"] = lr
            optimiser.zero_grad(set_to_none=True)
            try:
                loss = trajectory_loss(field, stage, scale, config.solver)
            except NonFiniteFieldError as error:
                raise error.at_epoch(epoch) from error
            if not math.isfinite(float(loss.detach())):
                raise NonFiniteODELossError(
                    f"non-finite loss (NaN/inf) at epoch {epoch}, horizon {fraction:g} of the "
                    "series: the predicted trajectories overflow the scaled squared error "
                    "(a diverged model? lower the learning rate)",
                    {"epoch": epoch, "horizon": fraction})
            loss.backward()
            optimiser.step()
            if epoch % config.log_every == 0:
                entry = {"epoch": epoch, "loss": float(loss.detach()), "horizon": fraction,
                         "seconds": time.perf_counter() - start, **field.stats.as_dict()}
                history.append(entry)
                progress(epoch, {"loss": float(loss.detach()), "horizon": fraction,
                                 "nfe": float(field.stats.nfe)})
            epoch += 1
    return NeuralODEResult(field, history, time.perf_counter() - start, epoch, config)
