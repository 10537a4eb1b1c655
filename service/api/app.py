"""The FastAPI application: ``uvicorn --factory service.api.app:create_app``.

This module only assembles: the body limit and the catch-all error middleware, the handler
table (:mod:`service.api.errors`), the routers (:mod:`service.api.routes`) and the NaN-safe
default response class. Nothing here (or below) imports torch: the API starts fast and runs on
machines without a GPU; problem plug-ins are read through their torch-free specs.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.middleware import Middleware

from models.problems.registry import problem_specs
from service.api.errors import CatchAllMiddleware, install_error_handlers
from service.api.limits import BodySizeLimit
from service.api.responses import SafeJSONResponse
from service.api.routes import ROUTERS, plots, reprocess
from service.config import Settings, get_settings
from service.queue import publisher


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up checks that would otherwise surface as the first request's 500.

    The problem registry is loaded (a broken or duplicate plug-in fails loudly), and the job
    publisher is built (a bad broker configuration fails here; the embedded broker's folders
    exist before ``/readyz`` looks for them). Neither connects to anything.
    """
    problem_specs()
    publisher()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application.

    Args:
        settings: governs this app's HTTP edge (body limit, page size, idempotency TTL,
            suggestion count) and the database its requests use; default: the process
            settings. The queue and job defaults are read by :mod:`service.jobs` through
            :func:`service.config.get_settings`, so a whole-process change goes through
            :func:`service.config.override_settings`.
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="designloop",
        version=_version(),
        description="Inverse design and discovery: campaigns, observations, suggestions.",
        docs_url="/docs",
        redoc_url=None,
        default_response_class=SafeJSONResponse,
        lifespan=lifespan,
        # Listed outermost first: the body limit sees every request before anything reads it.
        middleware=[Middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes),
                    Middleware(CatchAllMiddleware)],
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in (*ROUTERS, plots.router, reprocess.router):
        app.include_router(router)
    return app


def _version() -> str:
    try:
        return importlib.metadata.version("designloop")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
