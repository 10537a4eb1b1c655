r"""The protein-expression neural ODE as a training job (registered in
:data:`models.pinn.cases.registry.CASES` as ``"protein_expression"``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch

from models.design.rounds import TrainedModel
from models.physics.protein_expression import ExpressionParameters, generate_dataset

from .design import DosingProblem, design_schedule
from .protein import (
    ExpressionCase,
    HybridExpressionField,
    build_batch,
    predict,
    prediction_error,
    verify_schedule,
)
from .solve import SolverOptions
from .training import NeuralODEConfig, train_neural_ode

__all__ = ["ProteinSettings", "protein_expression"]


@dataclass(frozen=True)
class ProteinSettings:
    """Settings of the protein-expression job (data design, training, optional design)."""

    horizon: float = 12.0
    n_times: int = 12
    noise: float = 0.02
    epochs_per_stage: int = 250
    horizons: tuple[float, ...] = (0.35, 0.7, 1.0)
    learning_rate: float = 2e-2
    rtol: float = 1e-5
    atol: float = 1e-6
    adjoint: bool = False
    width: int = 16
    seed: int = 0
    design_target: float | None = None
    max_dose: float = 10.0
    n_intervals: int = 6


def protein_expression(config: Mapping[str, Any],
                       progress: Callable[[int, dict[str, float]], None]) -> TrainedModel:
    """Train the hybrid model; metrics: error on unseen doses over twice the horizon, solver
    statistics, learned rates, and (with ``design_target``) a dosing schedule verified on the
    ground truth."""
    from models.pinn.cases.registry import settings_from, state_bytes

    s = settings_from(ProteinSettings, {**config, "horizons": tuple(
        config.get("horizons", ProteinSettings.horizons))})
    case = ExpressionCase(horizon=s.horizon, n_times=s.n_times, noise=s.noise, seed=s.seed)
    field = HybridExpressionField(width=s.width, seed=s.seed)
    result = train_neural_ode(field, build_batch(case), NeuralODEConfig(
        epochs_per_stage=s.epochs_per_stage, horizons=s.horizons,
        learning_rate=s.learning_rate,
        solver=SolverOptions(rtol=s.rtol, atol=s.atol, adjoint=s.adjoint), seed=s.seed),
        progress)
    metrics: dict[str, Any] = {
        "unseen_dose_rel_error_2x_horizon": prediction_error(field, case.test_doses,
                                                             2 * case.horizon),
        "train_dose_rel_error_2x_horizon": prediction_error(field, case.train_doses,
                                                            2 * case.horizon),
        "rates": field.rates(), "solver_stats": field.stats.as_dict(),
        "seconds": result.seconds, "loss_curves": result.history}
    if s.design_target is not None:
        problem = DosingProblem(horizon=s.horizon, n_intervals=s.n_intervals,
                                max_dose=s.max_dose, target=s.design_target)
        y0 = torch.tensor(ExpressionParameters().initial_state(),
                          dtype=torch.float32).reshape(1, 2)
        design = design_schedule(field, y0, problem)
        metrics["design"] = {"doses": design.doses.tolist(),
                             "predicted_final": design.predicted_final,
                             **verify_schedule(design.doses, s.horizon, s.design_target,
                                               s.max_dose)}
    return TrainedModel("neural_ode", state_bytes(field),
                        {"case": "protein_expression", **asdict(s)}, metrics,
                        figure=_figure(field, case, metrics))


def _figure(field: HybridExpressionField, case: ExpressionCase,
            metrics: Mapping[str, Any]) -> bytes:
    """Learned trajectories against the training data and the unseen doses' ground truth."""
    from models.pinn.cases.figures import trajectories_vs_data

    params = ExpressionParameters()
    data = generate_dataset(case.train_doses, case.horizon, case.n_times, case.noise,
                            case.seed, params)
    y0 = params.initial_state()
    return trajectories_vs_data(
        lambda doses, times: predict(field, doses, times, y0),
        [d.times for d in data], [d.values for d in data], [d.dose for d in data],
        case.test_doses, case.horizon,
        "protein expression, hybrid neural ODE: unseen doses at 2x horizon "
        f"{metrics['unseen_dose_rel_error_2x_horizon']:.1%} off", params)
