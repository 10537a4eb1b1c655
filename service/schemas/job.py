"""Job schemas: what a client polls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from service.enums import JobKind, JobStatus
from service.schemas.base import ReadModel


class JobRead(ReadModel):
    id: uuid.UUID
    campaign_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    kind: JobKind
    queue: str
    status: JobStatus
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    progress: float
    message: str
    attempts: int
    max_attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    updated_at: dt.datetime
