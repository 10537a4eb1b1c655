"""The runner's error policy and lease fencing, on a real database, without a broker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.errors import InfeasibleSpaceError
from models.problems.base import ProblemError
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Job, Suggestion
from service.enums import JobKind, JobStatus
from service.errors import InvalidInput, LeaseLost
from service.repositories import jobs as job_rows
from tests.unit.workers.factories import age_heartbeat, job_row, make_campaign, make_job
from workers import runtime
from workers.runtime import JobContext, Outcome, RetryableError, run_job

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def campaign(project_key: tuple[uuid.UUID, str]) -> tuple[uuid.UUID, uuid.UUID]:
    project_id, _ = project_key
    return project_id, make_campaign(project_id)


@pytest.fixture
def job_id(campaign: tuple[uuid.UUID, uuid.UUID]) -> uuid.UUID:
    return make_job(*campaign)


def _suggestion_writer(campaign_id: uuid.UUID, marker: str) -> Any:
    def write(session: Session) -> dict[str, Any]:
        session.add(Suggestion(campaign_id=campaign_id, parameters={"marker": marker},
                               design_key=marker.ljust(64, "0"), strategy="test"))
        session.flush()
        return {"marker": marker}
    return write


def _count_suggestions(campaign_id: uuid.UUID) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Suggestion)
                              .where(Suggestion.campaign_id == campaign_id)) or 0


def _context(claimed: runtime.ClaimedJob, settings: Settings) -> JobContext:
    return JobContext(job=claimed, settings=settings, deadline=time.monotonic() + 60,
                      lease_lost=threading.Event())


# --- success and duplicates -------------------------------------------------------------


def test_a_handler_that_commits_succeeds_the_job(job_id: uuid.UUID,
                                                 campaign: tuple[uuid.UUID, uuid.UUID]) -> None:
    def handler(ctx: JobContext) -> None:
        ctx.commit_results(_suggestion_writer(campaign[1], "a"))

    outcome = run_job(job_id, handler)
    job = job_row(job_id)
    assert outcome is Outcome.succeeded
    assert (job.status, job.result, job.attempts, job.progress) == (
        JobStatus.succeeded, {"marker": "a"}, 1, 1.0)
    assert job.lease_token is None and job.finished_at is not None
    assert _count_suggestions(campaign[1]) == 1


def test_a_handler_that_returns_without_results_still_succeeds(job_id: uuid.UUID) -> None:
    assert run_job(job_id, lambda ctx: None) is Outcome.succeeded
    assert job_row(job_id).result == {}


@pytest.mark.parametrize("status", [JobStatus.running, JobStatus.succeeded,
                                    JobStatus.failed, JobStatus.cancelled])
def test_a_duplicate_delivery_runs_nothing(job_id: uuid.UUID, status: JobStatus) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status=status))
    calls: list[JobContext] = []
    assert run_job(job_id, calls.append) is Outcome.skipped
    assert calls == [] and job_row(job_id).status == status


def test_a_job_delivered_to_the_wrong_task_fails_without_running(job_id: uuid.UUID) -> None:
    calls: list[JobContext] = []
    assert run_job(job_id, calls.append, kind=JobKind.evaluate) is Outcome.failed
    error = job_row(job_id).error
    assert calls == [] and error is not None and "evaluate task" in error["message"]


def test_an_unknown_job_id_is_dropped(db: str) -> None:
    assert run_job(uuid.uuid4(), lambda ctx: None) is Outcome.skipped


# --- the error policy -------------------------------------------------------------------


@pytest.mark.parametrize(("error", "type_", "category"), [
    (InfeasibleSpaceError(1e-6, 65536), "InfeasibleSpaceError", "science"),
    (ProblemError("the plug-in is broken"), "ProblemError", "problem"),
    (InvalidInput("count must be positive", field="count"), "InvalidInput", "invalid"),
    (ZeroDivisionError("division by zero"), "ZeroDivisionError", "internal"),
    (sa_exc.IntegrityError("INSERT", {}, Exception("unique")), "IntegrityError", "internal"),
])
def test_handler_errors_fail_the_job_readably(job_id: uuid.UUID, error: Exception, type_: str,
                                              category: str) -> None:
    def handler(ctx: JobContext) -> None:
        raise error

    assert run_job(job_id, handler) is Outcome.failed
    job = job_row(job_id)
    assert job.status == JobStatus.failed and job.lease_token is None
    assert job.error is not None
    assert (job.error["type"], job.error["category"]) == (type_, category)
    assert job.error["message"] and job.message


def test_science_error_details_are_kept(job_id: uuid.UUID) -> None:
    def handler(ctx: JobContext) -> None:
        raise InfeasibleSpaceError(2e-5, 65536)

    run_job(job_id, handler)
    error = job_row(job_id).error
    assert error is not None and error["details"] == {"acceptance_rate": 2e-5, "draws": 65536}


def test_celery_soft_time_limit_fails_the_job_with_a_time_limit_error(job_id: uuid.UUID) -> None:
    def handler(ctx: JobContext) -> None:
        raise SoftTimeLimitExceeded()

    assert run_job(job_id, handler) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["type"] == "TimeLimitExceeded"
    assert "time limit" in error["message"]


def test_the_in_task_deadline_stops_a_handler_that_reports_progress(
        job_id: uuid.UUID, settings: Settings) -> None:
    short = Settings(**{**settings.model_dump(), "job_soft_time_limit_s": 0.3})
    steps: list[float] = []

    def handler(ctx: JobContext) -> None:
        for i in range(100):
            steps.append(i)
            ctx.progress(i / 100, "working")
            time.sleep(0.05)

    assert run_job(job_id, handler, settings=short) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["type"] == "TimeLimitExceeded"
    assert "0.3 s" in error["message"] and 2 < len(steps) < 50


def test_an_infrastructure_error_releases_the_job_for_a_retry(job_id: uuid.UUID) -> None:
    def handler(ctx: JobContext) -> None:
        raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with pytest.raises(RetryableError):
        run_job(job_id, handler)
    job = job_row(job_id)
    assert (job.status, job.lease_token, job.attempts) == (JobStatus.queued, None, 1)
    assert job.published_at is not None and "requeued" in job.message


def test_an_infrastructure_error_on_the_last_attempt_fails_the_job(
        campaign: tuple[uuid.UUID, uuid.UUID]) -> None:
    job_id = make_job(*campaign, max_attempts=1)

    def handler(ctx: JobContext) -> None:
        raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    assert run_job(job_id, handler) is Outcome.failed
    job = job_row(job_id)
    assert job.status == JobStatus.failed
    assert job.error is not None and job.error["type"] == "InfrastructureError"


def test_an_unreachable_database_at_claim_time_asks_for_a_retry(
        job_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise sa_exc.OperationalError("UPDATE jobs", {}, Exception("connection refused"))

    monkeypatch.setattr(job_rows, "claim", down)
    with pytest.raises(RetryableError):
        run_job(job_id, lambda ctx: None)
    assert job_row(job_id).status == JobStatus.queued


# --- fencing ----------------------------------------------------------------------------


def test_a_superseded_attempt_writes_nothing(job_id: uuid.UUID, settings: Settings,
                                             campaign: tuple[uuid.UUID, uuid.UUID]) -> None:
    """Attempt 1 stalls, the reaper requeues its job, attempt 2 claims it: attempt 1's
    commit_results must raise and leave no trace; attempt 2's results are the only ones."""
    first = runtime._claim(job_id, "worker-1")
    assert first is not None
    age_heartbeat(job_id, 3600)
    with session_scope() as session:
        report = job_rows.reap(session, lease_timeout_s=60, republish_after_s=60,
                               publish_grace_s=60, max_publishes=5)
    assert report.requeued == [job_id]
    second = runtime._claim(job_id, "worker-2")
    assert second is not None and second.attempt == 2

    with pytest.raises(LeaseLost):
        _context(first, settings).commit_results(_suggestion_writer(campaign[1], "first"))
    assert _count_suggestions(campaign[1]) == 0
    assert job_row(job_id).status == JobStatus.running

    _context(second, settings).commit_results(_suggestion_writer(campaign[1], "second"))
    job = job_row(job_id)
    assert (job.status, job.result, job.attempts) == (JobStatus.succeeded, {"marker": "second"}, 2)
    assert _count_suggestions(campaign[1]) == 1


def test_a_superseded_attempt_cannot_record_a_failure_either(job_id: uuid.UUID) -> None:
    def handler(ctx: JobContext) -> None:
        with session_scope() as session:  # another attempt takes over meanwhile
            session.execute(update(Job).where(Job.id == job_id).values(lease_token="other"))
        raise ValueError("too late to matter")

    assert run_job(job_id, handler) is Outcome.superseded
    job = job_row(job_id)
    assert (job.status, job.lease_token, job.error) == (JobStatus.running, "other", None)


def test_progress_raises_once_the_lease_is_lost(job_id: uuid.UUID) -> None:
    seen: list[str] = []

    def handler(ctx: JobContext) -> None:
        ctx.progress(0.5, "half way")
        seen.append(job_row(job_id).message)
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == job_id).values(lease_token="other"))
        time.sleep(runtime.PROGRESS_WRITE_INTERVAL_S)  # the next report is written
        ctx.progress(0.6, "still going?")
        seen.append("not reached")

    assert run_job(job_id, handler) is Outcome.superseded
    assert seen == ["half way"]


def test_the_heartbeat_thread_keeps_the_lease_fresh_and_notices_its_loss(
        job_id: uuid.UUID, settings: Settings) -> None:
    observed: dict[str, Any] = {}

    def handler(ctx: JobContext) -> None:
        first = job_row(job_id).heartbeat_at
        time.sleep(3 * settings.heartbeat_interval_s)
        later = job_row(job_id).heartbeat_at
        observed["refreshed"] = first is not None and later is not None and later > first
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == job_id).values(lease_token="other"))
        deadline = time.monotonic() + 10
        while not ctx.lease_lost.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        observed["lost"] = ctx.lease_lost.is_set()

    run_job(job_id, handler)
    assert observed == {"refreshed": True, "lost": True}


def test_progress_writes_are_throttled_but_checks_are_not(job_id: uuid.UUID) -> None:
    messages: list[str] = []

    def handler(ctx: JobContext) -> None:
        for i in range(50):
            ctx.progress(i / 50, f"step {i}")
        messages.append(job_row(job_id).message)
        ctx.deadline = time.monotonic() - 1  # a check still runs on an unwritten report
        ctx.progress(0.99, "late")

    assert run_job(job_id, handler) is Outcome.failed
    assert messages != ["step 49"]  # in practice "step 0": the rest came within the interval
    error = job_row(job_id).error
    assert error is not None and error["type"] == "TimeLimitExceeded"


def test_followup_jobs_are_published_only_after_the_commit(
        job_id: uuid.UUID, published: list[tuple[uuid.UUID, JobKind, str]]) -> None:
    during: list[int] = []

    def handler(ctx: JobContext) -> None:
        def write_with_child(session: Session) -> dict[str, Any]:
            child = ctx.submit_followup(session, kind=JobKind.evaluate,
                                        params={"suggestion_ids": []})
            during.append(len(published))
            return {"child": str(child.id)}
        ctx.commit_results(write_with_child)

    run_job(job_id, handler)
    result = job_row(job_id).result
    assert result is not None and during == [0]
    assert [(str(j), k, q) for j, k, q in published] == [(result["child"], JobKind.evaluate, "cpu")]
    child = job_row(uuid.UUID(result["child"]))
    assert (child.parent_id, child.status) == (job_id, JobStatus.queued)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unit tests never reach a broker: any publish is recorded by ``published`` or dropped."""
    monkeypatch.setattr(runtime, "publish_jobs", lambda jobs: None)
    yield
