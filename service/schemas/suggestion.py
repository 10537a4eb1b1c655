"""Suggestion schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from service.schemas.base import ReadModel, StrictModel
from service.enums import SuggestionStatus


class SuggestionRequest(StrictModel):
    count: int = Field(ge=1, le=1000, description="How many new designs to propose.")


class SuggestionRead(ReadModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    job_id: uuid.UUID | None
    parameters: dict[str, Any]
    status: SuggestionStatus
    strategy: str
    predictions: dict[str, Any]
    model_version_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
