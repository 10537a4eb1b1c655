"""The cached-factor posterior is GPyTorch's posterior: means, covariances, samples from the
same base samples and qLogNEI values agree to round-off, with gradients; models it does not
know keep GPyTorch's path."""

from __future__ import annotations

import pytest
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.gp_regression_mixed import MixedSingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.sampling import SobolQMCNormalSampler
from gpytorch.kernels import MaternKernel, ScaleKernel

from models.bo.cached_posterior import (
    CachedModelList,
    IndependentNormalPosterior,
    cached_model_list,
    supports,
)
from models.bo.config import GPConfig
from models.bo.gp import fit_gp
from models.bo.prior_mean import HillMean

F64 = torch.float64
BOUNDS = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 5.0, 3.0]], dtype=F64)


def _data(n: int = 15, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = BOUNDS[0] + torch.rand(n, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])
    y1 = torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] ** 2
    y2 = torch.cos(X[:, 1]) * X[:, 0] + 0.05 * torch.randn(n, generator=g, dtype=F64)
    return X, torch.stack([y1, y2], dim=-1)


def _models(kind: str = "default") -> ModelListGP:
    X, Y = _data()
    members = []
    for j in range(2):
        kwargs = {}
        if kind == "matern":
            kwargs["covar_module"] = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=3))
        if kind == "fixed_noise":
            kwargs["train_Yvar"] = torch.full((X.shape[0], 1), 1e-3 * (j + 1), dtype=F64)
        if kind == "hill" and j == 0:
            kwargs["mean_module"] = HillMean(column=1, lower=0.0, upper=5.0).double()
        model = SingleTaskGP(X, Y[:, j:j + 1], input_transform=Normalize(d=3, bounds=BOUNDS),
                             outcome_transform=Standardize(m=1), **kwargs)
        fit_gp(model, GPConfig(max_iterations=50, max_attempts=1))
        members.append(model)
    return ModelListGP(*members)


def _test_points(shape: tuple[int, ...], seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(*shape, 3, generator=g, dtype=F64)
    return BOUNDS[0] + u * (BOUNDS[1] - BOUNDS[0])


@pytest.mark.parametrize("kind", ["default", "matern", "fixed_noise", "hill"])
def test_mean_and_covariance_match_gpytorch(kind: str) -> None:
    models = _models(kind)
    cached = cached_model_list(models)
    assert isinstance(cached, CachedModelList)
    # RBF GPs on the same designs are evaluated stacked (a Hill prior mean through its
    # module); a Matern kernel member by member.
    assert (cached.stacked is not None) is (kind != "matern")
    X = _test_points((4, 5))
    with torch.no_grad():
        reference = models.posterior(X)
        ours = cached.posterior(X)
    torch.testing.assert_close(ours.mean, reference.mean, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(ours.variance, reference.variance, rtol=1e-8, atol=1e-10)
    # The joint covariance of each output over the 5 points, not only the marginals.
    covariance = ours.scale_tril @ ours.scale_tril.transpose(-1, -2)
    for j, member in enumerate(models.models):
        with torch.no_grad():
            expected = member.posterior(X).distribution.covariance_matrix
        torch.testing.assert_close(covariance[:, j], expected, rtol=1e-7, atol=1e-9)


def test_samples_from_the_same_base_samples_match() -> None:
    models = _models()
    cached = cached_model_list(models)
    X = _test_points((3, 4))
    base = torch.randn(16, 3, 4, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = cached.posterior(X).rsample_from_base_samples(torch.Size([16]), base)
        # GPyTorch's multi-output samples: the same normals, output by output.
        expected = torch.stack([
            m.posterior(X).rsample_from_base_samples(torch.Size([16]), base[..., j])[..., 0]
            for j, m in enumerate(models.models)], dim=-1)
    torch.testing.assert_close(ours, expected, rtol=1e-6, atol=1e-7)


def test_shared_base_samples_take_one_product_per_output() -> None:
    """Base samples expanded over the batch (as BoTorch's samplers give them) go through the
    per-output product; the same numbers as the per-sample product of a materialised copy."""
    posterior = cached_model_list(_models()).posterior(_test_points((3, 4)))
    shared = torch.randn(16, 1, 4, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    expanded = shared.expand(16, 3, 4, 2)
    with torch.no_grad():
        fast = posterior.rsample_from_base_samples(torch.Size([16]), expanded)
        reference = posterior.rsample_from_base_samples(torch.Size([16]),
                                                        expanded.contiguous())
    assert fast.shape == (16, 3, 4, 2)
    torch.testing.assert_close(fast, reference, rtol=1e-12, atol=1e-12)


def test_stacked_posterior_matches_member_by_member() -> None:
    cached = cached_model_list(_models("fixed_noise"))
    assert isinstance(cached, CachedModelList) and cached.stacked is not None
    X = _test_points((2, 3))
    stacked = cached.posterior(X)
    single = cached.posterior(X, output_indices=[0, 1])  # the per-member path
    torch.testing.assert_close(stacked.mean, single.mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(stacked.scale_tril, single.scale_tril, rtol=1e-10, atol=1e-12)


def _qlognei(model: object, X_baseline: torch.Tensor) -> qLogNoisyExpectedImprovement:
    return qLogNoisyExpectedImprovement(
        model=model, X_baseline=X_baseline,
        sampler=SobolQMCNormalSampler(sample_shape=torch.Size([64]), seed=3),
        objective=GenericMCObjective(lambda Y, X=None: Y[..., 0]),
        constraints=[lambda Y: Y[..., 1] - 0.2], prune_baseline=False, cache_root=False)


def test_qlognei_values_and_gradients_match_gpytorch() -> None:
    models = _models()
    X_baseline, _ = _data()
    X = _test_points((6, 2)).requires_grad_(True)
    reference = _qlognei(models, X_baseline)(X)
    (reference_grad,) = torch.autograd.grad(reference.sum(), X)
    X2 = X.detach().clone().requires_grad_(True)
    ours = _qlognei(cached_model_list(models), X_baseline)(X2)
    (grad,) = torch.autograd.grad(ours.sum(), X2)
    torch.testing.assert_close(ours, reference.detach(), rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(grad, reference_grad, rtol=1e-5, atol=1e-7)


def test_gradient_of_the_posterior_mean_by_central_differences() -> None:
    cached = cached_model_list(_models())
    x = _test_points((1, 1))[0].requires_grad_(True)

    def f(z: torch.Tensor) -> torch.Tensor:
        posterior = cached.posterior(z)
        return posterior.mean.sum() + posterior.variance.sum()

    (grad,) = torch.autograd.grad(f(x), x)
    eps = torch.finfo(F64).eps ** (1 / 3)
    for k in range(3):
        h = eps * max(1.0, abs(float(x.detach()[0, k])))
        up, down = x.detach().clone(), x.detach().clone()
        up[0, k] += h
        down[0, k] -= h
        numeric = (f(up) - f(down)) / (2 * h)
        assert abs(float(grad[0, k]) - float(numeric)) < 1e-6 * max(1.0, abs(float(numeric)))


def test_points_on_top_of_each_other_still_factorise() -> None:
    """Candidates equal to a training point and to each other: a singular covariance, which
    gets jitter instead of failing."""
    models = _models()
    X_train, _ = _data()
    X = torch.stack([X_train[:3], X_train[:3]], dim=0).reshape(1, 6, 3)
    with torch.no_grad():
        posterior = cached_model_list(models).posterior(X)
    assert torch.isfinite(posterior.scale_tril).all()


def test_observation_noise_goes_to_gpytorch() -> None:
    models = _models()
    X = _test_points((2, 3))
    with torch.no_grad():
        posterior = cached_model_list(models).posterior(X, observation_noise=True)
        expected = models.posterior(X, observation_noise=True)
    assert not isinstance(posterior, IndependentNormalPosterior)
    torch.testing.assert_close(posterior.variance, expected.variance)


def test_mixed_models_keep_gpytorch() -> None:
    X, Y = _data()
    X[:, 2] = (X[:, 2] > 2.5).to(F64)
    mixed = MixedSingleTaskGP(X, Y[:, :1], cat_dims=[2])
    assert not supports(mixed)
    models = ModelListGP(mixed, SingleTaskGP(X, Y[:, 1:]))
    assert cached_model_list(models) is models
