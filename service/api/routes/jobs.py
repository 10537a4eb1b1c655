"""Jobs: poll one, list them, cancel one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import PageDep, ProjectDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.enums import JobStatus
from service.repositories import jobs as job_rows
from service.schemas.base import Page
from service.schemas.job import JobRead

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("")
def list_jobs(session: SessionDep, project_id: ProjectDep, page: PageDep,
              campaign_id: Annotated[uuid.UUID | None, Query()] = None,
              status: Annotated[JobStatus | None, Query()] = None) -> Page[JobRead]:
    rows, next_cursor = job_rows.list_jobs(session, project_id, limit=page.limit,
                                           cursor=page.cursor, campaign_id=campaign_id,
                                           status=status)
    return Page[JobRead](items=[JobRead.model_validate(r) for r in rows],
                         next_cursor=next_cursor)


@router.get("/{job_id}")
def get_job(job_id: uuid.UUID, session: SessionDep, project_id: ProjectDep) -> JobRead:
    """Status, progress, timings and error of one job."""
    return JobRead.model_validate(job_rows.get_job(session, project_id, job_id))


@router.post("/{job_id}/cancel", responses={409: {"description": "The job has finished."}})
def cancel_job(job_id: uuid.UUID, session: SessionDep, project_id: ProjectDep) -> JobRead:
    """Cancel a queued or running job; a running attempt loses its lease at its next write."""
    job = job_rows.get_job(session, project_id, job_id)
    return JobRead.model_validate(job_rows.cancel(session, job))
