r"""The protein-expression case: a hybrid neural ODE learns the unknown dose regulation.

Known mechanism, unknown law of regulation:

.. math:: \dot m = g_\theta(d) - \delta_m m, \qquad \dot p = \beta m - \delta_p p,

with :math:`g_\theta(d) = \mathrm{softplus}(N_\theta(\log(1 + d)))` (nM/h, positive: any
transcription rate, leak included) and the rates :math:`\delta_m, \beta, \delta_p` trainable
and positive (log-parameterised, started 50% off the truth). The network sees only the dose,
so what it learns from 12 h of data holds at any later time; the mechanism carries it.

:func:`prediction_error` measures the relative L2 error of :math:`(m, p)` against the ground
truth (:mod:`models.physics.protein_expression`) on unseen doses over twice the training
horizon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from models.physics.protein_expression import ExpressionParameters, generate_dataset, simulate

from .data import TrajectoryBatch
from .field import BlackBoxField, ODEField, mlp
from .solve import SolverOptions, solve

__all__ = ["ExpressionCase", "HybridExpressionField", "build_batch", "prediction_error"]


@dataclass(frozen=True)
class ExpressionCase:
    """The built-in case's data design.

    Attributes:
        train_doses: Doses measured (µM).
        test_doses: Unseen doses for the check (µM).
        horizon: Training horizon (h); predictions are checked to twice it.
        n_times: Measurements per dose (irregular).
        noise: Noise sd as a fraction of each species' peak.
        seed: Seeds times and noise.
    """

    train_doses: tuple[float, ...] = (0.0, 0.3, 0.7, 1.2, 2.0, 4.0, 10.0)
    test_doses: tuple[float, ...] = (0.5, 1.6, 6.0)
    horizon: float = 12.0
    n_times: int = 12
    noise: float = 0.02
    seed: int = 0


class HybridExpressionField(ODEField):
    """Mechanistic mRNA/protein kinetics with a learned transcription law :math:`g_\\theta(d)`.

    Args:
        guesses: Initial ``(delta_m, beta, delta_p)`` (1/h).
        width: Hidden units of :math:`N_\\theta`.
        rate_scale: Typical transcription rate (nM/h) multiplying the softplus output.
        dtype: Parameter dtype.
        seed: Initialisation seed.
    """

    def __init__(self, guesses: tuple[float, float, float] = (1.0, 1.0, 0.3), width: int = 16,
                 rate_scale: float = 1.0, dtype: torch.dtype = torch.float32,
                 seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = mlp(1, 1, width, 2, dtype)
        self.log_rates = nn.Parameter(torch.tensor([math.log(g) for g in guesses], dtype=dtype))
        self.rate_scale = rate_scale

    def transcription(self, dose: Tensor) -> Tensor:
        """:math:`g_\\theta(d)` (nM/h) for doses `B x 1`."""
        return self.rate_scale * nn.functional.softplus(self.net(torch.log1p(dose)))

    def rates(self) -> dict[str, float]:
        """Current :math:`\\delta_m, \\beta, \\delta_p`."""
        values = torch.exp(self.log_rates.detach())
        return {"delta_m": float(values[0]), "beta": float(values[1]),
                "delta_p": float(values[2])}

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        assert self.inputs is not None, "set_inputs first"
        delta_m, beta, delta_p = torch.exp(self.log_rates)
        m, p = y[..., 0:1], y[..., 1:2]
        return torch.cat([self.transcription(self.inputs) - delta_m * m,
                          beta * m - delta_p * p], dim=-1)


def build_batch(case: ExpressionCase, params: ExpressionParameters | None = None,
                dtype: torch.dtype = torch.float32) -> TrajectoryBatch:
    """The noisy, irregular training data of ``case`` as one batch (start: uninduced state,
    assumed known)."""
    params = params or ExpressionParameters()
    data = generate_dataset(case.train_doses, case.horizon, case.n_times, case.noise,
                            case.seed, params)
    y0 = np.tile(params.initial_state(), (len(data), 1))
    return TrajectoryBatch.build([d.times for d in data], [d.values for d in data],
                                 np.array([d.dose for d in data]), y0, dtype=dtype)


def predict(field: ODEField, doses: Sequence[float], times: np.ndarray,
            y0: np.ndarray, options: SolverOptions | None = None) -> np.ndarray:
    """Model states `len(times) x len(doses) x 2` from ``y0`` at t = 0 (``times[0] = 0``)."""
    dtype = next(field.parameters()).dtype
    field.set_inputs(torch.tensor(doses, dtype=dtype).reshape(-1, 1))
    start = torch.tensor(np.tile(y0, (len(doses), 1)), dtype=dtype)
    with torch.no_grad():
        out = solve(field, start, torch.tensor(times, dtype=dtype),
                    options or SolverOptions(time_dtype="float64"))
    return out.double().numpy()


def prediction_error(field: ODEField, doses: Sequence[float], horizon: float,
                     params: ExpressionParameters | None = None, n: int = 97) -> float:
    """Relative L2 error of (m, p), each scaled by its ground-truth peak, over
    :math:`[0, T]` and the given doses against the ground truth (the worst dose)."""
    params = params or ExpressionParameters()
    times = np.linspace(0.0, horizon, n)
    pred = predict(field, doses, times, params.initial_state())
    worst = 0.0
    for b, dose in enumerate(doses):
        truth = simulate(float(dose), times[1:], params)
        truth = np.vstack([params.initial_state(), truth])
        peak = np.abs(truth).max(axis=0)
        err = np.linalg.norm((pred[:, b] - truth) / peak) / np.linalg.norm(truth / peak)
        worst = max(worst, float(err))
    return worst


def black_box_field(batch: TrajectoryBatch, width: int = 32, seed: int = 0) -> BlackBoxField:
    """A fully learned field for the same data (the plain neural-ODE baseline)."""
    scale = (batch.values.abs() * batch.mask).amax(dim=(0, 1))
    return BlackBoxField(2, 1, scale, width=width, rate=0.5, dtype=batch.values.dtype,
                         seed=seed)


def verify_schedule(doses: Sequence[float] | np.ndarray, horizon: float, target: float,
                    max_dose: float, params: ExpressionParameters | None = None
                    ) -> dict[str, float]:
    """Check a designed schedule on the ground truth.

    Returns:
        ``true_final`` (nM), ``relative_miss`` :math:`|p(T) - p^*|/p^*`, ``total_dose``
        (µM·h), and ``constant_total_dose``: the total of the constant dose that reaches
        the target on the ground truth (the naive schedule to beat).
    """
    from models.physics.protein_expression import simulate_schedule as truth_schedule

    from .design import constant_dose_for_target

    params = params or ExpressionParameters()
    _, states = truth_schedule(list(doses), horizon, params)
    final = float(states[-1, 1])

    def constant_final(dose: float) -> float:
        return float(simulate(dose, np.array([horizon]), params)[-1, 1])

    constant = constant_dose_for_target(constant_final, target, max_dose)
    return {"true_final": final, "relative_miss": abs(final - target) / target,
            "total_dose": float(np.sum(doses)) * horizon / len(doses),
            "constant_total_dose": constant * horizon}


class TrueExpressionField(ODEField):
    """The ground-truth law as a field (known Hill regulation): checks the design machinery
    and serves as the oracle surrogate in tests."""

    def __init__(self, params: ExpressionParameters | None = None,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.params = params or ExpressionParameters()
        self.dummy = nn.Parameter(torch.zeros((), dtype=dtype))   # a module with a parameter

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        assert self.inputs is not None, "set_inputs first"
        p = self.params
        d = self.inputs.clamp(min=0.0)
        induced = p.alpha * d**p.hill_n / (p.half_dose**p.hill_n + d**p.hill_n)
        m, prot = y[..., 0:1], y[..., 1:2]
        return torch.cat([p.alpha0 + induced - p.delta_m * m + 0.0 * self.dummy,
                          p.beta * m - p.delta_p * prot], dim=-1)
