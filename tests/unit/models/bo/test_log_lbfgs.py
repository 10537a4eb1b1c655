"""L-BFGS-B in log coordinates: the chain rule is right (central differences in the solver's
coordinates), only positive-bounded parameters are in logs, the solution respects the bounds,
and from a warm start far from the optimum it reaches an optimum at least as good as
BoTorch's solver in its raw coordinates, with fewer evaluations of the likelihood."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.exceptions.warnings import OptimizationWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.optim.core import OptimizationStatus
from botorch.optim.utils import get_parameters_and_bounds
from gpytorch.mlls import ExactMarginalLogLikelihood

from models.bo.log_lbfgs import _Coordinates, fit_in_log_coordinates
from models.bo.marginal_likelihood import fit_closure
from models.gradcheck import central_difference_step

F64 = torch.float64
BOUNDS = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 5.0, 3.0]], dtype=F64)


def _model() -> SingleTaskGP:
    g = torch.Generator().manual_seed(0)
    X = BOUNDS[0] + torch.rand(16, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])
    y = (torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] ** 2
         + 0.05 * torch.randn(16, generator=g, dtype=F64))
    return SingleTaskGP(X, y.unsqueeze(-1), input_transform=Normalize(d=3, bounds=BOUNDS),
                        outcome_transform=Standardize(m=1))


def _far_start(model: SingleTaskGP) -> None:
    """A warm start far from the optimum: every lengthscale scaled by 6."""
    with torch.no_grad():
        model.covar_module.raw_lengthscale.mul_(6.0)


def _counting(closure):  # type: ignore[no-untyped-def]
    calls = []

    def counted():  # type: ignore[no-untyped-def]
        value, grads = closure()
        calls.append(float(value))
        return value, grads

    counted.parameters = closure.parameters  # type: ignore[attr-defined]
    return counted, calls


def test_positive_bounded_parameters_only_are_logarithmic() -> None:
    model = _model()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    closure = fit_closure(mll)
    assert closure is not None
    _, bounds = get_parameters_and_bounds(mll)
    coordinates = _Coordinates(dict(closure.parameters), bounds)
    flags = {name.rsplit(".", 1)[-1]: log for name, log in
             zip(closure.parameters, coordinates.logarithmic, strict=True)}
    assert flags == {"raw_noise": True, "raw_constant": False, "raw_lengthscale": True}


def test_gradient_in_solver_coordinates_against_central_differences() -> None:
    model = _model()
    _far_start(model)
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    mll.train()
    closure = fit_closure(mll)
    assert closure is not None
    _, bounds = get_parameters_and_bounds(mll)
    coordinates = _Coordinates(dict(closure.parameters), bounds)
    evaluate = coordinates.wrap(closure)
    x = coordinates.start()
    _, gradient = evaluate(x)
    steps = central_difference_step(torch.from_numpy(x)).numpy()
    numeric = np.empty_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up[i] += steps[i]
        down[i] -= steps[i]
        numeric[i] = (float(evaluate(up)[0]) - float(evaluate(down)[0])) / (up[i] - down[i])
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("maxiter", [30, 60])
def test_warm_fit_at_least_as_good_with_fewer_evaluations(maxiter: int) -> None:
    results = {}
    for solver in ("log", "raw"):
        model = _model()
        _far_start(model)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        closure = fit_closure(mll)
        assert closure is not None
        counted, calls = _counting(closure)
        extra = {"optimizer": fit_in_log_coordinates} if solver == "log" else {}
        fit_gpytorch_mll(mll, closure=counted, optimizer_kwargs={"options": {"maxiter": maxiter}},
                         max_attempts=1, **extra)
        mll.train()
        with torch.no_grad():
            final = float(counted()[0])
        lower = model.covar_module.raw_lengthscale_constraint.lower_bound
        assert bool((model.covar_module.lengthscale >= lower).all())
        results[solver] = (final, len(calls))
    (log_loss, log_calls), (raw_loss, raw_calls) = results["log"], results["raw"]
    assert log_loss <= raw_loss + 1e-9
    assert log_calls < raw_calls


def test_a_failed_solve_warns_so_botorch_retries() -> None:
    """A likelihood that cannot be evaluated (its factorisation fails everywhere) ends the
    solve abnormally; the warning is what BoTorch's retry policy acts on."""
    model = _model()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    mll.train()
    closure = fit_closure(mll)
    assert closure is not None

    def failing():  # type: ignore[no-untyped-def]
        raise torch.linalg.LinAlgError("input is not positive-definite")

    failing.parameters = closure.parameters  # type: ignore[attr-defined]
    with pytest.warns(OptimizationWarning, match="terminated with status"):
        result = fit_in_log_coordinates(mll, failing, options={"maxiter": 5})
    assert result.status is OptimizationStatus.FAILURE
    with pytest.raises(ModelFittingError):
        fit_gpytorch_mll(mll, closure=failing, optimizer=fit_in_log_coordinates,
                         max_attempts=2)
