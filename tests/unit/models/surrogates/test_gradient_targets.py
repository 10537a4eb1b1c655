"""Gradient-enhanced (Sobolev) training of the deep ensemble: targets, chain rule, curvature."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from models.surrogates import DeepEnsemble, EnsembleConfig, InvalidTrainingDataError
from models.surrogates.mlp import init_parameters
from models.surrogates.stability import hessian_vector_product
from models.surrogates.training import GradientTargets, member_jacobian, member_losses

F64 = torch.float64


def truth(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(3.0 * x) + 0.5 * x


def slope(x: torch.Tensor) -> torch.Tensor:
    return 3.0 * torch.cos(3.0 * x) + 0.5


# Six points of a function with two turns on [0, 2] (original units away from the unit cube,
# so that the chain rule's input scale matters).
X = torch.linspace(0.1, 1.9, 6, dtype=F64)[:, None]
BOUNDS = torch.tensor([[0.0], [2.0]], dtype=F64)
CONFIG = EnsembleConfig(members=3, width=32, epochs=1500, patience=300, val_fraction=0.0)


def fitted(with_gradients: bool, scale: float = 1.0,
           config: EnsembleConfig = CONFIG) -> DeepEnsemble:
    dY = (scale * slope(X))[:, :, None] if with_gradients else None
    return DeepEnsemble.fit(X, scale * truth(X), config, bounds=BOUNDS, dY=dY)


def test_gradient_targets_fit_a_sparse_1d_function_much_better() -> None:
    grid = torch.linspace(0.0, 2.0, 201, dtype=F64)[:, None]
    errors = {}
    for flag in (False, True):
        mean, _ = fitted(flag).predict(grid)
        errors[flag] = float(((mean - truth(grid)) ** 2).mean().sqrt())
    # Values alone cannot pin two turns with six points; their slopes nearly can.
    assert errors[True] < 0.5 * errors[False], errors
    assert errors[True] < 0.25, errors


def test_input_gradient_matches_the_targets_on_training_points() -> None:
    # Outputs scaled by 10: the targets and the model's gradient are in original units. No
    # bootstrap: every member sees every row (a resample leaves out a third of six rows).
    model = fitted(True, scale=10.0, config=replace(CONFIG, bootstrap=False))
    jac = model.input_gradient(X)
    assert jac.shape == (6, 1, 1)
    target = 10.0 * slope(X)
    assert float((jac[:, 0, 0] - target[:, 0]).abs().max()) < 0.15 * float(target.abs().max())
    report = model.metrics["gradients"]
    assert report["used"] and report["weight"] == CONFIG.gradient_weight
    assert report["rows_with_gradients"] == 6
    assert report["train_rmse"][0] < 0.05 * float(target.abs().max())
    assert report["val_rmse"] is None  # no validation split here
    # The curvature-set step size is still used and respected.
    assert model.metrics["bound_respected"] and model.metrics["curvature"]


def test_input_gradient_is_autograd_of_predict() -> None:
    model = fitted(True, config=replace(CONFIG, epochs=50))
    x = torch.tensor([[0.3], [1.2]], dtype=F64, requires_grad=True)
    mean, _ = model.predict(x)
    (grad,) = torch.autograd.grad(mean.sum(), x)
    assert torch.allclose(model.input_gradient(x.detach())[:, 0, :], grad, atol=1e-10)


def test_validation_split_and_missing_gradients_are_handled() -> None:
    g = torch.Generator().manual_seed(3)
    Xs = torch.rand(30, 2, generator=g, dtype=F64)
    Y = torch.stack([Xs[:, 0] ** 2 + Xs[:, 1], torch.sin(3.0 * Xs[:, 1])], dim=-1)
    dY = torch.zeros(30, 2, 2, dtype=F64)
    dY[:, 0, 0], dY[:, 0, 1] = 2.0 * Xs[:, 0], 1.0
    dY[:, 1, 1] = 3.0 * torch.cos(3.0 * Xs[:, 1])
    dY[:10] = math.nan  # a third of the rows without gradients
    dY[10:, 1, 0] = math.nan  # and one entry missing everywhere
    config = EnsembleConfig(members=2, width=16, epochs=300, val_fraction=0.2)
    model = DeepEnsemble.fit(Xs, Y, config, dY=dY)
    report = model.metrics["gradients"]
    assert report["rows_with_gradients"] == 20
    assert model.metrics["n_val"] == 6
    assert report["val_rmse"] is not None and len(report["val_rmse"]) == 2
    assert all(bool(torch.isfinite(p).all()) for p in model.params)


def test_zero_weight_reproduces_the_value_only_fit() -> None:
    dY = slope(X)[:, :, None]
    config = EnsembleConfig(members=2, width=8, epochs=80, val_fraction=0.0,
                            gradient_weight=0.0)
    a = DeepEnsemble.fit(X, truth(X), config, bounds=BOUNDS)
    b = DeepEnsemble.fit(X, truth(X), config, bounds=BOUNDS, dY=dY)
    for p, q in zip(a.params, b.params, strict=True):
        assert torch.equal(p, q)
    assert b.metrics["gradients"]["used"] is False


@pytest.mark.parametrize("bad", ["rank", "outputs", "inputs", "rows", "inf", "relu"])
def test_bad_gradient_targets_are_refused(bad: str) -> None:
    Xs = torch.rand(8, 2, dtype=F64)
    Y = torch.stack([Xs.sum(-1), Xs.prod(-1)], dim=-1)
    dY = torch.zeros(8, 2, 2, dtype=F64)
    config = EnsembleConfig(members=2, width=4, epochs=5)
    if bad == "rank":
        dY = dY[:, 0]
    elif bad == "outputs":
        dY = dY[:, :1]
    elif bad == "inputs":
        dY = torch.zeros(8, 2, 3, dtype=F64)
    elif bad == "rows":
        dY = dY[:7]
    elif bad == "inf":
        dY[2, 1, 0] = math.inf
    else:
        config = EnsembleConfig(members=2, width=4, epochs=5, activation="relu")
    with pytest.raises(InvalidTrainingDataError) as info:
        DeepEnsemble.fit(Xs, Y, config, dY=dY)
    assert info.value.details


def test_member_jacobian_is_per_member() -> None:
    params = init_parameters(3, 2, 2, 5, 2, seeds=[0, 1, 2], dtype=F64)
    u = torch.rand(4, 2, dtype=F64)
    out, jac = member_jacobian(params, u, "tanh", create_graph=False)
    assert out.shape == (3, 4, 2) and jac.shape == (3, 4, 2, 2)
    e, i, k = 1, 2, 0
    eps = 1e-6
    for j in range(2):
        du = torch.zeros_like(u)
        du[i, j] = eps
        plus = member_jacobian(params, u + du, "tanh", create_graph=False)[0]
        minus = member_jacobian(params, u - du, "tanh", create_graph=False)[0]
        fd = (plus[e, i, k] - minus[e, i, k]) / (2 * eps)
        assert float(fd) == pytest.approx(float(jac[e, i, k, j]), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("activation", ["silu", "tanh", "softplus"])
def test_sobolev_loss_hvp_matches_central_differences(activation: str) -> None:
    # Third derivatives through the network: the HVP of a loss that holds input gradients.
    g = torch.Generator().manual_seed(5)
    params = init_parameters(2, 2, 2, 4, 2, seeds=[7, 8], dtype=F64)
    params = [p + 0.1 * torch.randn(p.shape, generator=g, dtype=F64) for p in params]
    u = torch.rand(5, 2, generator=g, dtype=F64) * 2 - 1
    z = torch.randn(5, 2, generator=g, dtype=F64)
    targets = GradientTargets(torch.randn(5, 2, 2, generator=g, dtype=F64),
                              (torch.rand(5, 2, 2, generator=g) > 0.2).to(F64))
    weights = torch.full((2, 5), 0.2, dtype=F64)

    def loss(p: list[torch.Tensor]) -> torch.Tensor:
        return member_losses(p, u, z, weights, activation, 1e-3, targets, 0.7).sum()

    def gradient(p: list[torch.Tensor]) -> list[torch.Tensor]:
        leaves = [q.detach().clone().requires_grad_(True) for q in p]
        return list(torch.autograd.grad(loss(leaves), leaves))

    leaves = [p.clone().requires_grad_(True) for p in params]
    hvp = hessian_vector_product(loss(leaves), leaves)
    v = [torch.randn(p.shape, generator=g, dtype=F64) for p in params]
    exact = hvp(v)
    eps = 1e-5
    plus = gradient([p + eps * d for p, d in zip(params, v, strict=True)])
    minus = gradient([p - eps * d for p, d in zip(params, v, strict=True)])
    for a, b, c in zip(exact, plus, minus, strict=True):
        fd = (b - c) / (2 * eps)
        assert torch.allclose(a, fd, rtol=1e-5, atol=1e-7), float((a - fd).abs().max())


def test_non_finite_values_are_still_refused_with_gradients() -> None:
    Xs = torch.rand(8, 1, dtype=F64)
    Y = Xs.clone()
    Y[3, 0] = math.nan
    with pytest.raises(InvalidTrainingDataError):
        DeepEnsemble.fit(Xs, Y, EnsembleConfig(members=2, width=4, epochs=5),
                         dY=torch.ones(8, 1, 1, dtype=F64))


def test_steep_simulator_gradients_train_without_giving_up() -> None:
    """A dimple-texture campaign's round (14 designs, friction and load with their
    derivatives; saved in ``data/``): the Sobolev loss's Hessian is strongly indefinite
    (a negative eigenvalue near -240 beside lambda_max of a few tens), where the shifted power
    iteration estimated lambda_max at ~0.1 and the training diverged through every retry. With
    Lanczos estimates it trains within its retry budget, at rates below 2/lambda_max, to a
    finite model that fits the gradients it was given."""
    import json
    from pathlib import Path

    case = json.loads((Path(__file__).parent / "data" / "dimples_sobolev_divergence.json")
                      .read_text())
    X, Y, dY = (torch.tensor(case[k], dtype=F64) for k in ("X", "Y", "dY"))
    config = EnsembleConfig(**case["config"])
    model = DeepEnsemble.fit(X, Y, config, bounds=torch.tensor(case["bounds"], dtype=F64),
                             dY=dY)
    metrics = model.metrics
    assert metrics["bound_respected"]
    assert max(metrics["retries_per_member"]) <= config.max_retries
    mean, sd = model.predict(X)
    assert bool(torch.isfinite(mean).all() and torch.isfinite(sd).all())
    # Lanczos reports the top of the spectrum, far above the ~0.1 the old estimate gave.
    assert min(metrics["curvature"][-1]["lambda_max"]) > 1.0
