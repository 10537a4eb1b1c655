"""The deep ensemble against truth: fit error, where it is unsure, gradients, storage."""

from __future__ import annotations

import math

import pytest
import torch

from models.gradcheck import check_gradient
from models.surrogates import (
    DeepEnsemble,
    EnsembleConfig,
    InvalidTrainingDataError,
    SurrogateStateError,
)

BOUNDS = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
CONFIG = EnsembleConfig(members=4, width=32, depth=2, epochs=1500, patience=300, seed=3)


def truth(X: torch.Tensor) -> torch.Tensor:
    """Two smooth outputs on [0, 1]^2, of different scales (the standardisation matters)."""
    return torch.stack([torch.sin(3.0 * X[:, 0]) * torch.cos(2.0 * X[:, 1]),
                        10.0 * (X[:, 0] ** 2 + 0.5 * X[:, 1])], dim=-1)


def data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return X, truth(X)


@pytest.fixture(scope="module")
def model() -> DeepEnsemble:
    torch.set_num_threads(1)
    X, Y = data(120, 0)
    return DeepEnsemble.fit(X, Y, CONFIG, bounds=BOUNDS)


def test_fits_a_smooth_function(model: DeepEnsemble) -> None:
    X, Y = data(400, 1)
    mean, sd = model.predict(X)
    assert mean.shape == sd.shape == (400, 2)
    spread = Y.std(dim=0)
    rmse = ((mean - Y) ** 2).mean(dim=0).sqrt()
    assert bool((rmse < 0.04 * spread).all()), f"test RMSE {rmse} vs output sd {spread}"
    val = torch.tensor(model.metrics["val_rmse"], dtype=torch.float64)
    assert bool((val < 0.04 * spread).all()), f"validation RMSE {val}"
    assert model.metrics["n_val"] == 24 and model.metrics["n_train"] == 96


def test_sd_is_larger_far_from_the_data(model: DeepEnsemble) -> None:
    near, _ = data(200, 2)  # inside the training region [0, 1]^2
    g = torch.Generator().manual_seed(4)
    # [1.5, 2]^2: outside the data and the bounds (extrapolation).
    far = 1.5 + 0.5 * torch.rand(200, 2, generator=g, dtype=torch.float64)
    _, sd_near = model.predict(near)
    _, sd_far = model.predict(far)
    ratio = sd_far.mean(dim=0) / sd_near.mean(dim=0)
    assert bool((ratio > 5.0).all()), f"far/near sd ratio {ratio}"


def test_curvature_and_step_sizes_are_recorded(model: DeepEnsemble) -> None:
    m = model.metrics
    assert m["bound_respected"] and m["retries"] == 0
    assert "2/lambda_max" in m["stability_bound"]
    for record in m["curvature"]:
        lam = torch.tensor(record["lambda_max"])
        lr = torch.tensor(record["learning_rate"])
        assert lam.shape == (CONFIG.members,) and bool((lam > 0).all())
        assert bool((lr < 2.0 / lam).all())
        torch.testing.assert_close(lr, 2.0 * CONFIG.step_fraction / lam)
    assert len(m["best_step"]) == CONFIG.members and m["steps"] <= CONFIG.epochs


def test_input_gradients_pass_the_gradient_check(model: DeepEnsemble) -> None:
    x = torch.tensor([[0.3, 0.7], [1.4, -0.2]], dtype=torch.float64)
    check_gradient(lambda v: model.predict(v)[0], x).raise_if_failed()
    check_gradient(lambda v: model.predict(v)[1], x).raise_if_failed()


def test_members_differ(model: DeepEnsemble) -> None:
    X, _ = data(10, 5)
    members = model.member_predictions(X)
    assert members.shape == (CONFIG.members, 10, 2)
    assert float((members[0] - members[1]).abs().max()) > 1e-6


def test_round_trip_through_bytes_predicts_identically(model: DeepEnsemble) -> None:
    blob = model.to_bytes()
    loaded = DeepEnsemble.from_bytes(blob)
    X, _ = data(50, 6)
    for a, b in zip(model.predict(X), loaded.predict(X), strict=True):
        assert torch.equal(a, b)
    assert loaded.config == model.config
    assert loaded.metrics == model.metrics
    state = model.state_dict()
    assert DeepEnsemble.from_state_dict(state).config == model.config


def test_bad_state_is_a_typed_error() -> None:
    with pytest.raises(SurrogateStateError):
        DeepEnsemble.from_bytes(b"not a model")
    with pytest.raises(SurrogateStateError):
        DeepEnsemble.from_state_dict({"kind": "gp", "version": 1})


def test_training_is_reproducible_and_accepts_a_vector_target() -> None:
    X = torch.rand(30, 1, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    y = torch.sin(4.0 * X[:, 0])
    config = EnsembleConfig(members=2, width=8, depth=1, epochs=60)
    a, b = DeepEnsemble.fit(X, y, config), DeepEnsemble.fit(X, y, config)
    assert a.num_outputs == 1
    for p, q in zip(a.params, b.params, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("bad", ["nan", "inf", "shape", "rows"])
def test_bad_training_data_is_refused(bad: str) -> None:
    X = torch.rand(10, 2, dtype=torch.float64)
    Y = X.sum(dim=-1, keepdim=True)
    if bad == "nan":
        Y[3, 0] = math.nan
    elif bad == "inf":
        X[4, 1] = math.inf
    elif bad == "shape":
        Y = Y[:9]
    else:
        X, Y = X[:1], Y[:1]
    with pytest.raises(InvalidTrainingDataError):
        DeepEnsemble.fit(X, Y, EnsembleConfig(members=2, width=4, epochs=5))


def test_config_refuses_an_unstable_step_fraction() -> None:
    with pytest.raises(ValueError, match="2 / lambda_max"):
        EnsembleConfig(step_fraction=1.0)
    with pytest.raises(ValueError, match="members"):
        EnsembleConfig(members=1)


def test_float32_training_predicts_in_float32() -> None:
    X = torch.rand(40, 2, generator=torch.Generator().manual_seed(9))
    Y = X.sum(dim=-1, keepdim=True)
    model = DeepEnsemble.fit(X, Y, EnsembleConfig(members=2, width=8, epochs=300,
                                                  dtype="float32"))
    mean, sd = model.predict(X)
    assert mean.dtype == sd.dtype == torch.float32
    assert model.metrics["train_rmse"][0] < 0.1 * float(Y.std())
