"""The Fisher–KPP PINN against the converged reference: forward, inverse, exact wave, 2D.

Default tests use small fast settings with tolerances measured for them (fixed seeds); the
documented goals (rel. L2 <= 1e-3 forward; D, r within 1% from 50 noisy sensors) are the
``slow`` tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import models.pinn.cases.fisher_kpp as fk
from models.physics.reaction_diffusion import FisherKPP, solve_reference
from models.pinn.training import PINNConfig, polish_pinn, train_pinn


@pytest.fixture(scope="module")
def reference() -> tuple[FisherKPP, object]:
    case = fk.default_case()
    return case, solve_reference(case, nx=801, nt=51)


def test_forward_small_budget_reaches_a_few_1e3(reference) -> None:  # type: ignore[no-untyped-def]
    case, ref = reference
    points, values = fk.reference_points(ref, stride_x=16)
    problem, net = fk.forward_problem(case, width=20)
    seen: list[tuple[int, dict[str, float]]] = []
    result = train_pinn(problem, net, PINNConfig(adam_epochs=200, lbfgs_iterations=100,
                                                 n_collocation=500, log_every=50),
                        progress=lambda e, t: seen.append((e, t)))
    error = fk.relative_l2(net, points, values)
    assert error < 1e-2, error
    assert seen and set(seen[0][1]) == {"pde", "loss"}
    assert result.history[-1]["pde"] < result.history[0]["pde"] / 100


def test_float64_polish_continues_a_float32_network_with_lbfgs(reference) -> None:  # type: ignore[no-untyped-def]
    """The polish starts from the trained float32 weights (not afresh), works on copies and
    cuts the error: measured 8.3e-3 -> 1.7e-3 (4.8x) for these settings; asserted 2.5x."""
    case, ref = reference
    points, values = fk.reference_points(ref, stride_x=16)
    problem, net = fk.forward_problem(case, width=20, seed=0)
    config = PINNConfig(adam_epochs=200, lbfgs_iterations=100, n_collocation=500, log_every=50)
    train_pinn(problem, net, config)
    before = fk.relative_l2(net, points, values)
    result = polish_pinn(problem, net, config, lbfgs_iterations=400,
                         monitor=lambda n: fk.relative_l2(n, points, values))
    after = fk.relative_l2(result.net, points, values)
    assert after < before / 2.5, (before, after)
    # It continued from the float32 optimum: the first record (after <= 50 iterations) is
    # already below it, where a fresh network would sit near 1.
    first = result.history[0]["monitor"]
    assert first < before, (before, first)
    assert next(result.net.parameters()).dtype == torch.float64
    assert next(net.parameters()).dtype == torch.float32                  # original untouched
    assert fk.relative_l2(net, points, values) == before
    assert {h["stage"] for h in result.history} == {"lbfgs", "final"}
    assert 0 < result.epochs <= 400
    assert result.config.dtype == "float64" and result.config.adam_epochs == 0
    with pytest.raises(ValueError, match="at least one"):
        polish_pinn(problem, net, config, lbfgs_iterations=0)


def test_soft_form_with_adaptive_weights_and_resampling_learns(reference) -> None:  # type: ignore[no-untyped-def]
    case, ref = reference
    points, values = fk.reference_points(ref, stride_x=16)
    problem, net = fk.forward_problem(case, width=20, hard=False, n_boundary=100)
    result = train_pinn(problem, net, PINNConfig(
        adam_epochs=200, lbfgs_iterations=150, n_collocation=500, adaptive_weights=True,
        weight_every=50, resample_every=50, learning_rate=3e-3, log_every=50))
    assert set(result.weights) == {"pde", "initial", "left", "right"}
    assert any(abs(w - 1.0) > 1e-3 for w in result.weights.values())
    error = fk.relative_l2(net, points, values)
    assert error < 0.15, error     # from ~0.96 at the start; soft forms converge slowly


def test_inverse_recovers_coefficients_roughly_on_a_small_budget(reference) -> None:  # type: ignore[no-untyped-def]
    case, ref = reference
    data = fk.sensor_data(ref, 50, 0.01, seed=0, time_stride=5)
    problem, net = fk.inverse_problem(case, data, guess=(0.02, 0.5), width=20)
    result = train_pinn(problem, net, PINNConfig(adam_epochs=200, lbfgs_iterations=200,
                                                 n_collocation=600, learning_rate=3e-3,
                                                 log_every=50))
    assert abs(result.coefficients["D"] / case.diffusivity - 1) < 0.1, result.coefficients
    assert abs(result.coefficients["r"] / case.rate - 1) < 0.1, result.coefficients


def test_travelling_wave_pinn_matches_the_exact_solution() -> None:
    case = FisherKPP(diffusivity=0.01, rate=1.0)
    problem, net, exact = fk.wave_problem(case, n_boundary=100, width=20)
    train_pinn(problem, net, PINNConfig(adam_epochs=100, lbfgs_iterations=100,
                                        n_collocation=400, log_every=50))
    points, values = fk.reference_points(exact, stride_x=1)
    assert fk.relative_l2(net, points, values) < 1e-2


def test_2d_channel_runs() -> None:
    """(x, y, t) with exact no-flux walls: a short run lowers the residual and the error."""
    case = FisherKPP(horizon=0.5)
    problem, net = fk.forward_problem(case, width=16, width_y=0.5, harmonics=4)
    points, values = fk.reference_2d_points(case, 0.5, nx=41, ny=21, nt=6)
    before = fk.relative_l2(net, points, values)
    result = train_pinn(problem, net, PINNConfig(adam_epochs=40, lbfgs_iterations=0,
                                                 n_collocation=200, learning_rate=3e-3,
                                                 log_every=10))
    assert result.history[-1]["pde"] < result.history[0]["pde"] / 10
    assert fk.relative_l2(net, points, values) < before


@pytest.mark.slow
def test_2d_channel_learns_the_reference() -> None:
    case = FisherKPP(horizon=0.5)
    problem, net = fk.forward_problem(case, width=20, width_y=0.5, harmonics=4)
    points, values = fk.reference_2d_points(case, 0.5, nx=41, ny=21, nt=6)
    train_pinn(problem, net, PINNConfig(adam_epochs=150, lbfgs_iterations=100,
                                        n_collocation=500, log_every=50))
    assert fk.relative_l2(net, points, values) < 0.05


@pytest.mark.slow
def test_forward_goal_float32_below_1e3(reference) -> None:  # type: ignore[no-untyped-def]
    case, ref = reference
    points, values = fk.reference_points(ref, stride_x=8)
    problem, net = fk.forward_problem(case)
    train_pinn(problem, net, PINNConfig(adam_epochs=1000, lbfgs_iterations=1000))
    assert fk.relative_l2(net, points, values) < 1e-3


@pytest.mark.slow
def test_inverse_goal_50_sensors_within_1_percent(reference) -> None:  # type: ignore[no-untyped-def]
    case, ref = reference
    data = fk.sensor_data(ref, 50, 0.01, seed=0, time_stride=5)
    problem, net = fk.inverse_problem(case, data, guess=(0.02, 0.5))
    result = train_pinn(problem, net, PINNConfig(adam_epochs=1000, lbfgs_iterations=1000,
                                                 learning_rate=3e-3))
    assert abs(result.coefficients["D"] / case.diffusivity - 1) < 0.01
    assert abs(result.coefficients["r"] / case.rate - 1) < 0.01
    assert np.isfinite(result.history[-1]["data"])
