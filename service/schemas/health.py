"""Health and readiness answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    """Every dependency the API needs to serve requests, and whether it answered in time."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, DependencyCheck]
