"""Gradient inverse design on problems whose optima are known in closed form."""

from __future__ import annotations

import math

import pytest
import torch

from models.design.inverse import (
    InverseDesignConfig,
    InverseDesignError,
    Objective,
    OutcomeConstraint,
    inverse_design,
)

F64 = torch.float64


def with_zero_sd(fn):
    def predict(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = fn(X)
        return mean, torch.zeros_like(mean)
    return predict


# f = (x1 - 1.5)^2 + 2 (x2 - 1.2)^2 subject to x1 + x2 <= 1.5 on [0, 2]^2.
# Stationarity 2(x1 - a) + mu = 0, 4(x2 - b) + mu = 0 with x1 + x2 = s gives
# mu = 4(a + b - s)/3 = 1.6, x = (a - mu/2, b - mu/4) = (0.7, 0.8).
@with_zero_sd
def constrained_quadratic(X: torch.Tensor) -> torch.Tensor:
    f = (X[:, 0] - 1.5) ** 2 + 2.0 * (X[:, 1] - 1.2) ** 2
    return torch.stack([f, X.sum(dim=-1)], dim=-1)


BOX2 = torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=F64)
EXACT = {"kappa": 0.0, "constraint_kappa": 0.0}


def test_constrained_quadratic_kkt_point_and_multiplier() -> None:
    result = inverse_design(constrained_quadratic, BOX2,
                            constraints=[OutcomeConstraint(1, 1.5, upper=True)],
                            config=InverseDesignConfig(starts=16, **EXACT))
    torch.testing.assert_close(result.x[0], torch.tensor([0.7, 0.8], dtype=F64), atol=1e-6,
                               rtol=0)
    assert float(result.multipliers[0, 0]) == pytest.approx(1.6, abs=1e-5)
    assert float(result.objective[0]) == pytest.approx(0.64 + 2 * 0.16, abs=1e-6)
    assert float(result.kkt.stationarity[0]) < 1e-6
    assert float(result.kkt.primal[0]) < 1e-6
    assert float(result.kkt.complementarity[0]) < 1e-6
    assert bool(result.feasible[0]) and bool(result.converged[0])
    # A convex problem: every start ends at the one optimum.
    assert result.x.shape == (1, 2) and int(result.cluster_size[0]) == 16


def test_a_lower_threshold_constraint_and_maximisation() -> None:
    # Maximise -(x1^2 + x2^2) subject to x1 + 2 x2 >= 1 on [-1, 1]^2:
    # x = (1, 2)/5, multiplier 2/5 (in units of the maximised output per slack unit).
    @with_zero_sd
    def model(X):
        return torch.stack([-(X**2).sum(-1), X[:, 0] + 2 * X[:, 1]], dim=-1)

    box = torch.tensor([[-1.0, -1.0], [1.0, 1.0]], dtype=F64)
    result = inverse_design(model, box, objective=Objective(0, maximize=True),
                            constraints=[OutcomeConstraint(1, 1.0)],
                            config=InverseDesignConfig(starts=8, **EXACT))
    torch.testing.assert_close(result.x[0], torch.tensor([0.2, 0.4], dtype=F64), atol=1e-6,
                               rtol=0)
    assert float(result.value[0]) == pytest.approx(-0.2, abs=1e-6)
    assert float(result.multipliers[0, 0]) == pytest.approx(0.4, abs=1e-5)


def test_inactive_constraint_has_zero_multiplier_and_bounds_are_exact() -> None:
    # Unconstrained optimum (3, 0.5) lies outside the box [0, 1]^2: x* = (1, 0.5) on the bound;
    # the constraint x1 + x2 <= 10 is inactive.
    @with_zero_sd
    def model(X):
        return torch.stack([(X[:, 0] - 3) ** 2 + (X[:, 1] - 0.5) ** 2, X.sum(-1)], dim=-1)

    box = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=F64)
    result = inverse_design(model, box, constraints=[OutcomeConstraint(1, 10.0, upper=True)],
                            config=InverseDesignConfig(starts=8, **EXACT))
    assert float(result.x[0, 0]) == 1.0  # exactly on the bound (projection)
    assert float(result.x[0, 1]) == pytest.approx(0.5, abs=1e-6)
    assert float(result.multipliers[0, 0]) == 0.0
    # The gradient is not zero there, its projection on the box is.
    assert float(result.kkt.stationarity[0]) < 1e-6


def himmelblau(X: torch.Tensor) -> torch.Tensor:
    x, y = X[:, 0], X[:, 1]
    return ((x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2)[:, None]


HIMMELBLAU_MINIMA = torch.tensor([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186],
                                  [3.584428, -1.848126]], dtype=F64)


def test_multimodal_function_gives_its_distinct_minima() -> None:
    box = torch.tensor([[-5.0, -5.0], [5.0, 5.0]], dtype=F64)
    result = inverse_design(with_zero_sd(himmelblau), box,
                            config=InverseDesignConfig(starts=32, **EXACT))
    assert result.x.shape[0] == 4, result.x
    # Each known minimum found once, value 0, KKT residual small.
    distance = torch.cdist(HIMMELBLAU_MINIMA, result.x)
    assert bool((distance.min(dim=1).values < 1e-5).all()), result.x
    assert sorted(distance.argmin(dim=1).tolist()) == [0, 1, 2, 3]
    assert bool((result.objective < 1e-9).all())
    assert bool((result.kkt.stationarity < 1e-5).all())
    # Best first, and every start is accounted for.
    assert bool((result.objective[1:] >= result.objective[:-1]).all())
    assert int(result.cluster_size.sum()) == 32
    assert result.starts.shape == (32, 2) and result.start_cluster.shape == (32,)
    # Designs are at least the clustering distance apart (RMS, unit cube).
    u = (result.x - box[0]) / (box[1] - box[0])
    pairwise = torch.cdist(u, u) / math.sqrt(2) + torch.eye(4, dtype=F64)
    assert float(pairwise.min()) > 0.05


def test_all_starts_go_through_one_vectorised_call() -> None:
    shapes: list[tuple[int, ...]] = []

    def model(X):
        shapes.append(tuple(X.shape))
        return constrained_quadratic(X)

    config = InverseDesignConfig(starts=24, **EXACT)
    result = inverse_design(model, BOX2, constraints=[OutcomeConstraint(1, 1.5, upper=True)],
                            config=config)
    m = result.metrics
    assert set(shapes) == {(24, 2)}  # every call carries the whole batch of starts
    assert m["predict_calls"] == len(shapes)
    assert m["rows_per_call"] == [24]
    rounds = len(m["stages"])
    # One call per line-search trial of the batch, one per multiplier update, one to set the
    # scales, one for the KKT report: no call per start.
    assert len(shapes) == m["spg_evaluations"] + rounds + 2
    assert m["spg_evaluations"] <= m["spg_iterations"] * (config.max_backtracks + 1) + rounds


def test_uncertainty_penalty_keeps_designs_near_the_data() -> None:
    # mean = -x (wants x = 1), sd = 10 (x - 0.5)_+^2 (no data beyond 0.5).
    # min -x + kappa * 10 (x - 0.5)^2 gives x = 0.5 + 1 / (20 kappa).
    def model(X):
        mean = -X[:, :1]
        sd = 10.0 * (X[:, :1] - 0.5).clamp(min=0.0) ** 2
        return mean, sd

    box = torch.tensor([[0.0], [1.0]], dtype=F64)
    trusting = inverse_design(model, box, config=InverseDesignConfig(starts=4, kappa=0.0))
    assert float(trusting.x[0, 0]) == 1.0
    for kappa in (1.0, 4.0):
        careful = inverse_design(model, box, config=InverseDesignConfig(starts=4, kappa=kappa))
        assert float(careful.x[0, 0]) == pytest.approx(0.5 + 1 / (20 * kappa), abs=1e-6)


def test_constraint_margin_under_uncertainty() -> None:
    # Minimise x subject to mean = x >= 0.5 with sd = 0.1: with kappa_c = 2 the constraint must
    # hold at mean - 2 sd, so x = 0.7.
    def model(X):
        return torch.cat([X, X], dim=-1), torch.full((X.shape[0], 2), 0.1, dtype=X.dtype)

    box = torch.tensor([[0.0], [1.0]], dtype=F64)
    result = inverse_design(model, box, constraints=[OutcomeConstraint(1, 0.5)],
                            config=InverseDesignConfig(starts=4, kappa=0.0,
                                                       constraint_kappa=2.0))
    assert float(result.x[0, 0]) == pytest.approx(0.7, abs=1e-6)
    assert float(result.multipliers[0, 0]) == pytest.approx(1.0, abs=1e-5)


def test_smoothness_penalty_is_the_second_difference_norm() -> None:
    # Objective 0: the roughness penalty alone drives a profile to a straight line.
    @with_zero_sd
    def flat(X):
        return torch.zeros(X.shape[0], 1, dtype=X.dtype) + 0.0 * X.sum(-1, keepdim=True)

    box = torch.tensor([[0.0] * 6, [1.0] * 6], dtype=F64)
    result = inverse_design(flat, box, config=InverseDesignConfig(
        starts=4, smoothness_weight=1.0, **EXACT))
    second = result.x[:, 2:] - 2 * result.x[:, 1:-1] + result.x[:, :-2]
    assert float(second.abs().max()) < 1e-4
    assert float(result.roughness.max()) < 1e-8


def test_starts_can_be_given_and_are_clustered_with_a_threshold() -> None:
    box = torch.tensor([[-5.0, -5.0], [5.0, 5.0]], dtype=F64)
    initial = torch.tensor([[2.5, 2.5], [3.2, 1.5], [-3.0, -3.0]], dtype=F64)
    result = inverse_design(with_zero_sd(himmelblau), box, initial=initial,
                            config=InverseDesignConfig(**EXACT))
    assert result.metrics["starts"] == 3
    assert result.x.shape[0] == 2
    assert result.cluster_size.tolist() == [2, 1] or result.cluster_size.tolist() == [1, 2]
    one = inverse_design(with_zero_sd(himmelblau), box, initial=initial,
                         config=InverseDesignConfig(cluster_distance=1.0, **EXACT))
    assert one.x.shape[0] == 1


def test_wrong_model_shapes_and_outputs_are_typed_errors() -> None:
    box = torch.tensor([[0.0], [1.0]], dtype=F64)
    with pytest.raises(InverseDesignError, match="shape"):
        inverse_design(lambda X: (X.sum(-1), X.sum(-1)), box)
    with pytest.raises(InverseDesignError, match="outputs"):
        inverse_design(with_zero_sd(lambda X: X), box, objective=Objective(3))
    with pytest.raises(InverseDesignError, match="NaN"):
        inverse_design(with_zero_sd(lambda X: X * math.nan), box)


@pytest.mark.parametrize("bad", [{"continuation": (1.0, 0.1)}, {"starts": 0},
                                 {"anchor": "corner"}, {"kappa": -1.0},
                                 {"smoothness_continuation": (1.0, 0.0)}])
def test_config_validation(bad: dict) -> None:
    with pytest.raises(ValueError):
        InverseDesignConfig(**bad)


def test_starts_where_the_model_is_nan_are_left_out() -> None:
    @with_zero_sd
    def model(X):
        f = (X - 0.3) ** 2
        return torch.where(X > 0.8, torch.full_like(f, math.nan), f)

    box = torch.tensor([[0.0], [1.0]], dtype=F64)
    initial = torch.tensor([[0.1], [0.5], [0.95]], dtype=F64)
    result = inverse_design(model, box, initial=initial, config=InverseDesignConfig(**EXACT))
    assert result.x.shape == (1, 1) and float(result.x[0, 0]) == pytest.approx(0.3, abs=1e-6)
    assert result.start_cluster.tolist() == [0, 0, -1]
    assert result.cluster_size.tolist() == [2] and result.metrics["finite_starts"] == 2
