"""An outcome a GP cannot be fitted to (all values identical), through a real Celery worker:
the suggest and train jobs take the deliberate flat fallback and succeed, and nothing
non-finite reaches the database (PostgreSQL's JSONB has no NaN: it would fail the commit)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Text, cast, select

from models.problems.branin.problem import BraninProblem
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import ModelVersion, Suggestion
from service.enums import JobKind
from service.repositories.campaigns import get_campaign
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import (
    assert_succeeded,
    finished,
    submit_and_publish,
    suggestions,
    wait_for,
)
from tests.unit.workers.conftest import SCIENCE_TIMINGS
from tests.unit.workers.factories import make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FAST_BO: dict[str, Any] = {"initial_points": 4, "config": {
    "optimizer": {"num_restarts": 2, "raw_samples": 32, "max_iterations": 20}}}
NON_FINITE_TOKENS = ("NaN", "Infinity")


def _stored_text(campaign_id: uuid.UUID) -> list[str]:
    """The JSON columns of the campaign's model versions and suggestions, as the database
    holds them."""
    with session_scope() as session:
        texts = list(session.scalars(select(cast(ModelVersion.metrics, Text)).where(
            ModelVersion.campaign_id == campaign_id)))
        texts += session.scalars(select(cast(ModelVersion.config, Text)).where(
            ModelVersion.campaign_id == campaign_id))
        texts += session.scalars(select(cast(Suggestion.predictions, Text)).where(
            Suggestion.campaign_id == campaign_id))
    return texts


def test_constant_outcome_jobs_succeed_and_store_only_finite_numbers(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker,
        use_settings: Callable[..., Settings]) -> None:
    project_id, _ = project_key
    worker = start_worker(use_settings(**SCIENCE_TIMINGS))
    campaign_id = make_campaign(project_id, problem="branin",
                                strategy={"kind": "bayesian", "options": FAST_BO})
    start = submit_and_publish(project_id, campaign_id, params={"count": 4})
    assert_succeeded(wait_for(lambda: finished([start]), timeout_s=120,
                              what="the space-filling round", workers=[worker]))
    designs = suggestions(campaign_id)
    values = BraninProblem().evaluate([s.parameters for s in designs])
    batch = ObservationBatch.model_validate({"observations": [
        {"parameters": s.parameters, "outcomes": {"value": v["value"], "constraint": -1.0},
         "suggestion_id": str(s.id)} for s, v in zip(designs, values, strict=True)]})
    with session_scope() as session:
        add_observations(session, get_campaign(session, project_id, campaign_id), batch,
                         posted_by="test")

    bo = submit_and_publish(project_id, campaign_id, params={"count": 2})
    train = submit_and_publish(project_id, campaign_id, kind=JobKind.train,
                               params={"kind": "gp", "options": {}})
    rows = wait_for(lambda: finished([bo, train]), timeout_s=240,
                    what="the BO round and the train job", workers=[worker])
    assert_succeeded(rows)
    assert rows[bo].result is not None and rows[bo].result["phase"] == "bayesian"

    with session_scope() as session:
        versions = list(session.scalars(select(ModelVersion).where(
            ModelVersion.campaign_id == campaign_id).order_by(ModelVersion.number)))
        session.expunge_all()
    assert len(versions) == 2
    for version in versions:
        assert version.metrics["constant_outcomes"] == {"constraint": -1.0}
        assert version.metrics["quality"]["constraint"]["r2"] is None
        assert "non_finite" not in version.metrics
    texts = _stored_text(campaign_id)
    assert len(texts) == 2 + 2 + 6
    for text in texts:
        assert not any(token in text for token in NON_FINITE_TOKENS), text
    assert worker.alive
