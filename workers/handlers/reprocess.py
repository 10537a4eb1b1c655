"""The ``reprocess`` job: one short scheduling pass of a reprocessing run.

A pass never waits for its children (waiting would hold a worker slot, possibly the one the
children need, and run into the job's time limit). In one fenced transaction it settles the
items whose child finished (with their comparison report), queues children for waiting items
up to the run's ``max_in_flight``, and then either finishes the job (every item settled) or
*parks* it (back to ``queued``, not sent; see :mod:`service.repositories.reprocess`). After the
commit it publishes the new children, and wakes itself at once if a child finished while it
was working (its wake-up would otherwise have found the job running and been dropped).

A campaign that fails (its child fails) is settled as failed with the child's error; the
others go on. Params: ``run_id``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from service.db.engine import session_scope
from service.db.tables import ReprocessRun
from service.enums import ReprocessStatus
from service.errors import InvalidInput
from service.jobs import publish_jobs
from service.repositories import jobs as job_rows
from service.repositories import reprocess as reprocess_rows
from workers.runtime import JobContext

log = logging.getLogger(__name__)


def handle(ctx: JobContext) -> None:
    """One pass: settle, schedule, then finish or park (see the module docstring)."""
    run_id = _run_id(ctx.params)
    job = ctx.job
    with session_scope() as session:
        job_rows.fence(session, job.id, job.token)
        run = session.get(ReprocessRun, run_id)
        if run is None or run.project_id != job.project_id:
            raise InvalidInput(f"reprocess run {run_id} does not exist", field="run_id")
        if run.status != ReprocessStatus.running or run.job_id != job.id:
            # Cancelled, or superseded by a resume: this parent has nothing left to do.
            result = {"run_id": str(run.id), "superseded": True}
            job_rows.succeed(session, job.id, job.token, result)
            children: list[reprocess_rows.Published] = []
            done = True
        else:
            reprocess_rows.settle_finished(session, run)
            children = reprocess_rows.schedule(session, run, job.id)
            tally = reprocess_rows.count_items(session, run.id)
            total = sum(tally.model_dump().values())
            settled = tally.succeeded + tally.failed
            done = settled == total
            result = {"run_id": str(run.id), **tally.model_dump()}
            if done:
                reprocess_rows.finish_run(session, run)
                job_rows.succeed(session, job.id, job.token, result)
            else:
                reprocess_rows.park(session, job.id, job.token,
                                    progress=settled / max(total, 1),
                                    message=f"{settled}/{total} campaigns done, "
                                    f"{tally.scheduled} in flight")
    ctx.committed, ctx.result = True, result
    publish_jobs(children)
    if not done:
        _wake_if_missed(run_id)


def _wake_if_missed(run_id: uuid.UUID) -> None:
    """Publish the parked parent again if a child finished during the pass."""
    with session_scope() as session:
        missed = reprocess_rows.children_finished_meanwhile(session, run_id)
        wake = reprocess_rows.parked_parent(session, run_id) if missed else None
    if wake is not None:
        log.info("reprocess run %s: a child finished during the pass; next pass now", run_id)
        publish_jobs([wake])


def wake_parent(child_id: uuid.UUID | str) -> None:
    """After a suggest job ends: if it is a child of a running reprocess run whose parent is
    parked, publish the parent. Never raises (a missed wake-up is the reaper's to repair)."""
    try:
        with session_scope() as session:
            parent = reprocess_rows.parent_to_wake(session, uuid.UUID(str(child_id)))
        if parent is not None:
            publish_jobs([parent])
    except Exception as exc:  # noqa: BLE001 - the reaper republishes a parked parent
        log.warning("could not wake the reprocess parent of job %s: %s", child_id, exc)


def _run_id(params: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(params["run_id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidInput("a reprocess job needs a run_id", field="run_id") from exc
