"""Failed experiments: left out of the outcome models, modelled by a feasibility GP on the
failure indicator, and a region full of failures gets fewer suggestions with that model than
without it."""

from __future__ import annotations

import torch

from models.bo.config import AcquisitionConfig, BOConfig, FailureConfig, GPConfig, OptimizerConfig
from models.bo.data import assemble
from models.bo.encoding import Encoder
from models.bo.failures import fit_failure_model, success_probability
from models.bo.problem import Objective, Observation
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})
CONFIG = BOConfig(optimizer=OptimizerConfig(num_restarts=4, raw_samples=64, max_iterations=30),
                  acquisition=AcquisitionConfig(mc_samples=64), quality=False)


def _campaign() -> list[Observation]:
    """The objective x + y grows toward x = 1, where every experiment fails (x > 0.6)."""
    designs = space_filling_designs(SQUARE, 16, seed=0).designs
    return [Observation(d, failed=True) if d["x"] > 0.6
            else Observation(d, {"f": d["x"] + d["y"]}, {"f": 0.0}) for d in designs]


def test_the_failure_model_sees_the_failing_region() -> None:
    observations = _campaign()
    encoder = Encoder(SQUARE)
    data = assemble(encoder, observations, ["f"])
    assert data.outcomes["f"].Y.shape[0] == sum(not o.failed for o in observations)
    model = fit_failure_model(data, encoder, GPConfig())
    assert model is not None
    X = torch.tensor([[0.2, 0.5], [0.4, 0.2], [0.9, 0.5], [0.8, 0.8]], dtype=torch.float64)
    p = success_probability(model, X)
    assert bool((p[:2] > 0.8).all()) and bool((p[2:] < 0.2).all()), p
    no_failures = assemble(encoder, [o for o in observations if not o.failed], ["f"])
    assert fit_failure_model(no_failures, encoder, GPConfig()) is None


def test_a_region_of_failures_gets_fewer_suggestions() -> None:
    observations = _campaign()
    counts, success = {}, {}
    for enabled in (False, True):
        config = BOConfig(**{**CONFIG.__dict__, "failures": FailureConfig(enabled=enabled)})
        result = suggest(SQUARE, observations, [], [Objective("f")], q=4, config=config, seed=0)
        counts[enabled] = sum(s.parameters["x"] > 0.6 for s in result.suggestions)
        success[enabled] = [s.probability_success for s in result.suggestions]
        assert result.metrics["failed"] == 6
    assert counts[False] == 4  # the outcome model alone extrapolates into the failures
    assert counts[True] < counts[False]
    assert success[False] == [None] * 4
    assert sum(p > 0.5 for p in success[True]) >= 2
