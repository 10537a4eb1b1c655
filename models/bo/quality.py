r"""Model quality: leave-one-out predictive error and the calibration of the predicted sd.

For an exact GP with fixed hyperparameters the leave-one-out (LOO) predictions have a closed
form (Rasmussen & Williams 2006, section 5.4.2): with ``K`` the training covariance including
the noise, ``r = y - m`` the residuals from the prior mean,

    mu_{-i} = y_i - [K^{-1} r]_i / [K^{-1}]_{ii},      sigma^2_{-i} = 1 / [K^{-1}]_{ii},

the mean and variance of ``y_i`` predicted from the other ``n - 1`` observations. One Cholesky
factorisation gives all ``n`` of them. (The hyperparameters are those fitted on all the data,
which makes LOO slightly optimistic; refitting per fold would cost ``n`` fits.)

From these, :func:`calibration_metrics` reports the error (RMSE, MAE, R^2 against the mean),
the standardised errors ``z_i = (y_i - mu_{-i}) / sigma_{-i}`` (for a calibrated model their
mean is ~0 and sd ~1), and the coverage of central predictive intervals (for a calibrated
model ~50% of observations fall within the central 50% interval, ~68% within +-1 sd, ~95%
within +-1.96 sd).

The metrics are stored as JSON with the model version (PostgreSQL's JSONB has no NaN or
infinity), so a number that is undefined for the data is ``None``, never NaN, and
``undefined`` says why: R^2 of observations without spread (all equal: ``SST = 0``), the sd of
a single standardised error, or any value that came out non-finite.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from botorch.models import SingleTaskGP
from torch import Tensor

_Z50 = 0.6744897501960817
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class LOOPredictions:
    """Leave-one-out predictions of the training outcomes, in the outcome's units.

    Attributes:
        y: `n` observed values.
        mean: `n` predicted means, each from the other ``n - 1`` observations.
        sd: `n` predicted standard deviations of the observation (noise included).
    """

    y: Tensor
    mean: Tensor
    sd: Tensor


@dataclass(frozen=True)
class QualityMetrics:
    """Error and calibration of one model's predictions.

    Attributes:
        n: Number of predictions.
        rmse: Root mean squared error.
        mae: Mean absolute error.
        r2: ``1 - SSE / SST``: 1 is perfect, 0 no better than the mean of the data.
        z_mean: Mean standardised error (~0 when unbiased).
        z_sd: Standard deviation of the standardised errors (~1 when calibrated; above 1:
            overconfident, below: underconfident).
        coverage_50: Share within the central 50% interval.
        coverage_68: Share within +-1 predicted sd.
        coverage_95: Share within the central 95% interval.
        log_predictive_density: Mean Gaussian log density of the observations.
        undefined: Metric name -> why it is ``None`` (empty when every metric is defined).

    Every metric is a finite float or ``None`` (JSON-safe: see the module's notes).
    """

    n: int
    rmse: float | None
    mae: float | None
    r2: float | None
    z_mean: float | None
    z_sd: float | None
    coverage_50: float | None
    coverage_68: float | None
    coverage_95: float | None
    log_predictive_density: float | None
    undefined: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def loo_predictions(model: SingleTaskGP) -> LOOPredictions:
    r"""Closed-form leave-one-out predictions of an exact single-output GP.

    Args:
        model: A fitted ``SingleTaskGP`` (or subclass) with one output; put in eval mode.

    Returns:
        The predictions, in the outcome's units (the outcome transform undone).
    """
    model.eval()
    X = model.train_inputs[0]  # transformed inputs in eval mode
    y = model.train_targets
    if y.dim() != 1:
        raise ValueError("loo_predictions needs a single-output model without batch shape")
    with torch.no_grad():
        prior = model.forward(X)
        noise = model.likelihood.noise.reshape(-1).expand(y.shape[0])
        K = prior.covariance_matrix + torch.diag_embed(noise)
        L = _cholesky(K)
        K_inv = torch.cholesky_inverse(L)
        alpha = K_inv @ (y - prior.mean)
        diag = torch.diagonal(K_inv)
        mean = y - alpha / diag
        sd = diag.rsqrt()
        transform = getattr(model, "outcome_transform", None)
        if transform is not None and hasattr(transform, "stdvs"):
            scale = transform.stdvs.reshape(-1)[0]
            shift = transform.means.reshape(-1)[0]
            y, mean, sd = y * scale + shift, mean * scale + shift, sd * scale
    return LOOPredictions(y=y, mean=mean, sd=sd)


def calibration_metrics(y: Tensor, mean: Tensor, sd: Tensor) -> QualityMetrics:
    r"""Error and calibration of Gaussian predictions.

    Args:
        y: `n` observed values.
        mean: `n` predicted means.
        sd: `n` predicted standard deviations (> 0).

    Returns:
        The metrics: finite floats, or ``None`` with the reason in ``undefined``.
    """
    y, mean, sd = (t.detach().to(torch.float64).reshape(-1) for t in (y, mean, sd))
    n = y.numel()
    error = y - mean
    z = error / sd.clamp_min(1e-300)
    sst = float(((y - y.mean()) ** 2).sum())
    sse = float((error**2).sum())
    log_density = -0.5 * (z**2) - torch.log(sd.clamp_min(1e-300)) - 0.5 * math.log(2 * math.pi)
    undefined: dict[str, str] = {}
    if n == 0:
        raise ValueError("calibration_metrics needs at least one prediction")
    values: dict[str, float | None] = {
        "rmse": math.sqrt(sse / n),
        "mae": float(error.abs().mean()),
        "r2": 1.0 - sse / sst if sst > 0 else None,
        "z_mean": float(z.mean()),
        "z_sd": float(z.std()) if n > 1 else None,
        "coverage_50": float((z.abs() <= _Z50).double().mean()),
        "coverage_68": float((z.abs() <= 1.0).double().mean()),
        "coverage_95": float((z.abs() <= _Z95).double().mean()),
        "log_predictive_density": float(log_density.mean()),
    }
    if sst <= 0:
        undefined["r2"] = "the observations have no spread (all equal: SST = 0)"
    if n < 2:
        undefined["z_sd"] = "one prediction has no spread of standardised errors"
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            values[name] = None
            undefined[name] = f"non-finite ({value!r})"
    return QualityMetrics(n=n, undefined=undefined, **values)  # type: ignore[arg-type]


def loo_metrics(model: SingleTaskGP) -> QualityMetrics:
    """Leave-one-out error and calibration of one fitted GP (see the module's notes)."""
    loo = loo_predictions(model)
    return calibration_metrics(loo.y, loo.mean, loo.sd)


def _cholesky(K: Tensor) -> Tensor:
    jitter = 0.0
    eye = torch.eye(K.shape[-1], dtype=K.dtype, device=K.device)
    for _ in range(6):
        L, info = torch.linalg.cholesky_ex(K + jitter * eye)
        if int(info) == 0:
            return L
        jitter = 1e-8 * float(K.diagonal().mean()) if jitter == 0.0 else jitter * 10
    raise torch.linalg.LinAlgError("covariance matrix is not positive definite")
