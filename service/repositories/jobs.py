"""Jobs: the database row is the truth; the broker only delivers job ids, at least once.

The lease protocol:

* :func:`claim` turns a *queued* job into *running* under a fresh random ``lease_token``; a
  duplicate delivery finds the job running (or finished) and gets ``None``.
* :func:`fence` re-asserts the lease inside the transaction that writes results: when it
  fails, the attempt has been superseded (reaped, or the job finished) and its writes roll back.
  On PostgreSQL the fence's ``UPDATE`` also locks the job row until commit, so the reaper cannot
  requeue a job between the fence and the commit of its results.
* :func:`reap` requeues running jobs whose heartbeat is stale, republishes queued jobs nobody
  claimed, and fails a job for good after ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Update, and_, or_, select, update
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.db.tables import Job
from service.enums import JobKind, JobStatus
from service.errors import Conflict, LeaseLost, NotFound
from service.repositories.pagination import paginate


def _updated(session: Session, statement: Update) -> int:
    """Run a conditional ``UPDATE`` and return how many rows it matched: the answer of every
    compare-and-set in the lease protocol."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount


def create_job(session: Session, *, project_id: uuid.UUID, kind: JobKind, queue: str,
               campaign_id: uuid.UUID | None = None, params: dict[str, Any] | None = None,
               max_attempts: int = 3, parent_id: uuid.UUID | None = None) -> Job:
    """A queued job row. Publish its id only after the transaction that made it commits."""
    job = Job(project_id=project_id, campaign_id=campaign_id, kind=kind, queue=queue,
              params=params or {}, max_attempts=max_attempts, parent_id=parent_id,
              status=JobStatus.queued)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, project_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id, Job.project_id == project_id))
    if job is None:
        raise NotFound("job", job_id)
    return job


def list_jobs(session: Session, project_id: uuid.UUID, *, limit: int, cursor: str | None,
              campaign_id: uuid.UUID | None = None,
              status: JobStatus | None = None) -> tuple[list[Job], str | None]:
    stmt = select(Job).where(Job.project_id == project_id)
    if campaign_id is not None:
        stmt = stmt.where(Job.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    return paginate(session, stmt, Job, limit=limit, cursor=cursor)


def mark_published(session: Session, job_ids: list[uuid.UUID]) -> None:
    if job_ids:
        session.execute(update(Job).where(Job.id.in_(job_ids)).values(
            published_at=utcnow(), publish_count=Job.publish_count + 1))


def claim(session: Session, job_id: uuid.UUID, owner: str) -> str | None:
    """Take the job for this attempt: its new lease token, or ``None`` if it is not queued."""
    token = secrets.token_hex(16)
    now = utcnow()
    claimed = _updated(session, update(Job).where(
        Job.id == job_id, Job.status == JobStatus.queued, Job.attempts < Job.max_attempts,
    ).values(status=JobStatus.running, lease_token=token, lease_owner=owner, heartbeat_at=now,
             attempts=Job.attempts + 1, message="running", started_at=now, error=None))
    return token if claimed == 1 else None


def _held(job_id: uuid.UUID, token: str) -> Any:
    return and_(Job.id == job_id, Job.lease_token == token, Job.status == JobStatus.running)


def heartbeat(session: Session, job_id: uuid.UUID, token: str, *, progress: float | None = None,
              message: str | None = None) -> bool:
    """Refresh the lease (and report progress); ``False`` when this attempt lost the lease."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = min(max(progress, 0.0), 1.0)
    if message is not None:
        values["message"] = message
    return _updated(session, update(Job).where(_held(job_id, token)).values(**values)) == 1


def fence(session: Session, job_id: uuid.UUID, token: str) -> None:
    """Assert, inside the current transaction, that this attempt still holds the job.

    Raises:
        LeaseLost: the job was reaped, cancelled or finished by another attempt.
    """
    if not heartbeat(session, job_id, token):
        raise LeaseLost(f"job {job_id}: this attempt no longer holds the lease")


def succeed(session: Session, job_id: uuid.UUID, token: str, result: dict[str, Any]) -> None:
    """Finish the job (in the same transaction as its results, after :func:`fence`)."""
    _finish(session, job_id, token, status=JobStatus.succeeded, result=result, error=None,
            message="succeeded")


def fail(session: Session, job_id: uuid.UUID, token: str, error: dict[str, Any]) -> None:
    _finish(session, job_id, token, status=JobStatus.failed, result=None, error=error,
            message=str(error.get("message", "failed"))[:500])


def _finish(session: Session, job_id: uuid.UUID, token: str, *, status: JobStatus,
            result: dict[str, Any] | None, error: dict[str, Any] | None, message: str) -> None:
    values: dict[str, Any] = {"status": status, "result": result, "error": error,
                              "finished_at": utcnow(), "lease_token": None, "message": message}
    if status == JobStatus.succeeded:
        values["progress"] = 1.0
    if _updated(session, update(Job).where(_held(job_id, token)).values(**values)) != 1:
        raise LeaseLost(f"job {job_id}: this attempt no longer holds the lease")


def release(session: Session, job_id: uuid.UUID, token: str, reason: str) -> JobStatus | None:
    """Hand the job back after an infrastructure hiccup (not the job's fault).

    The job goes back to *queued*, stamped as just published because the caller is about to
    send it again (a Celery retry); if that send is lost, the reaper republishes it after
    ``republish_after_s``. A job whose attempts are used up fails for good instead, so a
    persistent outage cannot loop forever.

    Returns:
        The job's new status, or ``None`` when this attempt no longer held the lease.
    """
    spare = session.scalar(select(Job.max_attempts - Job.attempts).where(_held(job_id, token)))
    if spare is None:
        return None
    if spare <= 0:
        _finish(session, job_id, token, status=JobStatus.failed, result=None, error={
            "type": "InfrastructureError", "category": "infrastructure",
            "message": f"giving up after the last attempt failed on infrastructure: {reason}"},
            message="failed: infrastructure")
        return JobStatus.failed
    requeued = _updated(session, update(Job).where(_held(job_id, token)).values(
        status=JobStatus.queued, lease_token=None, published_at=utcnow(),
        publish_count=Job.publish_count + 1, message=f"requeued: {reason}"[:500]))
    return JobStatus.queued if requeued == 1 else None


def cancel(session: Session, job: Job) -> Job:
    """Cancel a job that is not final yet.

    A conditional update, so a cancel racing a worker's finish never overwrites ``succeeded``:
    whichever commits first wins, and the other sees it (the worker's fence fails; the cancel
    answers 409). A running attempt notices at its next heartbeat or progress report.
    """
    done = _updated(session, update(Job).where(
        Job.id == job.id, Job.status.in_([JobStatus.queued, JobStatus.running])).values(
        status=JobStatus.cancelled, lease_token=None, finished_at=utcnow(), message="cancelled"))
    session.refresh(job)
    if done != 1:
        raise Conflict(f"job {job.id} is {job.status.value} already")
    return job


def fail_unclaimable(session: Session, job_id: uuid.UUID, error: dict[str, Any]) -> bool:
    """Fail a job that no attempt holds (e.g. its campaign vanished before it was claimed)."""
    return _updated(session, update(Job).where(
        Job.id == job_id, Job.status == JobStatus.queued,
    ).values(status=JobStatus.failed, error=error, finished_at=utcnow(),
             message=str(error.get("message", "failed"))[:500])) == 1


@dataclass(frozen=True)
class ReapReport:
    """What one pass of the reaper did: ids to publish (after commit) and ids failed."""

    republish: list[tuple[uuid.UUID, str]]
    requeued: list[uuid.UUID]
    failed: list[uuid.UUID]


def reap(session: Session, *, now: dt.datetime | None = None, lease_timeout_s: float,
         republish_after_s: float, publish_grace_s: float, max_publishes: int) -> ReapReport:
    """One reaper pass. Conditional updates make concurrent reapers safe.

    * running with a heartbeat older than ``lease_timeout_s``: back to queued (or failed when
      its attempts are used up);
    * queued and never published for ``publish_grace_s`` (the API's send failed), or published
      longer than ``republish_after_s`` ago without a claim (the broker lost it): publish again,
      or fail once it has been published ``max_publishes`` times;
    * queued with its attempts used up (nothing could ever claim it): failed.

    Every job returned for publishing has already been stamped ``published_at = now`` by a
    compare-and-set on its previous stamp, so of several reapers running at once exactly one
    republishes it. The caller publishes after commit; a send that fails then is retried by a
    later pass, ``republish_after_s`` on.
    """
    now = now or utcnow()
    requeued, failed = _reap_stale_leases(session, now, lease_timeout_s)
    failed += _fail_exhausted(session, now)
    republish: list[tuple[uuid.UUID, str]] = []
    grace = now - dt.timedelta(seconds=publish_grace_s)
    lost = now - dt.timedelta(seconds=republish_after_s)
    candidates = session.execute(select(Job.id, Job.queue, Job.publish_count, Job.published_at)
                                 .where(Job.status == JobStatus.queued,
                                        or_(and_(Job.published_at.is_(None),
                                                 Job.created_at < grace),
                                            Job.published_at < lost))).all()
    for job_id, queue, publish_count, published_at in candidates:
        if publish_count >= max_publishes:
            if fail_unclaimable(session, job_id, {
                    "type": "NeverClaimed", "category": "infrastructure",
                    "message": f"no worker claimed this job after {publish_count} publications"}):
                failed.append(job_id)
        elif _stamp_published(session, job_id, published_at, now):
            republish.append((job_id, queue))
    # Requeued jobs were stamped when requeued: their worker is gone, publish them at once.
    for job_id in requeued:
        requeued_to = session.scalar(select(Job.queue).where(Job.id == job_id))
        if requeued_to is not None:
            republish.append((job_id, requeued_to))
    return ReapReport(republish=republish, requeued=requeued, failed=failed)


def _reap_stale_leases(session: Session, now: dt.datetime,
                       lease_timeout_s: float) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Requeue (or fail, when out of attempts) running jobs whose worker stopped heartbeating."""
    stale = now - dt.timedelta(seconds=lease_timeout_s)
    requeued: list[uuid.UUID] = []
    failed: list[uuid.UUID] = []
    rows = session.execute(select(Job.id, Job.attempts, Job.max_attempts, Job.lease_token)
                           .where(Job.status == JobStatus.running,
                                  Job.heartbeat_at < stale)).all()
    for job_id, attempts, max_attempts, token in rows:
        exhausted = attempts >= max_attempts
        values: dict[str, Any] = (
            {"status": JobStatus.failed, "lease_token": None, "finished_at": now,
             "error": {"type": "WorkerLost", "category": "infrastructure", "message": (
                 f"the worker running this job was lost {attempts} time(s); "
                 f"giving up after max_attempts={max_attempts}")},
             "message": "failed: worker lost"}
            if exhausted else
            {"status": JobStatus.queued, "lease_token": None, "published_at": now,
             "publish_count": Job.publish_count + 1,
             "message": f"requeued after a lost worker (attempt {attempts})"})
        won = _updated(session, update(Job).where(
            Job.id == job_id, Job.status == JobStatus.running, Job.heartbeat_at < stale,
            Job.lease_token == token).values(**values))
        if won == 1:
            (failed if exhausted else requeued).append(job_id)
    return requeued, failed


def _fail_exhausted(session: Session, now: dt.datetime) -> list[uuid.UUID]:
    """Fail queued jobs that no attempt may claim any more (``claim`` refuses them)."""
    ids = list(session.scalars(select(Job.id).where(Job.status == JobStatus.queued,
                                                    Job.attempts >= Job.max_attempts)))
    return [job_id for job_id in ids if fail_unclaimable(session, job_id, {
        "type": "AttemptsExhausted", "category": "infrastructure",
        "message": "every attempt of this job was used up"})]


def _stamp_published(session: Session, job_id: uuid.UUID, previous: dt.datetime | None,
                     now: dt.datetime) -> bool:
    """Compare-and-set the publication stamp: ``True`` for the one reaper that wins the job."""
    same = Job.published_at.is_(None) if previous is None else Job.published_at == previous
    return _updated(session, update(Job).where(
        Job.id == job_id, Job.status == JobStatus.queued, same,
    ).values(published_at=now, publish_count=Job.publish_count + 1)) == 1
