"""Model quality: the closed-form leave-one-out equals conditioning on the other points, the
calibration statistics are right on exact Gaussians, and a GP fitted to a sample of a GP is
calibrated (about 68% of standardised LOO residuals within 1 sd)."""

from __future__ import annotations

import json
import math

import torch
from gpytorch.kernels import RBFKernel

from models.bo.config import GPConfig
from models.bo.encoding import Encoder
from models.bo.gp import build_gp, fit_gp
from models.bo.quality import calibration_metrics, loo_metrics, loo_predictions
from models.space.space import Space

UNIT_SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "a", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "b", "lower": 0.0, "upper": 1.0}]})


def _gp_sample(n: int, seed: int, noise_sd: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy observations of one draw of a GP with an RBF kernel (lengthscale 0.3)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    kernel = RBFKernel().to(torch.float64)
    kernel.lengthscale = 0.3
    with torch.no_grad():
        K = kernel(X).to_dense() + 1e-8 * torch.eye(n, dtype=torch.float64)
    f = torch.linalg.cholesky(K) @ torch.randn(n, generator=g, dtype=torch.float64)
    return X, (f + noise_sd * torch.randn(n, generator=g, dtype=torch.float64)).unsqueeze(-1)


def test_closed_form_loo_equals_conditioning_on_the_rest() -> None:
    X, Y = _gp_sample(15, seed=0)
    Y = 3.0 * Y + 10.0  # exercise the outcome transform
    model = build_gp(X, Y, None, Encoder(UNIT_SQUARE))
    fit_gp(model, GPConfig())
    loo = loo_predictions(model)
    # Direct: predict y_i from the other points with the same hyperparameters.
    model.eval()
    Xt, yt = model.train_inputs[0], model.train_targets
    with torch.no_grad():
        prior = model.forward(Xt)
        K = prior.covariance_matrix + model.likelihood.noise * torch.eye(15, dtype=torch.float64)
        m = prior.mean.detach()
    stdv = model.outcome_transform.stdvs.squeeze().detach()
    mean = model.outcome_transform.means.squeeze().detach()
    for i in range(15):
        rest = [j for j in range(15) if j != i]
        k = K[i, rest]
        solve = torch.linalg.solve(K[rest][:, rest], torch.stack([yt[rest] - m[rest], k], -1))
        mu = m[i] + k @ solve[:, 0]
        var = K[i, i] - k @ solve[:, 1]
        assert math.isclose(float(mu * stdv + mean), float(loo.mean[i]), rel_tol=1e-7)
        assert math.isclose(float(var.sqrt() * stdv), float(loo.sd[i]), rel_tol=1e-7)
    assert torch.allclose(loo.y, Y.squeeze(-1))


def test_calibration_metrics_on_exact_gaussians() -> None:
    g = torch.Generator().manual_seed(1)
    mean = torch.randn(20000, generator=g, dtype=torch.float64)
    sd = 0.5 + torch.rand(20000, generator=g, dtype=torch.float64)
    y = mean + sd * torch.randn(20000, generator=g, dtype=torch.float64)
    q = calibration_metrics(y, mean, sd)
    assert abs(q.coverage_50 - 0.5) < 0.015
    assert abs(q.coverage_68 - 0.6827) < 0.015
    assert abs(q.coverage_95 - 0.95) < 0.01
    assert abs(q.z_mean) < 0.03 and abs(q.z_sd - 1.0) < 0.02
    # Overconfident predictions (sd halved) are seen as such.
    assert calibration_metrics(y, mean, sd / 2).z_sd > 1.9


def test_loo_calibration_on_a_well_specified_gp_sample() -> None:
    z: list[torch.Tensor] = []
    for seed in range(3):
        X, Y = _gp_sample(60, seed=seed)
        model = build_gp(X, Y, None, Encoder(UNIT_SQUARE))
        fit_gp(model, GPConfig())
        loo = loo_predictions(model)
        z.append((loo.y - loo.mean) / loo.sd)
        assert loo_metrics(model).r2 > 0.85
    pooled = torch.cat(z)
    q = calibration_metrics(pooled, torch.zeros_like(pooled), torch.ones_like(pooled))
    assert abs(q.coverage_68 - 0.68) < 0.08, q
    assert q.coverage_95 > 0.88, q
    assert 0.8 < q.z_sd < 1.25, q


def test_undefined_metrics_are_none_with_a_reason_never_nan() -> None:
    """The metrics are stored as JSON (PostgreSQL's JSONB has no NaN): R^2 of data without
    spread, the sd of one error, and anything non-finite are None, and say why."""
    flat = torch.full((5,), 2.0, dtype=torch.float64)
    q = calibration_metrics(flat, flat, torch.full((5,), 0.1, dtype=torch.float64))
    assert q.r2 is None and q.undefined == {
        "r2": "the observations have no spread (all equal: SST = 0)"}
    assert q.rmse == 0.0 and q.z_sd == 0.0
    one = calibration_metrics(torch.tensor([1.0]), torch.tensor([0.5]), torch.tensor([1.0]))
    assert one.z_sd is None and one.r2 is None and set(one.undefined) == {"r2", "z_sd"}
    huge = calibration_metrics(torch.tensor([0.0, 1e300]), torch.tensor([1e300, 0.0]),
                               torch.tensor([1.0, 1.0]))
    assert huge.rmse is None and huge.undefined["rmse"] == "non-finite (inf)"
    for metrics in (q, one, huge):
        json.dumps(metrics.to_dict(), allow_nan=False)
