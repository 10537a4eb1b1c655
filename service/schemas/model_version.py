"""Model version schemas: what a client reads about a trained model (never its weights)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from service.schemas.base import ReadModel


class ModelVersionRead(ReadModel):
    """A trained model of a campaign with its metrics (e.g. cross-validated error,
    calibration). ``number`` counts up per campaign: a refit is a new version."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    number: int
    kind: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    job_id: uuid.UUID | None
    created_at: dt.datetime
