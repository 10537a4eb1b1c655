"""Outcome surrogates: a known smooth function is recovered, known noise is used as given,
categorical spaces get the mixed kernel, and hyperparameters survive a state round trip into a
warm start."""

from __future__ import annotations

import io

import torch
from botorch.models.gp_regression_mixed import MixedSingleTaskGP
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood

from models.bo.config import GPConfig
from models.bo.data import OutcomeData
from models.bo.encoding import Encoder
from models.bo.gp import (
    build_gp,
    dump_state,
    fit_gp,
    fit_outcome_models,
    hyperparameters,
    load_hyperparameters,
    load_state,
)
from models.space.space import Space

SPACE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "a", "lower": -2.0, "upper": 3.0},
    {"type": "continuous", "name": "b", "lower": 0.1, "upper": 10.0, "log_scale": True}]})


def _truth(encoder: Encoder, X: torch.Tensor) -> torch.Tensor:
    u = (X - encoder.bounds[0]) / (encoder.bounds[1] - encoder.bounds[0])
    return torch.sin(3 * u[:, 0]) + torch.cos(4 * u[:, 1]) + u[:, 0] * u[:, 1]


def _points(encoder: Encoder, n: int, seed: int) -> torch.Tensor:
    u = torch.rand(n, encoder.dimension, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(seed))
    return encoder.bounds[0] + u * (encoder.bounds[1] - encoder.bounds[0])


def test_gp_recovers_a_known_smooth_function() -> None:
    encoder = Encoder(SPACE)
    X = _points(encoder, 40, seed=0)
    noise = 0.02 * torch.randn(40, generator=torch.Generator().manual_seed(1),
                               dtype=torch.float64)
    Y = (_truth(encoder, X) + noise).unsqueeze(-1)
    model = build_gp(X, Y, None, encoder)
    fit_gp(model, GPConfig())
    X_test = _points(encoder, 300, seed=2)
    with torch.no_grad():
        posterior = model.posterior(X_test)
    error = posterior.mean.squeeze(-1) - _truth(encoder, X_test)
    truth_sd = float(_truth(encoder, X_test).std())
    assert float(error.pow(2).mean().sqrt()) < 0.08 * truth_sd
    # The predicted sd is honest about that error: most test errors within 3 sd.
    z = error / posterior.variance.squeeze(-1).sqrt()
    assert float((z.abs() < 3).double().mean()) > 0.9


def test_known_noise_is_used_as_given() -> None:
    encoder = Encoder(SPACE)
    X = _points(encoder, 12, seed=3)
    Y = _truth(encoder, X).unsqueeze(-1)
    Yvar = torch.linspace(0.01, 0.04, 12, dtype=torch.float64).unsqueeze(-1)
    model = build_gp(X, Y, Yvar, encoder)
    assert isinstance(model.likelihood, FixedNoiseGaussianLikelihood)
    stdv = model.outcome_transform.stdvs.squeeze()
    assert torch.allclose(model.likelihood.noise * stdv**2, Yvar.squeeze(-1))


def test_categorical_space_uses_the_mixed_kernel() -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
        {"type": "categorical", "name": "c", "choices": ["a", "b", "c"]}]})
    encoder = Encoder(space)
    g = torch.Generator().manual_seed(4)
    X = torch.stack([torch.rand(45, generator=g, dtype=torch.float64),
                     torch.arange(45, dtype=torch.float64) % 3], dim=-1)
    shift = torch.tensor([0.0, 2.0, -1.0], dtype=torch.float64)

    def truth(X: torch.Tensor) -> torch.Tensor:
        return torch.sin(6 * X[:, 0]) + shift[X[:, 1].long()]

    model = build_gp(X, truth(X).unsqueeze(-1), None, encoder)
    assert isinstance(model, MixedSingleTaskGP)
    fit_gp(model, GPConfig())
    X_test = torch.stack([torch.linspace(0, 1, 30, dtype=torch.float64).repeat(3),
                          torch.arange(3, dtype=torch.float64).repeat_interleave(30)], -1)
    with torch.no_grad():
        mean = model.posterior(X_test).mean.squeeze(-1)
    assert float((mean - truth(X_test)).abs().max()) < 0.2


def test_state_round_trip_and_warm_start() -> None:
    encoder = Encoder(SPACE)
    X = _points(encoder, 30, seed=5)
    Y = _truth(encoder, X).unsqueeze(-1)
    first, _ = fit_outcome_models(
        {"y": OutcomeData("y", X[:20], Y[:20], None, "inferred")}, encoder, GPConfig())
    blob = dump_state(first, extra={"round": 1})
    state = load_state(blob)
    assert state["extra"] == {"round": 1}
    saved = state["models"]["y"]
    assert saved.keys() == hyperparameters(first["y"]).keys()
    assert all(k.rsplit(".", 1)[-1].startswith("raw_") for k in saved)

    fresh = build_gp(X, Y, None, encoder)
    assert load_hyperparameters(fresh, saved) == len(saved)
    for key, value in saved.items():
        assert torch.equal(fresh.state_dict()[key], value)

    warm, report = fit_outcome_models(
        {"y": OutcomeData("y", X, Y, None, "inferred")}, encoder, GPConfig(), state)
    cold, _ = fit_outcome_models(
        {"y": OutcomeData("y", X, Y, None, "inferred")}, encoder, GPConfig())
    assert report.warm_started == {"y": True}
    X_test = _points(encoder, 100, seed=6)
    with torch.no_grad():
        gap = warm["y"].posterior(X_test).mean - cold["y"].posterior(X_test).mean
    assert float(gap.abs().max()) < 0.05 * float(Y.std())


def test_foreign_state_is_ignored() -> None:
    buffer = io.BytesIO()
    torch.save({"version": -1, "models": {}}, buffer)
    assert load_state(buffer.getvalue()) == {}
