"""Submitting jobs and running the reaper: the same code for the API, the CLI and workers.

``submit`` adds the job row to the caller's transaction; ``publish_jobs`` sends the ids once
that transaction has committed (enqueue after commit: a worker must never receive an id whose
row it cannot see yet).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import get_settings
from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind
from service.queue import publish
from service.repositories import idempotency
from service.repositories import jobs as job_rows

log = logging.getLogger(__name__)

# A job published this many times without any worker claiming it fails for good.
MAX_PUBLISHES = 20

# Which queue each kind of work goes to: model fitting and design on GPU workers (a reprocess
# parent only schedules its children: light work).
HEAVY_KINDS = {JobKind.train}


def queue_for(kind: JobKind, strategy_kind: str | None = None) -> str:
    if kind in HEAVY_KINDS or (kind == JobKind.suggest and strategy_kind not in
                               (None, "space_filling")):
        return "gpu"
    return "cpu"


def submit(session: Session, *, project_id: uuid.UUID, kind: JobKind,
           campaign_id: uuid.UUID | None = None, params: dict[str, Any] | None = None,
           strategy_kind: str | None = None, parent_id: uuid.UUID | None = None) -> Job:
    return job_rows.create_job(session, project_id=project_id, kind=kind,
                               queue=queue_for(kind, strategy_kind), campaign_id=campaign_id,
                               params=params, max_attempts=get_settings().max_attempts,
                               parent_id=parent_id)


def publish_jobs(jobs: Iterable[tuple[uuid.UUID, JobKind, str]]) -> None:
    """Publish committed jobs and record which sends succeeded."""
    sent = [job_id for job_id, kind, queue in jobs if publish(job_id, kind, queue)]
    if sent:
        with session_scope() as session:
            job_rows.mark_published(session, sent)


def reap_once() -> job_rows.ReapReport:
    """One reaper pass over the whole database; publishes what it requeued or found lost.

    The pass stamps the jobs it will publish inside its own transaction, then publishes after
    the commit; a send that fails is only logged (the next pass after ``republish_after_s``
    sends it again), so a broker outage never blocks the requeueing itself.
    """
    settings = get_settings()
    with session_scope() as session:
        report = job_rows.reap(
            session, lease_timeout_s=settings.lease_timeout_s,
            republish_after_s=settings.republish_after_s,
            publish_grace_s=min(settings.republish_after_s, 10 * settings.heartbeat_interval_s),
            max_publishes=MAX_PUBLISHES)
        kinds = {job_id: kind for job_id, kind in session.execute(select(Job.id, Job.kind).where(
            Job.id.in_([job_id for job_id, _ in report.republish])))}
        # Idempotency keys are remembered for their TTL only; the reaper is the janitor.
        idempotency.purge_expired(session, dt.timedelta(hours=settings.idempotency_ttl_hours))
    if report.requeued or report.failed:
        log.warning("reaper: requeued %s, failed %s", report.requeued, report.failed)
    for job_id, queue in report.republish:
        if publish(job_id, kinds[job_id], queue):
            log.info("reaper: republished job %s to %s", job_id, queue)
    return report
