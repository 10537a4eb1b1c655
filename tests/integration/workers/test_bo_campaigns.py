"""Bayesian campaigns through real Celery workers: two BO suggest jobs at once never share a
pending design (issue 7: pending suggestions are passed as ``X_pending``, and the
compare-and-set of the suggest job makes the loser recompute)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.tables import ModelVersion
from service.enums import JobStatus, SuggestionStatus
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
from tests.unit.workers.factories import FAST_BAYESIAN, campaign_row, make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SPACE: dict[str, Any] = {"parameters": [
    {"type": "continuous", "name": "x1", "lower": 0.0, "upper": 1.0},
    {"type": "continuous", "name": "x2", "lower": 0.0, "upper": 1.0}]}
#: Longer job limits than the session's, for the model fits on a loaded machine.
SLOW_TIMINGS = {"job_soft_time_limit_s": 90.0, "job_time_limit_s": 100.0,
                "broker_visibility_timeout_s": 110.0, "lease_timeout_s": 110.0,
                "republish_after_s": 110.0}
POINTS = [(0.1, 0.2), (0.9, 0.7), (0.4, 0.9), (0.6, 0.1), (0.25, 0.55), (0.75, 0.35)]
COUNT = 3


def _truth(x1: float, x2: float) -> dict[str, float]:
    return {"cost": (x1 - 0.3) ** 2 + (x2 - 0.6) ** 2, "tox": 1.0 - x1 - 0.2 * x2}


def test_two_bo_jobs_at_once_never_share_a_pending_design(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker,
        use_settings: Any) -> None:
    """Past its space-filling start, a bayesian campaign gets two suggest requests together,
    run by two pool processes at once: both batches are stored, disjoint, each from a model
    version, and the one stored second saw the first as pending."""
    settings = use_settings(**SLOW_TIMINGS)
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, space=SPACE, strategy=FAST_BAYESIAN,
                                objectives=[{"name": "cost", "goal": "minimize"}],
                                constraints=[{"name": "tox", "op": "<=", "threshold": 0.3}])
    with session_scope() as session:
        add_observations(session, get_campaign(session, project_id, campaign_id),
                         ObservationBatch.model_validate({"observations": [
                             {"parameters": {"x1": x1, "x2": x2}, "outcomes": _truth(x1, x2)}
                             for x1, x2 in POINTS]}), posted_by="test")
    worker = start_worker(settings, concurrency=2)
    ids: list[uuid.UUID] = []
    barrier = threading.Barrier(2)

    def client() -> None:
        barrier.wait(5)
        ids.append(submit_and_publish(project_id, campaign_id, params={"count": COUNT}))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 2
    rows = wait_for(lambda: finished(ids), timeout_s=200, what="both suggest jobs",
                    workers=[worker], interval_s=0.5)
    assert_succeeded(rows)
    assert all(job.status == JobStatus.succeeded for job in rows.values())
    assert all(job.result is not None and job.result["phase"] == "bayesian"
               for job in rows.values()), [job.result for job in rows.values()]

    pending = suggestions(campaign_id, SuggestionStatus.pending)
    by_job = {job_id: {s.design_key for s in pending if s.job_id == job_id} for job_id in ids}
    assert [len(keys) for keys in by_job.values()] == [COUNT, COUNT]
    assert not set.intersection(*by_job.values())
    assert len(pending) == len({s.design_key for s in pending}) == 2 * COUNT
    assert all(s.strategy == "bayesian" and s.model_version_id is not None for s in pending)
    assert campaign_row(campaign_id).suggestions_version == 2

    # One model version per stored batch (a lost race's model is rolled back with its batch);
    # the first was fitted with nothing in flight, the second with the first batch pending.
    with session_scope() as session:
        versions = list(session.scalars(select(ModelVersion).where(
            ModelVersion.campaign_id == campaign_id).order_by(ModelVersion.number)))
        session.expunge_all()
    assert [v.number for v in versions] == [1, 2]
    assert [v.metrics["pending"] for v in versions] == [0, COUNT]
    assert {v.id for v in versions} == {s.model_version_id for s in pending}
    assert {str(v.job_id) for v in versions} == {str(i) for i in ids}
