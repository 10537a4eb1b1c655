"""Batch reprocessing: re-fit and re-suggest many campaigns as one run (see
:mod:`service.repositories.reprocess`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from service.api.deps import PageDep, ProjectDep, SessionDep, SettingsDep
from service.api.routes.common import ERROR_RESPONSES
from service.db.tables import Job, ReprocessRun
from service.jobs import publish_jobs
from service.repositories import reprocess as reprocess_rows
from service.schemas.base import Page
from service.schemas.job import JobRead
from service.schemas.reprocess import ReprocessCreate, ReprocessItemRead, ReprocessRead

router = APIRouter(prefix="/v1/reprocess", tags=["reprocess"], responses=ERROR_RESPONSES)

def read_run(session: Session, run: ReprocessRun, *, items: bool = True) -> ReprocessRead:
    """The run with its parent job, item counts and (with ``items``) every item."""
    read = ReprocessRead.model_validate(run)
    job = session.get(Job, run.job_id) if run.job_id else None
    read.job = JobRead.model_validate(job) if job is not None else None
    read.counts = reprocess_rows.count_items(session, run.id)
    if items:
        read.items = [ReprocessItemRead.model_validate(r)
                      for r in reprocess_rows.run_items(session, run.id)]
    return read


def _started(session: Session, run: ReprocessRun, job: Job, response: Response) -> ReprocessRead:
    read = read_run(session, run)
    session.commit()
    publish_jobs([(job.id, job.kind, job.queue)])
    response.headers["Location"] = f"/v1/reprocess/{run.id}"
    return read


@router.post("", status_code=202)
def create_run(body: ReprocessCreate, session: SessionDep, project_id: ProjectDep,
               settings: SettingsDep, response: Response) -> ReprocessRead:
    """Re-fit and re-suggest the chosen campaigns (``count`` designs each, with ``strategy``
    or each campaign's own), at most ``max_in_flight`` at once. New model versions and
    suggestions carry ``reprocess_run: <run id>``; nothing old is changed. A campaign that
    fails is reported and the others go on. Another project's campaign id answers 404."""
    run, job = reprocess_rows.create_run(session, project_id, body,
                                         max_in_flight=settings.reprocess_max_in_flight,
                                         max_count=settings.max_suggestion_count)
    return _started(session, run, job, response)


@router.get("")
def list_runs(session: SessionDep, project_id: ProjectDep,
              page: PageDep) -> Page[ReprocessRead]:
    rows, next_cursor = reprocess_rows.list_runs(session, project_id, limit=page.limit,
                                                 cursor=page.cursor)
    return Page[ReprocessRead](items=[read_run(session, r, items=False) for r in rows],
                               next_cursor=next_cursor)


@router.get("/{run_id}")
def get_run(run_id: uuid.UUID, session: SessionDep, project_id: ProjectDep,
            items: Annotated[bool, Query(description="Include every campaign's item and "
                                         "report.")] = True) -> ReprocessRead:
    """The run: status, parent job (progress), counts, and per campaign its report."""
    return read_run(session, reprocess_rows.get_run(session, project_id, run_id), items=items)


@router.post("/{run_id}/cancel", responses={409: {"description": "The run is not running."}})
def cancel_run(run_id: uuid.UUID, session: SessionDep, project_id: ProjectDep) -> ReprocessRead:
    """Stop scheduling: waiting campaigns and queued children are cancelled; running children
    finish."""
    run = reprocess_rows.cancel_run(session, reprocess_rows.get_run(session, project_id, run_id))
    return read_run(session, run)


@router.post("/{run_id}/resume", status_code=202, responses={
    409: {"description": "The run has finished, or is running."}})
def resume_run(run_id: uuid.UUID, session: SessionDep, project_id: ProjectDep,
               response: Response) -> ReprocessRead:
    """Continue a cancelled run (or one whose parent job failed) where it stopped."""
    run = reprocess_rows.get_run(session, project_id, run_id)
    job = reprocess_rows.resume_run(session, run)
    return _started(session, run, job, response)
