"""The fused qLogNEI is BoTorch's qLogNEI: values and gradients agree to round-off (pending
designs, two constraints of both senses, minimised and maximised objectives, batches of one
and of several candidates, a baseline with no feasible sample); its gradient agrees with
central differences; acquisitions it does not reproduce keep BoTorch's class."""

from __future__ import annotations

import pytest
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.transforms import Normalize, Standardize

from models.bo.acquisition import build_acquisition, constraint_callables
from models.bo.cached_posterior import cached_model_list
from models.bo.config import AcquisitionConfig, GPConfig
from models.bo.fused_log_nei import FusedLogNEI
from models.bo.gp import fit_gp
from models.bo.problem import Objective, OutcomeConstraint
from models.bo.sample_terms import SignedOutcome
from models.gradcheck import check_gradient

F64 = torch.float64
BOUNDS = torch.tensor([[-1.0, 0.0, 2.0], [1.0, 5.0, 3.0]], dtype=F64)
OUTPUTS = ["y", "c1", "c2"]


def _data(n: int = 14, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = BOUNDS[0] + torch.rand(n, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])
    y = torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] ** 2
    c1 = torch.cos(X[:, 1]) * X[:, 0] + 0.05 * torch.randn(n, generator=g, dtype=F64)
    c2 = X[:, 0] + 0.2 * X[:, 1]
    return X, torch.stack([y, c1, c2], dim=-1)


@pytest.fixture(scope="module")
def models() -> ModelListGP:
    X, Y = _data()
    members = []
    for j in range(Y.shape[-1]):
        model = SingleTaskGP(X, Y[:, j:j + 1], input_transform=Normalize(d=3, bounds=BOUNDS),
                             outcome_transform=Standardize(m=1))
        fit_gp(model, GPConfig(max_iterations=50, max_attempts=1))
        members.append(model)
    return ModelListGP(*members)


def _pair(models: ModelListGP, goal: str, limits: list[OutcomeConstraint],
          pending: torch.Tensor | None = None
          ) -> tuple[FusedLogNEI, qLogNoisyExpectedImprovement]:
    """The fused acquisition and BoTorch's, built alike (same seed, same pruned baseline)."""
    cached = cached_model_list(models)
    X_baseline, Y = _data()
    scales = {n: float(Y[:, j].std()) for j, n in enumerate(OUTPUTS)}
    built = []
    for fused in (True, False):
        torch.manual_seed(7)  # baseline pruning samples
        built.append(build_acquisition(
            cached, [Objective("y", goal)], constraint_callables(limits, OUTPUTS, scales),
            OUTPUTS, X_baseline=X_baseline, X_pending=pending,
            config=AcquisitionConfig(mc_samples=64, fused_evaluation=fused), seed=3))
    fused_acqf, reference = built
    assert isinstance(fused_acqf, FusedLogNEI)
    assert type(reference) is qLogNoisyExpectedImprovement
    return fused_acqf, reference


def _points(shape: tuple[int, ...], seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return BOUNDS[0] + torch.rand(*shape, 3, generator=g, dtype=F64) * (BOUNDS[1] - BOUNDS[0])


def _assert_same(fused: FusedLogNEI, reference: qLogNoisyExpectedImprovement,
                 X: torch.Tensor) -> None:
    mine = X.clone().requires_grad_(True)
    theirs = X.clone().requires_grad_(True)
    value, expected = fused(mine), reference(theirs)
    (grad,) = torch.autograd.grad(value.sum(), mine)
    (expected_grad,) = torch.autograd.grad(expected.sum(), theirs)
    assert value.shape == expected.shape
    torch.testing.assert_close(value, expected.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-8, atol=1e-10)


LIMITS = [OutcomeConstraint("c1", "<=", 0.3), OutcomeConstraint("c2", ">=", -0.2)]


@pytest.mark.parametrize("goal", ["maximize", "minimize"])
@pytest.mark.parametrize("q", [1, 3])
def test_matches_botorch_with_constraints(models: ModelListGP, goal: str, q: int) -> None:
    fused, reference = _pair(models, goal, LIMITS)
    _assert_same(fused, reference, _points((5, q)))


@pytest.mark.parametrize("q", [1, 2])
def test_matches_botorch_without_constraints(models: ModelListGP, q: int) -> None:
    fused, reference = _pair(models, "maximize", [])
    _assert_same(fused, reference, _points((4, q)))


def test_matches_botorch_with_one_output(models: ModelListGP) -> None:
    """One outcome, no constraint: a stack of one model, still the baseline block's path."""
    single = ModelListGP(models.models[0])
    X_baseline, _ = _data()
    built = []
    for fused in (True, False):
        torch.manual_seed(7)
        built.append(build_acquisition(
            cached_model_list(single), [Objective("y", "minimize")], [], ["y"],
            X_baseline=X_baseline, X_pending=None,
            config=AcquisitionConfig(mc_samples=64, fused_evaluation=fused), seed=3))
    assert isinstance(built[0], FusedLogNEI) and built[0].stacked is not None
    _assert_same(built[0], built[1], _points((4, 1)))


def test_matches_botorch_with_pending_designs(models: ModelListGP) -> None:
    fused, reference = _pair(models, "maximize", LIMITS, pending=_points((2,), seed=5))
    _assert_same(fused, reference, _points((4, 1)))
    # Pending designs set later (as the sequential-greedy optimiser does) reach the baseline.
    more = _points((3,), seed=6)
    torch.manual_seed(8)
    fused.set_X_pending(more)
    torch.manual_seed(8)
    reference.set_X_pending(more)
    assert fused.acquisition.X_baseline.shape == reference.X_baseline.shape
    _assert_same(fused, reference, _points((4, 1), seed=2))


def test_matches_botorch_when_no_baseline_design_is_feasible(models: ModelListGP) -> None:
    """A constraint nobody meets: BoTorch's fallback incumbent (a lower bound from random
    designs) is called, with the same random numbers."""
    fused, reference = _pair(models, "maximize", [OutcomeConstraint("c2", ">=", 50.0)])
    X = _points((3, 1))
    torch.manual_seed(11)
    value = fused(X)
    torch.manual_seed(11)
    torch.testing.assert_close(value, reference(X), rtol=1e-10, atol=1e-12)


def test_gradient_against_central_differences(models: ModelListGP) -> None:
    fused, _ = _pair(models, "minimize", LIMITS)
    x = _points((2, 1), seed=4)
    check_gradient(lambda v: fused(v).sum(), x, rtol=1e-5, atol=1e-7).raise_if_failed()


def test_other_acquisitions_keep_botorch(models: ModelListGP) -> None:
    X_baseline, _ = _data()
    # GPyTorch's posterior, not the cached one.
    acqf = build_acquisition(models, [Objective("y", "maximize")], [], OUTPUTS,
                             X_baseline=X_baseline, X_pending=None,
                             config=AcquisitionConfig(mc_samples=16), seed=0)
    assert type(acqf) is qLogNoisyExpectedImprovement
    # A constraint callable of another kind.
    acqf = qLogNoisyExpectedImprovement(cached_model_list(models), X_baseline,
                                        objective=GenericMCObjective(SignedOutcome(0, 1.0)),
                                        constraints=[lambda Y: Y[..., 1]])
    assert FusedLogNEI.wrap(acqf) is None
