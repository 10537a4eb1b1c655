"""The API's routes, one module per resource; :data:`ROUTERS` is what the app mounts."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routes import (
    campaigns,
    export,
    health,
    imports,
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
    imports.router,
    jobs.router,
)
