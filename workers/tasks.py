"""Thin Celery tasks: a job id in, the runner, one handler. No science here.

Task names are explicit (``designloop.<kind>``): the API sends them by name without importing
this module. Time limits come from the app configuration (the settings' soft and hard
limits); ``acks_late`` with prefetch 1 means a long job's message is acknowledged only after
it ran, and the Job row's lease, not the broker, decides who runs it.
"""

from __future__ import annotations

import logging

from celery import Task

from service.config import get_settings
from service.enums import JobKind
from workers.app import app
from workers.handlers import evaluate, suggest
from workers.runtime import Handler, RetryableError, run_job

log = logging.getLogger(__name__)

#: Longest wait between retries after infrastructure errors, in seconds.
MAX_BACKOFF_S = 30.0


def retry_countdown(retries: int) -> float:
    """Exponential backoff: 1, 2, 4 ... seconds, capped at :data:`MAX_BACKOFF_S`."""
    return min(MAX_BACKOFF_S, 2.0 ** retries)


def _run(task: Task, job_id: str, handler: Handler, kind: JobKind) -> str:
    """Run the job; retry (bounded) after an infrastructure error.

    The retry bound is the job's attempt budget: past it the message is dropped and the Job
    row (released, or left to go stale) is recovered or failed by the reaper.
    """
    try:
        return run_job(job_id, handler, kind=kind).value
    except RetryableError as exc:
        retries = task.request.retries
        if retries >= get_settings().max_attempts:
            log.error("job %s: giving up retries (%s); the reaper takes over", job_id, exc)
            return "abandoned"
        log.warning("job %s: retrying in %g s: %s", job_id, retry_countdown(retries), exc)
        raise task.retry(countdown=retry_countdown(retries), max_retries=None) from exc


@app.task(name="designloop.suggest", bind=True, acks_late=True)
def suggest_task(self: Task, job_id: str) -> str:
    """Propose new designs for a campaign (:mod:`workers.handlers.suggest`)."""
    return _run(self, job_id, suggest.handle, JobKind.suggest)


@app.task(name="designloop.evaluate", bind=True, acks_late=True)
def evaluate_task(self: Task, job_id: str) -> str:
    """Run the campaign's simulator on suggestions (:mod:`workers.handlers.evaluate`)."""
    return _run(self, job_id, evaluate.handle, JobKind.evaluate)
