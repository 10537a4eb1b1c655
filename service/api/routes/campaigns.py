"""Campaigns: create, list, read (with a summary of progress)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from service.api.deps import CampaignDep, PageDep, ProjectDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.db.tables import Campaign
from service.repositories import campaigns as campaign_rows
from service.schemas.base import Page
from service.schemas.campaign import CampaignCreate, CampaignRead
from service.schemas.space import Name

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], responses=ERROR_RESPONSES)


def read_with_summary(session: Session, campaign: Campaign) -> CampaignRead:
    read = CampaignRead.model_validate(campaign)
    read.summary = campaign_rows.summarize(session, campaign)
    return read


@router.post("", status_code=201)
def create_campaign(body: CampaignCreate, session: SessionDep, project_id: ProjectDep,
                    response: Response) -> CampaignRead:
    """Create a campaign; what the request leaves out comes from the problem's defaults."""
    campaign = campaign_rows.create_campaign(session, project_id, body)
    response.headers["Location"] = f"/v1/campaigns/{campaign.id}"
    return read_with_summary(session, campaign)


@router.get("")
def list_campaigns(session: SessionDep, project_id: ProjectDep, page: PageDep,
                   problem: Annotated[Name | None, Query(description="Only this problem's.")]
                   = None) -> Page[CampaignRead]:
    rows, next_cursor = campaign_rows.list_campaigns(session, project_id, limit=page.limit,
                                                     cursor=page.cursor, problem=problem)
    return Page[CampaignRead](items=[CampaignRead.model_validate(r) for r in rows],
                              next_cursor=next_cursor)


@router.get("/{campaign_id}")
def get_campaign(campaign: CampaignDep, session: SessionDep) -> CampaignRead:
    """The campaign with its summary: counts and the best feasible observation so far."""
    return read_with_summary(session, campaign)
