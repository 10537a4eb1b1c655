"""Suggestion schemas."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from service.enums import SuggestionStatus
from service.schemas.base import ReadModel, StrictModel


class SuggestionRequest(StrictModel):
    """Ask for ``count`` new designs.

    The upper limit is ``Settings.max_suggestion_count``, checked by the API (it is
    configuration, so it cannot live in this static schema).
    """

    count: int = Field(ge=1, description="How many new designs to propose (at most the "
                       "service's max_suggestion_count, 1000 by default).")
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Who asks (a robot, a person). Asking again returns this "
        "client's still-pending suggestions first and computes only the rest.")


class SuggestionRead(ReadModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    job_id: uuid.UUID | None
    parameters: dict[str, Any]
    status: SuggestionStatus
    strategy: str
    client_id: str | None = None
    predictions: dict[str, Any]
    model_version_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
