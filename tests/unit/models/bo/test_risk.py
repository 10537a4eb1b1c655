"""Chance constraints: with a risk level alpha every suggestion has P(met) >= 1 - alpha under
the model, where the soft constraint (the default) proposes a risky design; an impossible
requirement fails with the best probability found."""

from __future__ import annotations

import math

import pytest
import torch

from models.bo.config import AcquisitionConfig, BOConfig, OptimizerConfig
from models.bo.data import assemble
from models.bo.encoding import Encoder
from models.bo.errors import NoSafeDesignError
from models.bo.gp import fit_outcome_models, model_list
from models.bo.problem import Objective, Observation, OutcomeConstraint
from models.bo.risk import (
    ChanceConstrainedAcquisition,
    ChanceFilter,
    chance_constraints,
    constraint_probabilities,
)
from models.bo.suggest import suggest
from models.design.space_filling import space_filling_designs
from models.space.space import Space

SQUARE = Space.from_dict({"parameters": [
    {"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "y", "lower": 0.0, "upper": 1.0}]})
CONFIG = BOConfig(optimizer=OptimizerConfig(num_restarts=4, raw_samples=64, max_iterations=30),
                  acquisition=AcquisitionConfig(mc_samples=64), quality=False)


def _lab(d: dict) -> dict[str, float]:
    """The gain grows with x; so does the risk, which must stay <= 0.6: the best safe
    designs sit on the boundary, where the model is unsure."""
    return {"gain": d["x"] + 0.2 * d["y"], "risk": d["x"] + 0.3 * math.sin(5 * d["y"])}


def _observations() -> list[Observation]:
    return [Observation(d, _lab(d)) for d in space_filling_designs(SQUARE, 8, seed=2).designs]


@pytest.fixture(scope="module")
def soft_and_safe() -> tuple[list, list]:
    observations = _observations()
    runs = []
    for risk in (None, 0.05):
        result = suggest(SQUARE, observations, [], [Objective("gain")],
                         [OutcomeConstraint("risk", "<=", 0.6, risk=risk)], q=3,
                         config=CONFIG, seed=0)
        runs.append(result.suggestions)
    return runs[0], runs[1]


def test_every_chance_constrained_suggestion_is_safe_enough(soft_and_safe: tuple) -> None:
    _, safe = soft_and_safe
    assert len(safe) == 3
    for s in safe:
        assert s.constraint_probabilities["risk"] >= 0.95
        assert s.probability_feasible >= 0.95


def test_the_soft_constraint_proposes_a_risky_design_the_chance_constraint_does_not(
        soft_and_safe: tuple) -> None:
    soft, safe = soft_and_safe
    risky = [s for s in soft if s.constraint_probabilities["risk"] < 0.95]
    assert risky, [s.constraint_probabilities for s in soft]
    safe_designs = [s.parameters for s in safe]
    assert all(s.parameters not in safe_designs for s in risky)
    # And on the true lab, the risky proposals are the ones that break the constraint.
    assert max(_lab(s.parameters)["risk"] for s in risky) > 0.6
    assert all(_lab(s.parameters)["risk"] <= 0.6 for s in safe)


def test_an_impossible_requirement_fails_readably() -> None:
    with pytest.raises(NoSafeDesignError) as info:
        suggest(SQUARE, _observations(), [], [Objective("gain")],
                [OutcomeConstraint("risk", "<=", -2.0, risk=0.01)], q=1, config=CONFIG, seed=0)
    assert info.value.details["required"] == {"risk": 0.99}
    assert info.value.details["best_probabilities"]["risk"] < 0.99


def test_penalty_and_filter_agree_with_the_probabilities() -> None:
    observations = _observations()
    encoder = Encoder(SQUARE)
    data = assemble(encoder, observations, ["gain", "risk"])
    models, _ = fit_outcome_models(data.outcomes, encoder, CONFIG.gp)
    model = model_list(models)
    outputs = ["gain", "risk"]
    constraints = [OutcomeConstraint("risk", "<=", 0.6, risk=0.05)]
    assert math.isclose(chance_constraints(constraints, outputs)[0].z_required, 1.6448536,
                        rel_tol=1e-6)

    class Zero(torch.nn.Module):
        X_pending = None

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return torch.zeros(X.shape[:-2], dtype=X.dtype)

        def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
            self.X_pending = X_pending

    penalised = ChanceConstrainedAcquisition(Zero(), model, constraints, outputs, penalty=100.0)
    X = torch.tensor([[0.1, 0.0], [0.95, 0.5]], dtype=torch.float64)  # safe, unsafe
    probabilities = constraint_probabilities(model, X, constraints, outputs).squeeze(-1)
    assert probabilities[0] > 0.98 and probabilities[1] < 0.05
    with torch.no_grad():
        values = penalised(X.unsqueeze(-2))
    assert -0.05 < float(values[0]) <= 0.0 and float(values[1]) < -100.0
    assert ChanceFilter(model, constraints, outputs)(X).tolist() == [True, False]
