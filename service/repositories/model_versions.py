"""Model versions: the modelling workers create them (numbered per campaign, never
overwritten); the API lists them.

Like every repository, these functions take the campaign id only after the caller has checked
that the campaign belongs to its project (:func:`service.repositories.campaigns.get_campaign`).
The weights column is deferred, so listing never loads model weights.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.json_safety import finite_json, finite_metrics
from service.db.tables import ModelVersion
from service.repositories.pagination import paginate

#: The key a reprocessing run puts in the config of the model versions it makes (its run id);
#: see :mod:`service.repositories.reprocess`.
REPROCESS_TAG = "reprocess_run"


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


def create_model_version(session: Session, campaign_id: uuid.UUID, *, kind: str,
                         config: dict[str, Any], metrics: dict[str, Any],
                         weights: bytes | None, job_id: uuid.UUID | None) -> ModelVersion:
    """Store a trained model as the campaign's next version number.

    Called inside the job's fenced results transaction; two jobs of one campaign that race for
    the same number collide on the unique ``(campaign_id, number)`` and the loser recomputes.

    The metrics and config are made JSON-safe first (:func:`models.json_safety.finite_json`):
    a NaN or infinity left by a model is stored as ``null`` and its path listed under
    ``metrics["non_finite"]`` (PostgreSQL's JSONB would refuse the whole transaction).
    """
    metrics = finite_metrics(metrics)
    config, config_found = finite_json(config)
    if config_found:
        metrics["non_finite"] = {**metrics.get("non_finite", {}),
                                 **{f"config.{k}": v for k, v in config_found.items()}}
    number = (session.scalar(select(func.max(ModelVersion.number))
                             .where(ModelVersion.campaign_id == campaign_id)) or 0) + 1
    row = ModelVersion(campaign_id=campaign_id, number=number, kind=kind, config=config,
                       metrics=metrics, weights=weights, job_id=job_id)
    session.add(row)
    session.flush()
    return row


def latest_weights(session: Session, campaign_id: uuid.UUID, *, strategy: str
                   ) -> tuple[uuid.UUID, bytes | None, dict[str, Any]] | None:
    """The newest model version made by ``strategy`` in the live loop: its id, weights and
    configuration.

    Versions a reprocessing run made (tagged :data:`REPROCESS_TAG` in their config) are
    skipped: a later live round (or run) warm-starts from the live model, as it would have
    without the run.
    """
    rows = session.execute(
        select(ModelVersion.id, ModelVersion.config)
        .where(ModelVersion.campaign_id == campaign_id)
        .order_by(ModelVersion.number.desc())).all()
    for version_id, config in rows:
        if (config or {}).get("strategy") == strategy and REPROCESS_TAG not in (config or {}):
            weights = session.scalar(select(ModelVersion.weights)
                                     .where(ModelVersion.id == version_id))
            return version_id, weights, dict(config)
    return None
