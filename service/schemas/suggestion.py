"""Suggestion schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from service.enums import SuggestionStatus
from service.schemas.base import ReadModel, StrictModel


class SuggestionRequest(StrictModel):
    """Ask for ``count`` new designs.

    The upper limit is ``Settings.max_suggestion_count``, checked by the API (it is
    configuration, so it cannot live in this static schema).
    """

    count: int = Field(ge=1, description="How many new designs to propose (at most the "
                       "service's max_suggestion_count, 1000 by default).")


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
