"""The plain-torch marginal likelihood is GPyTorch's: value and gradient agree to round-off
(kernels, fixed noise, a Hill prior mean and its priors), the gradient agrees with central
differences, a fit through it reaches GPyTorch's optimum, and models it does not know get
GPyTorch's closure."""

from __future__ import annotations

import pytest
import torch
from botorch.models import SingleTaskGP
from botorch.models.gp_regression_mixed import MixedSingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.optim.closures import get_loss_closure_with_grads
from botorch.optim.utils import get_parameters
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.means import LinearMean, ZeroMean
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import NormalPrior
from torch.func import functional_call

from models.bo.config import GPConfig
from models.bo.gp import fit_gp
from models.bo.marginal_likelihood import (
    RBFLikelihoodClosure,
    fit_closure,
    negative_log_likelihood,
)
from models.bo.prior_mean import HillMean
from models.gradcheck import check_gradient

F64 = torch.float64
BOUNDS = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 5.0, 3.0]], dtype=F64)


def _data(n: int = 18, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = BOUNDS[0] + torch.rand(n, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])
    y = (torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] ** 2
         + 0.05 * torch.randn(n, generator=g, dtype=F64))
    return X, y.unsqueeze(-1)


def _model(kind: str) -> SingleTaskGP:
    X, Y = _data()
    kwargs = {}
    if kind == "matern":
        kwargs["covar_module"] = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=3))
    if kind == "fixed_noise":
        kwargs["train_Yvar"] = torch.linspace(1e-3, 1e-2, X.shape[0], dtype=F64).unsqueeze(-1)
    if kind.startswith("hill"):
        kwargs["mean_module"] = HillMean(column=1, lower=0.0, upper=5.0)
    if kind == "zero_mean":  # a mean with no parameter at all
        kwargs["mean_module"] = ZeroMean()
    if kind == "linear_mean":
        kwargs["mean_module"] = LinearMean(3).double()
    if kind == "hill_prior":  # a prior on the mean's own parameter, through its closure
        kwargs["mean_module"].register_prior("offset_prior", NormalPrior(0.5, 2.0),
                                             "raw_offset")
    return SingleTaskGP(X, Y, input_transform=Normalize(d=3, bounds=BOUNDS),
                        outcome_transform=Standardize(m=1), **kwargs)


def _perturb(model: SingleTaskGP, seed: int = 3) -> None:
    """Move every hyperparameter off its starting value, upwards: BoTorch's noise and
    lengthscales are their raw values (lower bounds, no transform), so they stay valid."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.rand(parameter.shape, generator=g, dtype=F64))


KINDS = ["default", "matern", "fixed_noise", "hill", "hill_prior", "zero_mean", "linear_mean"]


@pytest.mark.parametrize("kind", KINDS)
def test_value_and_gradient_match_gpytorch(kind: str) -> None:
    model = _model(kind)
    _perturb(model)
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    mll.train()
    reference = get_loss_closure_with_grads(mll, get_parameters(mll, requires_grad=True))
    expected_value, grads = reference()
    expected_grads = [g.clone() for g in grads]
    closure = fit_closure(mll)
    assert closure is not None
    value, ours = closure()
    torch.testing.assert_close(value.detach(), expected_value.detach(), rtol=1e-11, atol=1e-12)
    assert len(ours) == len(expected_grads)
    for got, want in zip(ours, expected_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["default", "fixed_noise"])
def test_gradient_against_central_differences(kind: str) -> None:
    model = _model(kind)
    _perturb(model)
    model.train()
    X = model.transform_inputs(model.train_inputs[0]).detach()
    y = model.train_targets
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    shapes = [p.shape for _, p in model.named_parameters() if p.requires_grad]
    sizes = [s.numel() for s in shapes]

    class Loss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self) -> torch.Tensor:
            return negative_log_likelihood(self.model, X, y)

    loss = Loss()

    def as_function_of(theta: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(theta, sizes)
        values = {f"model.{n}": p.reshape(s) for n, p, s in zip(names, pieces, shapes,
                                                                   strict=True)}
        return functional_call(loss, values, ())

    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad])
    check_gradient(as_function_of, theta, rtol=1e-5, atol=1e-7).raise_if_failed()


def test_fit_reaches_gpytorch_optimum() -> None:
    fitted = {}
    for torch_likelihood in (True, False):
        model = _model("default")
        fit_gp(model, GPConfig(max_attempts=1, torch_likelihood=torch_likelihood))
        model.train()
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with torch.no_grad():
            fitted[torch_likelihood] = (
                float(mll(model(*model.train_inputs), model.train_targets)),
                model.covar_module.lengthscale.clone())
    # Same objective, same start, same optimiser: the same optimum to the solver's tolerance.
    assert fitted[True][0] == pytest.approx(fitted[False][0], abs=1e-6)
    torch.testing.assert_close(fitted[True][1], fitted[False][1], rtol=1e-3, atol=1e-4)


def test_unknown_models_keep_gpytorch_closure() -> None:
    X, Y = _data()
    X = torch.cat([X, torch.randint(0, 3, (X.shape[0], 1)).to(F64)], dim=-1)
    model = MixedSingleTaskGP(X, Y, cat_dims=[3], outcome_transform=Standardize(m=1))
    assert fit_closure(ExactMarginalLogLikelihood(model.likelihood, model)) is None


@pytest.mark.parametrize(("kind", "closed_form"), [
    ("default", True), ("fixed_noise", True), ("matern", False), ("hill", True),
    ("hill_prior", True)])
def test_closed_form_for_the_default_model_only(kind: str, closed_form: bool) -> None:
    """BoTorch's default GP (inferred or fixed noise) gets the closed-form closure, which the
    GPyTorch comparison above then covers; other kernels and means keep the autograd one."""
    model = _model(kind)
    closure = fit_closure(ExactMarginalLogLikelihood(model.likelihood, model))
    assert isinstance(closure, RBFLikelihoodClosure) is closed_form


class _ClosureAsFunction(torch.autograd.Function):
    """A closure's value as a function of its parameters, with the closure's own gradient as
    the backward pass: ``check_gradient`` then compares that gradient with differences of
    the closure's value."""

    @staticmethod
    def forward(ctx: object, theta: torch.Tensor, closure: RBFLikelihoodClosure
                ) -> torch.Tensor:
        with torch.no_grad():
            start = 0
            for parameter in closure.parameters.values():
                parameter.copy_(theta[start:start + parameter.numel()].view_as(parameter))
                start += parameter.numel()
        value, grads = closure()
        ctx.save_for_backward(torch.cat([g.reshape(-1) for g in grads]))  # type: ignore[attr-defined]
        return value

    @staticmethod
    def backward(ctx: object, upstream: torch.Tensor) -> tuple[torch.Tensor, None]:
        (gradient,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return upstream * gradient, None


@pytest.mark.parametrize("kind", ["default", "fixed_noise"])
def test_closed_form_gradient_against_central_differences(kind: str) -> None:
    model = _model(kind)
    _perturb(model)
    closure = fit_closure(ExactMarginalLogLikelihood(model.likelihood, model))
    assert isinstance(closure, RBFLikelihoodClosure)
    theta = torch.cat([p.detach().reshape(-1) for p in closure.parameters.values()])
    check_gradient(lambda t: _ClosureAsFunction.apply(t, closure), theta,
                   rtol=1e-6, atol=1e-8).raise_if_failed()
