"""The protein-expression neural ODE: training on irregular noisy data, prediction of unseen
doses over twice the horizon, dosing design verified on the ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.neural_ode.data import TrajectoryBatch
from models.neural_ode.design import DosingProblem, design_schedule
from models.neural_ode.errors import InvalidTrajectoryError
from models.neural_ode.protein import (
    ExpressionCase,
    HybridExpressionField,
    TrueExpressionField,
    build_batch,
    prediction_error,
    verify_schedule,
)
from models.neural_ode.solve import SolverOptions
from models.neural_ode.training import NeuralODEConfig, train_neural_ode
from models.physics.protein_expression import ExpressionParameters


def test_batch_puts_irregular_times_on_a_union_grid() -> None:
    batch = build_batch(ExpressionCase(train_doses=(0.5, 2.0), n_times=5))
    assert batch.t[0] == 0.0 and bool((batch.t.diff() > 0).all())
    assert batch.mask.sum() == 10 and batch.values.shape == (11, 2, 2)
    assert batch.until(6.0).t.max() <= 6.0
    with pytest.raises(InvalidTrajectoryError):
        TrajectoryBatch.build([np.array([2.0, 1.0])], [np.ones((2, 2))], np.ones(1),
                              np.zeros((1, 2)))


def test_hybrid_training_reduces_unseen_dose_error() -> None:
    case = ExpressionCase(n_times=8)
    batch = build_batch(case)
    field = HybridExpressionField(seed=0)
    before = prediction_error(field, case.test_doses, 2 * case.horizon)
    seen: list[int] = []
    result = train_neural_ode(field, batch, NeuralODEConfig(
        epochs_per_stage=15, learning_rate=3e-2, solver=SolverOptions(rtol=1e-4, atol=1e-5)),
        progress=lambda e, t: seen.append(e))
    after = prediction_error(field, case.test_doses, 2 * case.horizon)
    assert after < 0.4 and after < before / 2, (before, after)
    assert seen and result.history[-1]["nfe"] > 0
    assert result.history[0]["horizon"] < 1.0      # curriculum started short


def test_dosing_design_through_the_true_law_is_verified_on_the_ground_truth() -> None:
    problem = DosingProblem(steps=25)
    params = ExpressionParameters()
    y0 = torch.tensor(params.initial_state(), dtype=torch.float64).reshape(1, 2)
    result = design_schedule(TrueExpressionField(params), y0, problem,
                             SolverOptions(method="rk4", step_size=0.5))
    check = verify_schedule(result.doses, problem.horizon, problem.target, problem.max_dose,
                            params)
    assert check["relative_miss"] < 0.02, check
    # the Hill law is convex below K, so the least-dose schedule is close to constant: the
    # design must not be worse than the constant dose that reaches the target
    assert check["total_dose"] <= 1.001 * check["constant_total_dose"], check
    assert np.all((result.doses >= 0) & (result.doses <= problem.max_dose))


@pytest.mark.slow
def test_goal_unseen_doses_and_double_horizon_within_5_percent() -> None:
    case = ExpressionCase()
    field = HybridExpressionField(seed=0)
    train_neural_ode(field, build_batch(case), NeuralODEConfig(
        epochs_per_stage=250, solver=SolverOptions(rtol=1e-5, atol=1e-6)))
    assert prediction_error(field, case.test_doses, 2 * case.horizon) < 0.05
    problem = DosingProblem()
    y0 = torch.tensor(ExpressionParameters().initial_state(), dtype=torch.float32).reshape(1, 2)
    design = design_schedule(field, y0, problem)
    check = verify_schedule(design.doses, problem.horizon, problem.target, problem.max_dose)
    assert check["relative_miss"] < 0.05 and check["total_dose"] < check["constant_total_dose"]
