"""Divergence is detected and cured, or reported as a typed error: never a NaN model."""

from __future__ import annotations

import pytest
import torch

from models.surrogates import DeepEnsemble, EnsembleConfig, TrainingDivergedError


def data() -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.rand(40, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return X, torch.sin(3.0 * X[:, :1]) + X[:, 1:] ** 2


BASE = {"members": 3, "width": 16, "depth": 2, "epochs": 200, "curvature_every": 50}


def test_absurd_learning_rate_raises_a_readable_error() -> None:
    X, Y = data()
    config = EnsembleConfig(**BASE, learning_rate=1e6, max_retries=3)
    with pytest.raises(TrainingDivergedError) as info:
        DeepEnsemble.fit(X, Y, config)
    error = info.value
    assert error.retries == 3
    assert "diverged" in error.message and "no model was produced" in error.message
    assert error.details["reason"]
    assert len(error.details["learning_rates"]) == 3
    # Each retry halved the rate of the diverged members: 1e6 / 2^3.
    assert max(error.details["learning_rates"]) == pytest.approx(1e6 / 8)


def test_divergence_is_recovered_by_halving_the_step() -> None:
    X, Y = data()
    config = EnsembleConfig(**BASE, learning_rate=1e3, max_retries=40)
    model = DeepEnsemble.fit(X, Y, config)
    m = model.metrics
    assert m["retries"] > 0 and m["divergences"]
    assert all(bool(torch.isfinite(p).all()) for p in model.params)
    mean, sd = model.predict(X)
    assert bool(torch.isfinite(mean).all() and torch.isfinite(sd).all())
    # The cured rates are far below the absurd one and the fit is sane.
    assert max(m["learning_rate"]) < 1e3 / 2
    assert m["train_rmse"][0] < float(Y.std())
    # A fixed rate is recorded as such: the bound is not claimed.
    assert "not enforced" in m["stability_bound"]


def test_diverged_error_survives_pickling() -> None:
    import pickle

    error = TrainingDivergedError(12, 3, [0.5, 0.25], [None, 1.0], "non-finite loss")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, TrainingDivergedError)
    assert copy.details == error.details and copy.epoch == 12


def test_early_stopping_keeps_each_members_best_step() -> None:
    # Few, noisy points and a big network: validation error turns up, members stop early.
    g = torch.Generator().manual_seed(1)
    X = torch.rand(25, 1, generator=g, dtype=torch.float64)
    Y = X + 0.3 * torch.randn(25, 1, generator=g, dtype=torch.float64)
    config = EnsembleConfig(members=3, width=64, depth=2, epochs=3000, patience=100,
                            weight_decay=0.0, seed=2)
    model = DeepEnsemble.fit(X, Y, config)
    m = model.metrics
    assert any(m["stopped_early"])
    assert m["steps"] < config.epochs
    for best, stopped in zip(m["best_step"], m["stopped_early"], strict=True):
        if stopped:
            assert best <= m["steps"] - config.patience
