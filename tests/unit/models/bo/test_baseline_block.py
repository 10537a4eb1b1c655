"""The baseline block gives the joint posterior's samples at [baseline; candidates] to
round-off, for one candidate and for several; the one-candidate gradient in closed form is
autograd's and agrees with central differences; a candidate on a baseline design stays
finite. Each with constant prior means and with a Hill prior mean (its gradient through
the mean's module)."""

from __future__ import annotations

import pytest
import torch
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.transforms import Normalize, Standardize

from models.bo.baseline_block import BaselineBlock
from models.bo.cached_posterior import CachedModelList, cached_model_list
from models.bo.config import GPConfig
from models.bo.gp import fit_gp
from models.bo.prior_mean import HillMean
from models.gradcheck import check_gradient

F64 = torch.float64
BOUNDS = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 5.0, 3.0]], dtype=F64)


def _points(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return BOUNDS[0] + torch.rand(*shape, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])


@pytest.fixture(scope="module", params=["constant", "hill"])
def cached(request: pytest.FixtureRequest) -> CachedModelList:
    """Two outputs; with ``hill`` the first has a saturating prior mean in feature 1."""
    X = _points((14,), seed=0)
    Y = torch.stack([torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] ** 2,
                     torch.cos(X[:, 1]) * X[:, 0]], dim=-1)
    members = []
    for j in range(2):
        kwargs = {}
        if request.param == "hill" and j == 0:
            kwargs["mean_module"] = HillMean(column=1, lower=0.0, upper=5.0).double()
        model = SingleTaskGP(X, Y[:, j:j + 1], input_transform=Normalize(d=3, bounds=BOUNDS),
                             outcome_transform=Standardize(m=1), **kwargs)
        fit_gp(model, GPConfig(max_iterations=50, max_attempts=1))
        members.append(model)
    result = cached_model_list(ModelListGP(*members))
    assert isinstance(result, CachedModelList) and result.stacked is not None
    assert bool(result.stacked.mean_modules) is (request.param == "hill")
    return result


@pytest.fixture(scope="module")
def block(cached: CachedModelList) -> BaselineBlock:
    assert cached.stacked is not None
    return BaselineBlock(cached.stacked, _points((5,), seed=2))


@pytest.mark.parametrize("q", [1, 3])
def test_samples_are_the_joint_posteriors(cached: CachedModelList, block: BaselineBlock,
                                          q: int) -> None:
    X = _points((4, q), seed=3)
    z = torch.randn(32, block.size + q, 2, generator=torch.Generator().manual_seed(4),
                    dtype=F64)
    joint = torch.cat([block.baseline.expand(4, -1, -1), X], dim=-2)
    posterior = cached.posterior(joint)
    expected = posterior.rsample_from_base_samples(torch.Size([32]),
                                                   z.unsqueeze(1).expand(32, 4, -1, -1))
    torch.testing.assert_close(block.candidate_samples(X, z), expected[..., block.size:, :],
                               rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(block.baseline_samples(z[:, :block.size]),
                               expected[:, 0, :block.size, :], rtol=1e-10, atol=1e-10)


def test_one_candidate_gradient_is_autograds(block: BaselineBlock) -> None:
    X = _points((6, 1), seed=5)
    z = torch.randn(16, block.size + 1, 2, generator=torch.Generator().manual_seed(6),
                    dtype=F64)
    weights = torch.randn(16, 6, 1, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    grads = []
    for samples in (block.candidate_samples, block._autograd_samples):
        x = X.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad((samples(x, z) * weights).sum(), x)
        grads.append(grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-9, atol=1e-11)
    check_gradient(lambda x: block.candidate_samples(x, z), X[:2]).raise_if_failed()


def test_candidate_on_a_baseline_design_stays_finite(block: BaselineBlock) -> None:
    X = block.baseline[:2].unsqueeze(-2).clone().requires_grad_(True)
    z = torch.randn(8, block.size + 1, 2, generator=torch.Generator().manual_seed(8),
                    dtype=F64)
    samples = block.candidate_samples(X, z)
    (grad,) = torch.autograd.grad(samples.sum(), X)
    assert bool(torch.isfinite(samples).all()) and bool(torch.isfinite(grad).all())
