"""Model versions of a campaign, with their metrics (trained by the modelling workers)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import CampaignDep, PageDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.enums import JobKind
from service.jobs import publish_jobs, submit
from service.repositories import model_versions as model_version_rows
from service.schemas.base import Page
from service.schemas.job import JobRead
from service.schemas.model_version import ModelVersionRead, TrainModelRequest

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/models", tags=["models"],
                   responses=ERROR_RESPONSES)


@router.get("")
def list_model_versions(campaign: CampaignDep, session: SessionDep,
                        page: PageDep) -> Page[ModelVersionRead]:
    rows, next_cursor = model_version_rows.list_model_versions(
        session, campaign.id, limit=page.limit, cursor=page.cursor)
    return Page[ModelVersionRead](items=[ModelVersionRead.model_validate(r) for r in rows],
                                  next_cursor=next_cursor)


@router.post("", status_code=202)
def train_model_version(body: TrainModelRequest, campaign: CampaignDep, session: SessionDep,
                        response: Response) -> JobRead:
    """Queue a job that trains a model version of ``kind`` on the campaign's data now; poll
    the job at ``Location`` (its progress shows the training as it goes)."""
    job = submit(session, project_id=campaign.project_id, kind=JobKind.train,
                 campaign_id=campaign.id, params=body.model_dump())
    read = JobRead.model_validate(job)
    session.commit()
    publish_jobs([(job.id, job.kind, job.queue)])
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return read
