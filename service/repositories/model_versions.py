"""Model versions: read-only here. The modelling workers create them; the API lists them.

Like every repository, these functions take the campaign id only after the caller has checked
that the campaign belongs to its project (:func:`service.repositories.campaigns.get_campaign`).
The weights column is deferred, so listing never loads model weights.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import ModelVersion
from service.repositories.pagination import paginate


def list_model_versions(session: Session, campaign_id: uuid.UUID, *, limit: int,
                        cursor: str | None) -> tuple[list[ModelVersion], str | None]:
    """One page of the campaign's model versions, oldest first."""
    stmt = select(ModelVersion).where(ModelVersion.campaign_id == campaign_id)
    return paginate(session, stmt, ModelVersion, limit=limit, cursor=cursor)


def all_model_versions(session: Session, campaign_id: uuid.UUID) -> list[ModelVersion]:
    """Every model version of the campaign, by number (for the export)."""
    return list(session.scalars(select(ModelVersion)
                                .where(ModelVersion.campaign_id == campaign_id)
                                .order_by(ModelVersion.number)))
