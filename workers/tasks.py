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
from workers.handlers import evaluate, plot, reprocess, suggest, train
from workers.runtime import Handler, Outcome, RetryableError, run_job

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
    """Propose new designs for a campaign (:mod:`workers.handlers.suggest`).

    A suggest job that is a child of a reprocessing run wakes the run's parked parent when it
    ends, so the next campaign starts (:func:`workers.handlers.reprocess.wake_parent`).
    """
    outcome = _run(self, job_id, suggest.handle, JobKind.suggest)
    if outcome in (Outcome.succeeded.value, Outcome.failed.value):
        reprocess.wake_parent(job_id)
    return outcome


@app.task(name="designloop.evaluate", bind=True, acks_late=True)
def evaluate_task(self: Task, job_id: str) -> str:
    """Run the campaign's simulator on suggestions (:mod:`workers.handlers.evaluate`)."""
    return _run(self, job_id, evaluate.handle, JobKind.evaluate)


@app.task(name="designloop.reprocess", bind=True, acks_late=True)
def reprocess_task(self: Task, job_id: str) -> str:
    """One scheduling pass of a reprocessing run (:mod:`workers.handlers.reprocess`)."""
    return _run(self, job_id, reprocess.handle, JobKind.reprocess)


@app.task(name="designloop.plot", bind=True, acks_late=True)
def plot_task(self: Task, job_id: str) -> str:
    """Render a problem's own picture of a design (:mod:`workers.handlers.plot`)."""
    return _run(self, job_id, plot.handle, JobKind.plot)


@app.task(name="designloop.train", bind=True, acks_late=True)
def train_task(self: Task, job_id: str) -> str:
    """Train a model version of a campaign now (:mod:`workers.handlers.train`)."""
    return _run(self, job_id, train.handle, JobKind.train)
