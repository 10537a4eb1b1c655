"""The reaper: requeue lost attempts, fail after ``max_attempts``, republish lost messages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

import service.jobs
from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind, JobStatus
from service.repositories import jobs as job_rows
from tests.unit.workers.factories import (
    age_heartbeat,
    age_publication,
    job_row,
    make_campaign,
    make_job,
)

pytestmark = pytest.mark.timeout(60)

LEASE_S, REPUBLISH_S, GRACE_S = 60.0, 120.0, 10.0


def reap() -> job_rows.ReapReport:
    with session_scope() as session:
        return job_rows.reap(session, lease_timeout_s=LEASE_S, republish_after_s=REPUBLISH_S,
                             publish_grace_s=GRACE_S, max_publishes=3)


def claim(job_id: uuid.UUID) -> str:
    with session_scope() as session:
        token = job_rows.claim(session, job_id, "test-worker")
    assert token is not None
    return token


@pytest.fixture
def job_id(project_key: tuple[uuid.UUID, str]) -> uuid.UUID:
    project_id, _ = project_key
    job = make_job(project_id, make_campaign(project_id), max_attempts=2)
    age_publication(job, 1)  # published a moment ago, as the API does
    return job


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(job_id: uuid.UUID) -> None:
    claim(job_id)
    assert reap() == job_rows.ReapReport(republish=[], requeued=[], failed=[])
    assert job_row(job_id).status == JobStatus.running


def test_a_stale_lease_is_requeued_and_republished_at_once(job_id: uuid.UUID) -> None:
    claim(job_id)
    age_heartbeat(job_id, LEASE_S + 1)
    report = reap()
    assert report.requeued == [job_id] and report.republish == [(job_id, "cpu")]
    job = job_row(job_id)
    assert (job.status, job.lease_token, job.attempts) == (JobStatus.queued, None, 1)
    assert job.publish_count == 1 and "requeued" in job.message
    assert reap().republish == []  # stamped: not republished again before republish_after_s


def test_a_job_lost_max_attempts_times_fails_for_good(job_id: uuid.UUID) -> None:
    for attempt in (1, 2):
        claim(job_id)
        age_heartbeat(job_id, LEASE_S + 1)
        report = reap()
        if attempt == 1:
            assert report.requeued == [job_id]
    assert report.failed == [job_id] and report.republish == []
    job = job_row(job_id)
    assert (job.status, job.attempts, job.lease_token) == (JobStatus.failed, 2, None)
    assert job.error is not None and job.error["type"] == "WorkerLost"
    assert job.finished_at is not None
    assert reap() == job_rows.ReapReport(republish=[], requeued=[], failed=[])


def test_a_job_never_published_is_published_after_the_grace_period(job_id: uuid.UUID) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(published_at=None))
    assert reap().republish == []  # created just now: the API may still be sending it
    age_publication(job_id, GRACE_S + 1)
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(published_at=None))
    assert reap().republish == [(job_id, "cpu")]
    assert job_row(job_id).published_at is not None


def test_a_queued_job_nobody_claimed_is_republished(job_id: uuid.UUID) -> None:
    assert reap().republish == []
    age_publication(job_id, REPUBLISH_S + 1)
    before = job_row(job_id).publish_count
    assert reap().republish == [(job_id, "cpu")]
    assert job_row(job_id).publish_count == before + 1
    assert reap().republish == []


def test_concurrent_reapers_republish_a_job_once(job_id: uuid.UUID) -> None:
    age_publication(job_id, REPUBLISH_S + 1)
    stamp = job_row(job_id).published_at
    assert stamp is not None
    assert reap().republish == [(job_id, "cpu")]
    # A second reaper that read the old stamp loses the compare-and-set.
    with session_scope() as session:
        assert not job_rows._stamp_published(session, job_id, stamp, stamp)


def test_a_job_published_too_often_fails_as_never_claimed(job_id: uuid.UUID) -> None:
    for _ in range(3):
        age_publication(job_id, REPUBLISH_S + 1)
        assert reap().republish == [(job_id, "cpu")]
    age_publication(job_id, REPUBLISH_S + 1)
    assert reap().failed == [job_id]
    error = job_row(job_id).error
    assert error is not None and error["type"] == "NeverClaimed"


def test_a_queued_job_out_of_attempts_fails(job_id: uuid.UUID) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(attempts=2))
    assert reap().failed == [job_id]
    error = job_row(job_id).error
    assert error is not None and error["type"] == "AttemptsExhausted"


def test_finished_jobs_are_never_touched(job_id: uuid.UUID) -> None:
    token = claim(job_id)
    with session_scope() as session:
        job_rows.succeed(session, job_id, token, {"ok": True})
    age_heartbeat(job_id, LEASE_S + 1)
    age_publication(job_id, REPUBLISH_S + 1)
    assert reap() == job_rows.ReapReport(republish=[], requeued=[], failed=[])
    assert job_row(job_id).status == JobStatus.succeeded


def test_reap_once_publishes_what_it_requeued(job_id: uuid.UUID,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[Any, ...]] = []

    def publish(*args: Any) -> bool:
        sent.append(args)
        return True

    monkeypatch.setattr(service.jobs, "publish", publish)
    claim(job_id)
    age_heartbeat(job_id, 3600)
    report = service.jobs.reap_once()
    assert report.requeued == [job_id]
    assert sent == [(job_id, JobKind.suggest, "cpu")]


def test_reap_once_survives_a_broker_that_refuses(job_id: uuid.UUID,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.jobs, "publish", lambda *a: False)
    age_publication(job_id, 3600)
    assert service.jobs.reap_once().republish == [(job_id, "cpu")]
    # The stamp was taken before the send: the next try waits republish_after_s again.
    assert service.jobs.reap_once().republish == []
    assert job_row(job_id).status == JobStatus.queued
