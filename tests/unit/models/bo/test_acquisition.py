"""The acquisition functions: pending designs are respected (two concurrent clients get
disjoint batches), constraints are passed to BoTorch as slacks in sd units, and several
objectives get qLogNEHVI with a sensible reference point."""

from __future__ import annotations

import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement

from models.bo.acquisition import build_acquisition, constraint_callables, reference_point
from models.bo.config import AcquisitionConfig, BOConfig
from models.bo.data import assemble
from models.bo.encoding import Encoder
from models.bo.gp import fit_outcome_models, model_list
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})


def _bowl(d: dict) -> dict[str, float]:
    return {"f": -((d["x"] - 0.3) ** 2) - (d["y"] - 0.6) ** 2, "g": d["x"] + d["y"]}


def _observations(n: int = 8) -> list[Observation]:
    designs = space_filling_designs(SQUARE, n, seed=3).designs
    return [Observation(d, _bowl(d), noise_sd={"f": 0.0, "g": 0.0}) for d in designs]


def _features(designs: list[dict]) -> torch.Tensor:
    return torch.tensor([[d["x"], d["y"]] for d in designs], dtype=torch.float64)


def test_pending_designs_are_avoided_and_change_the_batch(fast_config: BOConfig) -> None:
    observations = _observations()
    objectives = [Objective("f", "maximize")]
    first = suggest(SQUARE, observations, [], objectives, q=2, config=fast_config, seed=0)
    batch = [s.parameters for s in first.suggestions]
    # A second client asks while the first batch is in flight.
    second = suggest(SQUARE, observations, batch, objectives, q=2, config=fast_config, seed=0)
    other = [s.parameters for s in second.suggestions]
    gaps = torch.cdist(_features(other), _features(batch))
    assert float(gaps.min()) > 1e-3, gaps
    assert not torch.allclose(_features(other), _features(batch))
    # Without the pending designs, the same seed gives the same batch again.
    again = suggest(SQUARE, observations, [], objectives, q=2, config=fast_config, seed=0)
    assert [s.parameters for s in again.suggestions] == batch
    assert second.metrics["pending"] == 2


def test_pending_designs_lower_their_own_value() -> None:
    observations = _observations()
    encoder = Encoder(SQUARE)
    data = assemble(encoder, observations, ["f"])
    models, _ = fit_outcome_models(data.outcomes, encoder, BOConfig().gp)
    model = model_list(models)
    X = torch.tensor([[0.3, 0.6]], dtype=torch.float64)
    free = build_acquisition(model, [Objective("f")], [], ["f"], X_baseline=data.X_observed,
                             X_pending=None, config=AcquisitionConfig(), seed=0)
    busy = build_acquisition(model, [Objective("f")], [], ["f"], X_baseline=data.X_observed,
                             X_pending=X, config=AcquisitionConfig(), seed=0)
    assert isinstance(free, qLogNoisyExpectedImprovement)
    with torch.no_grad():
        assert float(busy(X.unsqueeze(0))) < float(free(X.unsqueeze(0))) - 2.0


def test_constraint_slacks_are_in_sd_units() -> None:
    constraints = [OutcomeConstraint("g", "<=", 1.0), OutcomeConstraint("f", ">=", -0.5)]
    slack_g, slack_f = constraint_callables(constraints, ["f", "g"], {"f": 0.5, "g": 2.0})
    Y = torch.tensor([[[-0.4, 3.0]]], dtype=torch.float64)  # sample x q x m
    assert torch.allclose(slack_g(Y), torch.tensor([[1.0]], dtype=torch.float64))
    assert torch.allclose(slack_f(Y), torch.tensor([[-0.2]], dtype=torch.float64))


def test_several_objectives_get_qlognehvi_with_an_inferred_reference_point() -> None:
    observations = _observations(10)
    encoder = Encoder(SQUARE)
    data = assemble(encoder, observations, ["f", "g"])
    models, _ = fit_outcome_models(data.outcomes, encoder, BOConfig().gp)
    model = model_list(models)
    objectives = [Objective("f", "maximize"), Objective("g", "minimize")]
    ref = reference_point(model, objectives, ["f", "g"], data.X_observed, [])
    Y = torch.tensor([[o.outcomes["f"], -o.outcomes["g"]] for o in observations],
                     dtype=torch.float64)
    assert bool((ref <= Y.max(0).values).all())  # below the best of each (maximised) objective
    given = reference_point(model, objectives, ["f", "g"], data.X_observed, [],
                            {"f": -1.0, "g": 3.0})
    assert given.tolist() == [-1.0, -3.0]
    acqf = build_acquisition(model, objectives, [], ["f", "g"], X_baseline=data.X_observed,
                             X_pending=None, config=AcquisitionConfig(mc_samples=32), seed=0)
    assert isinstance(acqf, qLogNoisyExpectedHypervolumeImprovement)
    with torch.no_grad():
        assert torch.isfinite(acqf(torch.rand(5, 1, 2, dtype=torch.float64))).all()
