"""Chance constraints through the service: a bayesian campaign whose outcome constraint has a
risk level alpha stores only suggestions with P(constraint met) >= 1 - alpha (issue 7), run
through the suggest job on a real database (no broker)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Observation, Suggestion
from service.enums import JobKind
from service.repositories.campaigns import get_campaign, summarize
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from tests.unit.workers.factories import FAST_BAYESIAN, job_row, make_campaign, make_job
from workers.handlers import evaluate, suggest
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(180)

ALPHA = 0.1
SPACE: dict[str, Any] = {"parameters": [
    {"type": "continuous", "name": "x1", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "x2", "lower": 0.0, "upper": 1.0}]}
#: Measured designs: cost falls, toxicity rises as x1 falls, so the best safe design sits on
#: the constraint boundary (x1 + 0.2 x2 = 0.7) and a soft constraint invites risky designs.
POINTS = [(0.1, 0.2), (0.9, 0.7), (0.4, 0.9), (0.6, 0.1), (0.25, 0.55), (0.75, 0.35)]


def _truth(x1: float, x2: float) -> dict[str, float]:
    return {"cost": x1 + 0.1 * x2, "tox": 1.0 - x1 - 0.2 * x2}


def _campaign(project_id: uuid.UUID, risk: float | None) -> uuid.UUID:
    constraint: dict[str, Any] = {"name": "tox", "op": "<=", "threshold": 0.3}
    if risk is not None:
        constraint["risk"] = risk
    campaign_id = make_campaign(project_id, space=SPACE, strategy=FAST_BAYESIAN,
                                objectives=[{"name": "cost", "goal": "minimize"}],
                                constraints=[constraint], seed=7)
    for x1, x2 in POINTS:  # one transaction each: the stored order is the posting order
        batch = ObservationBatch.model_validate({"observations": [
            {"parameters": {"x1": x1, "x2": x2}, "outcomes": _truth(x1, x2)}]})
        with session_scope() as session:
            add_observations(session, get_campaign(session, project_id, campaign_id), batch,
                             posted_by="test")
    return campaign_id


def _suggest(project_id: uuid.UUID, campaign_id: uuid.UUID, count: int) -> list[Suggestion]:
    job_id = make_job(project_id, campaign_id, params={"count": count})
    assert run_job(job_id, suggest.handle) is Outcome.succeeded, job_row(job_id).error
    result = job_row(job_id).result
    assert result is not None and result["phase"] == "bayesian"
    with session_scope() as session:
        found = list(session.scalars(select(Suggestion).where(Suggestion.job_id == job_id)))
        session.expunge_all()
    assert len(found) == count
    return found


def test_a_risk_level_keeps_every_stored_suggestion_safe_enough(
        project_key: tuple[uuid.UUID, str], science_timings: Settings) -> None:
    project_id, _ = project_key
    safe = _suggest(project_id, _campaign(project_id, ALPHA), 3)
    for row in safe:
        probability = row.predictions["constraint_probabilities"]["tox"]
        assert probability >= 1 - ALPHA, (row.parameters, row.predictions)
        assert row.predictions["probability_feasible"] >= 1 - ALPHA
        assert row.strategy == "bayesian" and row.model_version_id is not None

    # The same campaign, data and seed with a soft constraint trades safety for improvement:
    # at least one of its designs is below 1 - alpha (measured here, with several seeds and
    # observation orders: 0.36 to 0.49).
    soft = _suggest(project_id, _campaign(project_id, None), 3)
    probabilities = [row.predictions["constraint_probabilities"]["tox"] for row in soft]
    assert min(probabilities) < 1 - ALPHA, probabilities


def test_a_self_driving_loop_reports_the_share_of_its_suggestions_that_broke_the_constraint(
        project_key: tuple[uuid.UUID, str], published: list[tuple[uuid.UUID, JobKind, str]]
) -> None:
    """Branin's simulator measures every suggestion; its constraint (``constraint <= 0``) is
    checked here on the stored measurements, independently of the summary's code."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator", seed=3)
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        campaign.spec = {**campaign.spec, "evaluator": {
            **campaign.spec["evaluator"], "rounds": 2, "batch_size": 4}}
    handlers = {JobKind.suggest: suggest.handle, JobKind.evaluate: evaluate.handle}
    first = make_job(project_id, campaign_id, params={"count": 4})
    assert run_job(first, suggest.handle) is Outcome.succeeded
    while published:
        job_id, kind, _queue = published.pop(0)
        assert run_job(job_id, handlers[kind]) is Outcome.succeeded, (kind, job_row(job_id).error)
    with session_scope() as session:
        measured = [(o.suggestion_id, o.failed, o.outcomes) for o in session.scalars(
            select(Observation).where(Observation.campaign_id == campaign_id))]
        summary = summarize(session, get_campaign(session, project_id, campaign_id))
    assert len(measured) == 8 and all(sid is not None and not failed
                                      for sid, failed, _ in measured)
    broke = sum(1 for _, _, outcomes in measured if outcomes["constraint"] > 0.0)
    assert 0 < broke < 8, measured  # this seed's Sobol points fall on both sides
    assert (summary.observed_suggestions, summary.infeasible_suggestions) == (8, broke)
    assert summary.infeasible_share == pytest.approx(broke / 8)
