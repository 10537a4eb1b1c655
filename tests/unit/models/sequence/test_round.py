"""The sequence_design strategy: verified, distinct, new designs with their predictions."""

from __future__ import annotations

import pytest

from models.design.rounds import RoundRequest
from models.problems.sequence.problem import SequenceProblem
from models.sequence.round import SequenceDesignError, propose
from models.space.keys import design_key
from models.space.space import Space


def _request(sequence_problem: SequenceProblem, count: int, **extra) -> RoundRequest:
    fields = {"space": Space.from_dict(sequence_problem.space), "observations": [], "pending": [],
              "taken": frozenset(), "objectives": [], "constraints": [], "count": count,
              "problem": sequence_problem, "seed": 0, "options": {"starts": 8, "steps": 60}}
    return RoundRequest(**{**fields, **extra})


@pytest.fixture(scope="module")
def problem() -> SequenceProblem:
    return SequenceProblem.from_options({"rows": 4, "target": 5})


def test_designs_are_verified_successes_with_predictions(problem: SequenceProblem) -> None:
    result = propose(_request(problem, 3, objectives=[{"name": "target_gap",
                                                        "goal": "maximize"}],
                              constraints=[{"name": "contact_overlap", "op": ">=",
                                            "threshold": 0.5, "risk": None}]))
    assert len(result.designs) == 3
    texts = [d.parameters["sequence"] for d in result.designs]
    assert len(set(texts)) == 3
    for design in result.designs:
        assert design.predictions["success"] == 1.0 and design.predictions["target_gap"] > 0
        assert design.predictions["oracle"]["ground_state"] == 5
        assert problem.evaluate([design.parameters])[0]["success"] == 1.0
        assert len(design.predictions["predicted"]["top_contacts"]) == 9
        # The campaign's outcomes, predicted in the shape the parity plot reads.
        assert design.predictions["mean"] == {
            "target_gap": design.predictions["target_gap"],
            "contact_overlap": design.predictions["contact_overlap"]}
    gaps = [d.predictions["target_gap"] for d in result.designs]
    assert gaps == sorted(gaps, reverse=True)
    assert result.info["oracle_calls"] >= 3 and result.model is None


def test_taken_and_pending_designs_are_not_proposed_again(problem: SequenceProblem) -> None:
    first = propose(_request(problem, 2))
    texts = [d.parameters["sequence"] for d in first.designs]
    again = propose(_request(problem, 2, taken=frozenset({design_key({"sequence": texts[0]})}),
                             pending=[{"sequence": texts[1]}]))
    assert not {d.parameters["sequence"] for d in again.designs} & set(texts)


def test_the_strategy_needs_the_sequence_problem(problem: SequenceProblem) -> None:
    with pytest.raises(SequenceDesignError):
        propose(_request(problem, 1, problem=None))
    with pytest.raises(SequenceDesignError) as caught:
        propose(_request(problem, 1, options={"stepz": 3}))
    assert caught.value.details["field"] == "stepz"


@pytest.mark.slow
def test_neural_predictor_round_trains_and_returns_a_model_version(
        problem: SequenceProblem) -> None:
    result = propose(_request(problem, 2, options={"predictor": "neural", "starts": 8,
                                                   "steps": 60, "attempts": 6}))
    assert result.model is not None and result.model.kind == "neural_predictor"
    assert result.model.metrics["held_out_precision"] > 0.3
    assert all(d.predictions["oracle"]["ground_state"] >= 0 for d in result.designs)
    warm = propose(_request(problem, 1, previous_model=result.model.weights,
                            options={"predictor": "neural", "starts": 8, "steps": 60}))
    assert warm.model is None  # restored, not retrained
