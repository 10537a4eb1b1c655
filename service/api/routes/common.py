"""What every ``/v1`` route shares in the OpenAPI document: its error answers."""

from __future__ import annotations

from typing import Any

from service.schemas.base import ErrorBody

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key."},
    404: {"model": ErrorBody, "description": "Not found in the caller's project."},
    422: {"model": ErrorBody, "description": "Invalid input; `details` names each field."},
}
