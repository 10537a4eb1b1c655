"""The service's error tree.

Every failure the API can answer with is one of these; :mod:`service.api.errors` maps each
class to its HTTP status in one table, so nothing deep in the code raises ``HTTPException``.
"""

from __future__ import annotations

from typing import Any


class DesignloopError(Exception):
    """Base of all service errors: a stable machine code, a human message, structured details."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(DesignloopError):
    code = "bad_request"


class Unauthorized(DesignloopError):
    code = "unauthorized"


class NotFound(DesignloopError):
    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found", details={"kind": kind, "id": str(ident)})


class Conflict(DesignloopError):
    code = "conflict"


class InvalidInput(DesignloopError):
    """A request that parsed but names something wrong; ``field`` is the JSON path to blame."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | list[str | int] | None = None) -> None:
        loc = field if isinstance(field, list) else ([field] if field else [])
        super().__init__(message, details=[{"loc": loc, "msg": message}])
        self.field = field


class PayloadTooLarge(DesignloopError):
    code = "payload_too_large"


class RateLimited(DesignloopError):
    code = "rate_limited"


class ServiceUnavailable(DesignloopError):
    code = "unavailable"


class LeaseLost(DesignloopError):
    """A worker attempt tried to write for a job whose lease it no longer holds."""

    code = "lease_lost"
