"""Model versions of a campaign, with their metrics (trained by the modelling workers)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import CampaignDep, PageDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.repositories import model_versions as model_version_rows
from service.schemas.base import Page
from service.schemas.model_version import ModelVersionRead

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/models", tags=["models"],
                   responses=ERROR_RESPONSES)


@router.get("")
def list_model_versions(campaign: CampaignDep, session: SessionDep,
                        page: PageDep) -> Page[ModelVersionRead]:
    rows, next_cursor = model_version_rows.list_model_versions(
        session, campaign.id, limit=page.limit, cursor=page.cursor)
    return Page[ModelVersionRead](items=[ModelVersionRead.model_validate(r) for r in rows],
                                  next_cursor=next_cursor)
