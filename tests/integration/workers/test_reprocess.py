"""Reprocessing through a real Celery worker: several campaigns with a broken one among them,
reports of old vs new models, and a run cancelled and resumed."""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign, ModelVersion, ReprocessRun
from service.enums import JobStatus, ReprocessItemStatus, ReprocessStatus
from service.jobs import publish_jobs
from service.repositories import reprocess as reprocess_rows
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from service.schemas.reprocess import ReprocessCreate
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import child_jobs, jobs_by_id, suggestions, wait_for
from tests.unit.workers.factories import make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

#: Observations per campaign before the run (the bayesian strategy needs 4 to fit).
HISTORY = 6
OLD_RMSE = 1e6  # the stored "old" model's LOO error: any fitted GP does better
#: A bayesian strategy with capped optimiser effort (the machine is shared): the test checks
#: the run's bookkeeping, not the quality of the designs.
FAST_BAYESIAN = {"kind": "bayesian", "options": {"initial_points": 4, "config": {
    "gp": {"max_iterations": 60, "warm_max_iterations": 20, "max_attempts": 1},
    "acquisition": {"mc_samples": 32},
    "optimizer": {"num_restarts": 2, "raw_samples": 32, "max_iterations": 20,
                  "max_alternating": 2, "pool_size": 256}}}}
#: Longer job limits than the session's, for the model fits on a loaded machine.
SLOW_TIMINGS = {"job_soft_time_limit_s": 90.0, "job_time_limit_s": 100.0,
                "broker_visibility_timeout_s": 110.0, "lease_timeout_s": 110.0,
                "republish_after_s": 110.0}


def _branin(x1: float, x2: float) -> dict[str, float]:
    value = ((x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
             + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)
    return {"value": value, "constraint": (x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50}


def _branin_campaign(project_id: uuid.UUID, seed: int) -> uuid.UUID:
    """A lab campaign of branin with a history and an old model version that reports its
    leave-one-out error."""
    campaign_id = make_campaign(project_id, problem="branin", seed=seed)
    points = [(-5 + 15 * ((seed * 0.37 + i * 0.618) % 1), 15 * ((seed * 0.21 + i * 0.382) % 1))
              for i in range(HISTORY)]
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        add_observations(session, campaign, ObservationBatch.model_validate({"observations": [
            {"parameters": {"x1": x1, "x2": x2}, "outcomes": _branin(x1, x2)}
            for x1, x2 in points]}), posted_by="test")
        session.add(ModelVersion(campaign_id=campaign_id, number=1, kind="gp", config={},
                                 metrics={"quality": {"value": {"rmse": OLD_RMSE}}}))
    return campaign_id


def _start(project_id: uuid.UUID, body: dict[str, Any], *, publish: bool = True
           ) -> tuple[uuid.UUID, uuid.UUID]:
    """What ``POST /v1/reprocess`` does: the run and its parent, committed, then published."""
    with session_scope() as session:
        run, job = reprocess_rows.create_run(session, project_id,
                                             ReprocessCreate.model_validate(body),
                                             max_in_flight=4, max_count=100)
        ids, sent = (run.id, job.id), (job.id, job.kind, job.queue)
    if publish:
        publish_jobs([sent])
    return ids


def _run_state(run_id: uuid.UUID) -> tuple[ReprocessStatus, list[Any]]:
    with session_scope() as session:
        run = session.get(ReprocessRun, run_id)
        assert run is not None
        items = reprocess_rows.run_items(session, run_id)
        session.expunge_all()
        return run.status, items


def _finished(run_id: uuid.UUID) -> list[Any] | None:
    status, items = _run_state(run_id)
    return items if status == ReprocessStatus.finished else None


def test_a_broken_campaign_fails_alone_and_the_others_are_reported(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker,
        use_settings: Callable[..., Settings]) -> None:
    project_id, _ = project_key
    use_settings(**SLOW_TIMINGS)
    campaigns = [_branin_campaign(project_id, seed) for seed in (1, 2, 3, 4)]
    broken = campaigns[1]
    with session_scope() as session:  # its plug-in is gone: its suggest job cannot run
        session.execute(update(Campaign).where(Campaign.id == broken).values(problem="gone"))
    run_id, parent_id = _start(project_id, {
        "campaign_ids": [str(c) for c in campaigns], "count": 2, "max_in_flight": 2,
        "strategy": FAST_BAYESIAN})
    worker = start_worker(env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    items = wait_for(lambda: _finished(run_id), timeout_s=150, what="the reprocess run",
                     workers=[worker], interval_s=0.5)

    by_campaign = {item.campaign_id: item for item in items}
    assert by_campaign[broken].status == ReprocessItemStatus.failed
    assert "gone" in by_campaign[broken].error["message"]
    parent = jobs_by_id([parent_id])[parent_id]
    assert parent.status == JobStatus.succeeded and parent.progress == 1.0
    assert parent.result == {"run_id": str(run_id), "waiting": 0, "scheduled": 0,
                             "succeeded": 3, "failed": 1, "cancelled": 0}
    assert len(child_jobs(parent_id)) == 4
    for campaign_id in campaigns:
        if campaign_id == broken:
            continue
        report = by_campaign[campaign_id].report
        error = report["model"]["error"]["value"]
        assert error["old_metric"] == error["new_metric"] == "loo_rmse"
        assert report["model"]["old_version"]["number"] == 1
        assert report["model"]["new_version"]["number"] == 2
        assert error["old_rmse"] == OLD_RMSE and 0 < error["new_rmse"] < OLD_RMSE
        assert error["change"] == pytest.approx(error["new_rmse"] - OLD_RMSE)
        assert report["suggestions"]["new"] == 2 and report["strategy"] == "bayesian"
        new = suggestions(campaign_id)
        assert len(new) == 2 and all(s.predictions["reprocess_run"] == str(run_id)
                                     for s in new)
        with session_scope() as session:  # old version kept, the new one tagged
            versions = session.execute(select(ModelVersion.number, ModelVersion.config).where(
                ModelVersion.campaign_id == campaign_id).order_by(ModelVersion.number)).all()
        assert [n for n, _ in versions] == [1, 2]
        assert versions[1][1]["reprocess_run"] == str(run_id)


def test_cancelled_before_any_work_then_resumed_one_at_a_time(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker) -> None:
    project_id, _ = project_key
    campaigns = [make_campaign(project_id, seed=s) for s in (1, 2, 3)]
    run_id, first_parent = _start(project_id, {"campaign_ids": [str(c) for c in campaigns],
                                               "count": 3, "max_in_flight": 1})
    with session_scope() as session:
        reprocess_rows.cancel_run(session, reprocess_rows.get_run(session, project_id, run_id))
    worker = start_worker()  # it receives the cancelled parent's message and drops it
    wait_for(lambda: "duplicate delivery dropped" in worker.log_tail(200), timeout_s=30,
             what="the cancelled parent's message to be dropped", workers=[worker])
    status, items = _run_state(run_id)
    assert status == ReprocessStatus.cancelled
    assert {i.status for i in items} == {ReprocessItemStatus.cancelled}

    with session_scope() as session:
        job = reprocess_rows.resume_run(session,
                                        reprocess_rows.get_run(session, project_id, run_id))
        sent = (job.id, job.kind, job.queue)
    publish_jobs([sent])
    items = wait_for(lambda: _finished(run_id), timeout_s=90, what="the resumed run",
                     workers=[worker], interval_s=0.5)
    assert {i.status for i in items} == {ReprocessItemStatus.succeeded}
    children = child_jobs(sent[0])
    assert len(children) == 3 and not child_jobs(first_parent)
    spans = sorted((j.started_at, j.finished_at) for j in children
                   if j.started_at is not None and j.finished_at is not None)
    assert len(spans) == 3
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):  # max_in_flight 1
        assert earlier_end <= later_start
    assert all(len(suggestions(c)) == 3 for c in campaigns)
