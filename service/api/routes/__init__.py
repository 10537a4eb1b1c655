"""The API's routes, one module per resource; :data:`ROUTERS` is what the app mounts."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routes import (
    campaigns,
    export,
    health,
    jobs,
    model_versions,
    observations,
    suggestions,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    campaigns.router,
    observations.router,
    suggestions.router,
    model_versions.router,
    export.router,
    jobs.router,
)
