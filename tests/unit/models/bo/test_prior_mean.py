"""The saturating prior mean: the Hill formula, its gradients, and EC50 recovered when it is
learned jointly with the kernel on data from a Hill curve."""

from __future__ import annotations

import math

import pytest
import torch
from torch.quasirandom import SobolEngine

from models.bo.config import GPConfig, HillPriorConfig
from models.bo.data import OutcomeData
from models.bo.encoding import Encoder
from models.bo.gp import fit_outcome_models
from models.bo.prior_mean import HillMean
from models.bo.quality import loo_metrics
from models.space.space import Space


@pytest.mark.parametrize("log_scale", [True, False])
def test_hill_formula(log_scale: bool) -> None:
    lower, upper = (0.1, 100.0) if log_scale else (0.0, 100.0)
    mean = HillMean(column=1, lower=lower, upper=upper, log_scale=log_scale).double()
    mean.initialize(offset=0.5, amplitude=-2.0, log_ec50=math.log(7.0), hill=2.5)
    u = torch.linspace(0.05, 1.0, 11, dtype=torch.float64)
    X = torch.stack([torch.rand(11, dtype=torch.float64), u], dim=-1)
    s = torch.exp(math.log(lower) + u * (math.log(upper) - math.log(lower))) if log_scale \
        else lower + u * (upper - lower)
    expected = 0.5 - 2.0 * s**2.5 / (7.0**2.5 + s**2.5)
    assert torch.allclose(mean(X), expected, rtol=1e-10)
    assert math.isclose(mean.ec50.item(), 7.0, rel_tol=1e-9)


def test_hill_gradients_match_central_differences() -> None:
    mean = HillMean(column=0, lower=0.0, upper=10.0).double()
    mean.initialize(offset=0.1, amplitude=1.3, log_ec50=math.log(3.0), hill=1.7)
    X = torch.rand(6, 2, dtype=torch.float64).clamp_min(0.05).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: mean(x), (X,))
    names = ["raw_offset", "raw_amplitude", "raw_log_ec50", "raw_hill"]

    def of_parameters(*values: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(mean, dict(zip(names, values, strict=True)),
                                          (X.detach(),))

    start = tuple(getattr(mean, n).detach().clone().requires_grad_(True) for n in names)
    assert torch.autograd.gradcheck(of_parameters, start)


@pytest.mark.parametrize(("log_scale", "ec50", "tolerance"),
                         [(True, 5.0, 0.1), (True, 20.0, 0.15), (False, 20.0, 0.15)])
def test_ec50_is_recovered_from_a_hill_curve(log_scale: bool, ec50: float,
                                            tolerance: float) -> None:
    space = Space.from_dict({"parameters": [
        {"type": "continuous", "name": "dose", "lower": 0.1 if log_scale else 0.0,
         "upper": 100.0, "log_scale": log_scale},
        {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0}]})
    encoder = Encoder(space)
    u = SobolEngine(2, scramble=True, seed=0).draw(25, dtype=torch.float64)
    X = encoder.bounds[0] + u * (encoder.bounds[1] - encoder.bounds[0])
    dose = X[:, 0].exp() if log_scale else X[:, 0]
    noise = 0.05 * torch.randn(25, generator=torch.Generator().manual_seed(0),
                               dtype=torch.float64)
    y = 1.0 + 3.0 * dose**1.5 / (ec50**1.5 + dose**1.5) + 0.3 * torch.sin(3 * X[:, 1]) + noise
    data = {"y": OutcomeData("y", X, y.unsqueeze(-1), None, "inferred")}
    models, _ = fit_outcome_models(data, encoder, GPConfig(prior_mean=HillPriorConfig("dose")))
    mean = models["y"].mean_module
    assert isinstance(mean, HillMean)
    assert abs(mean.ec50.item() / ec50 - 1.0) < tolerance
    assert 1.0 < mean.hill.item() < 2.2
    amplitude = mean.amplitude.item() * float(models["y"].outcome_transform.stdvs.squeeze())
    assert abs(amplitude - 3.0) < 0.5
    # The saturating mean predicts held-out points at least as well as a constant mean.
    constant, _ = fit_outcome_models(data, encoder, GPConfig())
    assert loo_metrics(models["y"]).rmse <= loo_metrics(constant["y"]).rmse


def test_hill_mean_needs_non_negative_bounds() -> None:
    with pytest.raises(ValueError):
        HillMean(column=0, lower=-1.0, upper=1.0)
