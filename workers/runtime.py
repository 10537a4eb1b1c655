"""The job runner every task uses: claim, heartbeat, run one handler, commit fenced results.

Celery delivers job ids *at least once*; the Job row is the truth. So a task never trusts its
delivery: it claims the job (a duplicate delivery of a running or finished job is logged and
dropped), keeps the lease alive from a heartbeat thread, and writes its results in ONE
transaction that first re-asserts the lease (:meth:`JobContext.commit_results`). An attempt
that lost its lease (the reaper gave the job to another attempt) therefore writes nothing.

Failure semantics (what happens to the Job row):

* the handler's own errors: science (:class:`models.errors.ScienceError`, category
  ``science``), plug-in (:class:`models.problems.base.ProblemError`, ``problem``), service
  validation and conflicts (:class:`service.errors.DesignloopError`, its ``code``) and any
  unexpected exception (``internal``, traceback logged): the job *fails* with a readable
  ``{"type", "category", "message"}`` error (plus ``details`` when the error carries them);
  the worker keeps running;
* Celery's soft time limit or the in-task deadline: the job *fails* with a time-limit message;
* infrastructure (database or broker unreachable): the lease is released (the job is queued
  again, or failed when its attempts are used up) and :class:`RetryableError` tells the task
  to retry with backoff; if even the release fails, the lease goes stale and the reaper
  requeues the job;
* lost lease: nothing is written; the attempt that holds the lease owns the job.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import kombu.exceptions
import redis.exceptions
from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from models.errors import ScienceError
from models.json_safety import finite_json
from models.problems.base import ProblemError
from service.config import Settings, get_settings
from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind, JobStatus
from service.errors import DesignloopError, InvalidInput, LeaseLost
from service.jobs import publish_jobs, submit
from service.repositories import jobs as job_rows

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Errors of the machinery around a job, not of the job: worth a retry on another attempt.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class DeadlineExceeded(Exception):
    """The in-task deadline passed (the time limit that also holds in thread and solo pools)."""


#: Errors that end the attempt as a whole: a handler must let them through, never record them
#: as the outcome of one design.
TIME_LIMIT_ERRORS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded, DeadlineExceeded)
CONTROL_ERRORS: tuple[type[BaseException], ...] = (
    LeaseLost, *TIME_LIMIT_ERRORS, *INFRASTRUCTURE_ERRORS)


class RetryableError(Exception):
    """The attempt met an infrastructure error and released its job: deliver it again later."""


class Outcome(str, enum.Enum):
    """How one delivery of a job ended, seen from the runner."""

    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"  # a duplicate delivery: the job was not queued
    superseded = "superseded"  # the lease was lost: another attempt owns the job


#: Least time between two progress writes of one job, in seconds.
PROGRESS_WRITE_INTERVAL_S = 0.25

Handler = Callable[["JobContext"], None]
Writer = Callable[[Session], dict[str, Any]]


def in_task_deadline_s(settings: Settings) -> float:
    """Seconds a handler may run: the soft limit, and never more than 90 % of the hard one,
    so thread and solo pools (which ignore Celery's limits) keep the same budget and the
    failure is written before a hard kill."""
    return min(settings.job_soft_time_limit_s, 0.9 * settings.job_time_limit_s)


def worker_identity() -> str:
    """Who holds a lease: host and process, for people reading the job row."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ClaimedJob:
    """The inputs of a claimed job, read in the claiming transaction."""

    id: uuid.UUID
    kind: JobKind
    project_id: uuid.UUID
    campaign_id: uuid.UUID | None
    params: dict[str, Any]
    attempt: int
    token: str


class _Heartbeat(threading.Thread):
    """Refreshes the lease every ``interval_s`` until stopped; sets ``lost`` if it is gone.

    It stops refreshing once the hard time limit has passed: a hung attempt (e.g. stuck in a
    native call in a solo pool) must not keep its job forever, so its lease goes stale and the
    reaper requeues the job.
    """

    def __init__(self, job_id: uuid.UUID, token: str, *, interval_s: float,
                 give_up_at: float) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.token = job_id, token
        self.interval_s, self.give_up_at = interval_s, give_up_at
        self.lost = threading.Event()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            if time.monotonic() > self.give_up_at:
                log.warning("job %s: past its hard time limit; no longer heartbeating",
                            self.job_id)
                return
            try:
                with session_scope() as session:
                    held = job_rows.heartbeat(session, self.job_id, self.token)
            except Exception as exc:  # noqa: BLE001 - an outage: the fence will decide
                log.warning("job %s: heartbeat failed: %s", self.job_id, exc)
                continue
            if not held:
                log.warning("job %s: lease lost (reaped or finished elsewhere)", self.job_id)
                self.lost.set()
                return

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout=self.interval_s + 10.0)


@dataclass
class JobContext:
    """What a handler sees of its job: inputs, progress reporting and the fenced commit.

    Handlers compute outside any transaction, call :meth:`progress` between steps (it raises
    when the attempt must stop) and write everything through :meth:`commit_results`.
    """

    job: ClaimedJob
    settings: Settings
    deadline: float
    lease_lost: threading.Event
    committed: bool = False
    result: dict[str, Any] | None = None
    _followups: list[tuple[uuid.UUID, JobKind, str]] = field(default_factory=list)
    _device: Any = None
    _last_write: float = -math.inf

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def campaign_id(self) -> uuid.UUID:
        """The job's campaign; a campaign job without one fails with a readable error."""
        if self.job.campaign_id is None:
            raise InvalidInput(f"a {self.job.kind.value} job needs a campaign",
                               field="campaign_id")
        return self.job.campaign_id

    def check(self) -> None:
        """Raise if this attempt must stop: lease lost, or the in-task deadline passed.

        Raises:
            LeaseLost: another attempt owns the job now.
            DeadlineExceeded: the job ran past its time budget.
        """
        if self.lease_lost.is_set():
            raise LeaseLost(f"job {self.job.id}: this attempt no longer holds the lease")
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded(
                f"the job ran past its time limit of {in_task_deadline_s(self.settings):g} s")

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in ``[0, 1]`` (also a heartbeat), after checking the attempt may go on.

        The checks run on every call; the write at most every :data:`PROGRESS_WRITE_INTERVAL_S`
        (and always for the last step), so a handler may report per design of a large batch
        without a database round trip each time. A database hiccup here is logged, not raised:
        progress is informative, and the fenced commit is where an outage matters.
        """
        self.check()
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < PROGRESS_WRITE_INTERVAL_S:
            return
        self._last_write = now
        try:
            with session_scope() as session:
                held = job_rows.heartbeat(session, self.job.id, self.job.token,
                                          progress=fraction, message=message or None)
        except INFRASTRUCTURE_ERRORS as exc:
            log.warning("job %s: could not record progress: %s", self.job.id, exc)
            return
        if not held:
            self.lease_lost.set()
            self.check()

    @property
    def device(self) -> torch.device:
        """The torch device for this job, chosen on first use inside this (task) process."""
        if self._device is None:
            from workers.device import select_device

            self._device = select_device(self.settings.device)
        return self._device

    def submit_followup(self, session: Session, *, kind: JobKind, params: dict[str, Any],
                        strategy_kind: str | None = None) -> Job:
        """Create a child job in the results transaction; it is published after the commit."""
        job = submit(session, project_id=self.job.project_id, kind=kind,
                     campaign_id=self.job.campaign_id, params=params, parent_id=self.job.id,
                     strategy_kind=strategy_kind)
        self._followups.append((job.id, kind, job.queue))
        return job

    def commit_results(self, write: Writer) -> dict[str, Any]:
        """Fence, write, succeed: one transaction, so a superseded attempt never writes.

        Args:
            write: Stores the results in the session it is given (flush, never commit) and
                returns the job's JSON ``result``. It may be called again after an error it
                raised (e.g. an optimistic-lock race), with a fresh transaction.

        Raises:
            LeaseLost: the attempt was superseded; nothing was written.
        """
        if self.lease_lost.is_set():
            raise LeaseLost(f"job {self.job.id}: this attempt no longer holds the lease")
        self._followups = []
        with session_scope() as session:
            job_rows.fence(session, self.job.id, self.job.token)
            # JSONB has no NaN/inf: an undefined number in a result is stored as null
            result = finite_json(write(session))[0]
            job_rows.succeed(session, self.job.id, self.job.token, result)
        self.committed, self.result = True, result
        if self._followups:
            publish_jobs(self._followups)
        return result


def run_job(job_id: uuid.UUID | str, handler: Handler, *, kind: JobKind | None = None,
            owner: str | None = None, settings: Settings | None = None) -> Outcome:
    """Run one delivery of a job through ``handler`` under the lease protocol.

    ``kind``, when given, is the kind of job the handler is for: a job of another kind sent to
    this task (a publishing bug) fails with a readable error instead of running the wrong code.

    Raises:
        RetryableError: an infrastructure error; the job was released (or could not be, and
            the reaper will recover it). The caller (a Celery task) retries with backoff.
    """
    settings = settings or get_settings()
    started = time.monotonic()
    job = _claim(uuid.UUID(str(job_id)), owner or worker_identity())
    if job is None:
        return Outcome.skipped
    heart = _Heartbeat(job.id, job.token, interval_s=settings.heartbeat_interval_s,
                       give_up_at=started + settings.job_time_limit_s)
    ctx = JobContext(job=job, settings=settings, lease_lost=heart.lost,
                     deadline=started + in_task_deadline_s(settings))
    heart.start()
    try:
        if kind is not None and job.kind != kind:
            return _fail(ctx, error_payload(InvalidInput(
                f"a {job.kind.value} job was delivered to the {kind.value} task", field="kind")))
        return _run_handler(ctx, handler)
    finally:
        heart.stop()


def _claim(job_id: uuid.UUID, owner: str) -> ClaimedJob | None:
    """Claim the job; ``None`` (logged) for a duplicate delivery or a job that is gone."""
    try:
        with session_scope() as session:
            token = job_rows.claim(session, job_id, owner)
            row = session.get(Job, job_id)
            if token is None or row is None:
                status = row.status.value if row is not None else "missing"
                log.info("job %s is %s, not queued: duplicate delivery dropped", job_id, status)
                return None
            return ClaimedJob(id=row.id, kind=row.kind, project_id=row.project_id,
                              campaign_id=row.campaign_id, params=dict(row.params),
                              attempt=row.attempts, token=token)
    except INFRASTRUCTURE_ERRORS as exc:
        raise RetryableError(f"could not claim job {job_id}: {exc}") from exc


def _run_handler(ctx: JobContext, handler: Handler) -> Outcome:
    """Apply the error policy of the module docstring around one handler call."""
    job_id = ctx.job.id
    log.info("job %s (%s) attempt %d started", job_id, ctx.job.kind.value, ctx.job.attempt)
    try:
        handler(ctx)
        if not ctx.committed:
            ctx.commit_results(lambda _session: {})
    except LeaseLost:
        log.warning("job %s: attempt %d superseded; its results were not written",
                    job_id, ctx.job.attempt)
        return Outcome.superseded
    except TIME_LIMIT_ERRORS as exc:
        return _fail(ctx, {"type": "TimeLimitExceeded", "category": "time_limit",
                           "message": _time_limit_message(ctx.settings, exc)})
    except INFRASTRUCTURE_ERRORS as exc:
        if _release(ctx, f"{type(exc).__name__}: {exc}") == JobStatus.failed:
            return Outcome.failed  # that was its last attempt
        raise RetryableError(f"job {job_id}: infrastructure error: {exc}") from exc
    except Exception as exc:  # the policy: any other handler error fails the job
        log.warning("job %s failed: %s", job_id, exc, exc_info=_is_unexpected(exc))
        return _fail(ctx, error_payload(exc))
    log.info("job %s succeeded", job_id)
    return Outcome.succeeded


def _time_limit_message(settings: Settings, exc: BaseException) -> str:
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    return f"the job ran past its soft time limit of {settings.job_soft_time_limit_s:g} s"


def _is_unexpected(exc: BaseException) -> bool:
    return not isinstance(exc, ScienceError | ProblemError | DesignloopError)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The readable, JSON-safe error stored on a failed job."""
    if isinstance(exc, ScienceError):
        category, message, details = "science", exc.message, exc.details
    elif isinstance(exc, ProblemError):
        category, message, details = "problem", str(exc), None
    elif isinstance(exc, DesignloopError):
        category, message, details = exc.code, exc.message, exc.details
    else:
        category, message, details = "internal", str(exc) or repr(exc), None
    payload: dict[str, Any] = {"type": type(exc).__name__, "category": category,
                               "message": message[:2000]}
    if details:
        payload["details"] = json.loads(json.dumps(details, default=str))
    return payload


def _fail(ctx: JobContext, error: dict[str, Any]) -> Outcome:
    """Record the failure, unless the attempt was superseded meanwhile."""
    try:
        with session_scope() as session:
            job_rows.fail(session, ctx.job.id, ctx.job.token, error)
    except LeaseLost:
        log.warning("job %s: superseded before its failure could be recorded", ctx.job.id)
        return Outcome.superseded
    except INFRASTRUCTURE_ERRORS as exc:
        # The lease goes stale without heartbeats; the reaper requeues the job.
        log.error("job %s: could not record its failure (%s); the reaper will recover it",
                  ctx.job.id, exc)
    return Outcome.failed


def _release(ctx: JobContext, reason: str) -> JobStatus | None:
    """Hand the job back after an infrastructure error, if the database lets us; the job's
    new status (``None`` when unknown: lease lost, or the database is still down)."""
    try:
        with session_scope() as session:
            status = job_rows.release(session, ctx.job.id, ctx.job.token, reason)
    except Exception as exc:  # noqa: BLE001 - still down: the stale lease is the fallback
        log.error("job %s: could not release (%s); the reaper will requeue it", ctx.job.id, exc)
        return None
    log.warning("job %s released (%s): %s", ctx.job.id,
                status.value if status else "lease already lost", reason)
    return status
