"""The whole campaign as one JSON document (see :mod:`service.schemas.export`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from service.api.deps import CampaignDep, SessionDep
from service.api.routes.common import ERROR_RESPONSES
from service.db.base import utcnow
from service.db.tables import Campaign, Suggestion
from service.repositories import model_versions as model_version_rows
from service.repositories import observations as observation_rows
from service.repositories import suggestions as suggestion_rows
from service.schemas.export import CampaignExport, ExportedCampaign, ExportedModelVersion
from service.schemas.observation import ObservationRead
from service.schemas.suggestion import SuggestionRead

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/export", tags=["campaigns"],
                   responses=ERROR_RESPONSES)

_BATCH = 1000


@router.get("")
def export_campaign(campaign: CampaignDep, session: SessionDep,
                    weights: Annotated[bool, Query(
                        description="Include each model version's weights (base64).")] = False,
                    ) -> CampaignExport:
    """Spec, seed, observations, suggestions and model version metrics (weights only with
    ``weights=true``), read in one transaction, so the document is a consistent snapshot."""
    return CampaignExport(
        exported_at=utcnow(),
        campaign=ExportedCampaign.model_validate(campaign),
        observations=[ObservationRead.model_validate(r)
                      for r in observation_rows.all_observations(session, campaign.id)],
        suggestions=[SuggestionRead.model_validate(r)
                     for r in _all_suggestions(session, campaign)],
        model_versions=[ExportedModelVersion.from_row(r, weights=weights)
                        for r in model_version_rows.all_model_versions(session, campaign.id)])


def _all_suggestions(session: Session, campaign: Campaign) -> list[Suggestion]:
    rows: list[Suggestion] = []
    cursor: str | None = None
    while True:
        page, cursor = suggestion_rows.list_suggestions(session, campaign.id, limit=_BATCH,
                                                        cursor=cursor)
        rows += page
        if cursor is None:
            return rows
