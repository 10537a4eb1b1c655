"""Errors to HTTP, in one place.

Code below the API raises :mod:`service.errors` exceptions and never ``HTTPException``; this
module maps each of them to its status through :data:`ERROR_STATUS`, and renders every error,
whatever its origin (our errors, request validation, routing, the ORM, a bug), in the one shape
of the public API::

    {"error": {"code": "invalid", "message": "...", "details": [{"loc": [...], "msg": "..."}]}}
"""

from __future__ import annotations

import http
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.responses import SafeJSONResponse
from service.errors import (
    BadRequest,
    Conflict,
    DesignloopError,
    InvalidInput,
    LeaseLost,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)

log = logging.getLogger(__name__)

# Every DesignloopError subclass resolves to a status through its MRO (so e.g. a Conflict
# subclass raised by a repository is a 409 without being listed); the base class alone is a bug.
ERROR_STATUS: dict[type[DesignloopError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    NotFound: 404,
    Conflict: 409,
    LeaseLost: 409,
    PayloadTooLarge: 413,
    InvalidInput: 422,
    RateLimited: 429,
    ServiceUnavailable: 503,
}

# Codes for errors raised by the framework itself (unknown route, wrong method, ...).
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
               503: "unavailable"}


def status_for(error: DesignloopError) -> int:
    """The HTTP status of a service error (500 for the bare base class)."""
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> SafeJSONResponse:
    """The one error shape of the public API."""
    return SafeJSONResponse({"error": {"code": code, "message": message, "details": details}},
                            status_code=status, headers=headers)


def internal_error_response() -> SafeJSONResponse:
    # Generic on purpose: an unexpected error's text may hold internals (SQL, paths, keys).
    return error_response(500, "internal", "an internal error occurred; it has been logged")


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DesignloopError)
    status = status_for(exc)
    if status == 500:
        log.error("unmapped service error on %s %s", request.method, request.url.path,
                  exc_info=exc)
        return internal_error_response()
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    details = _located(exc.details, exc.code) if isinstance(exc, InvalidInput) else exc.details
    return error_response(status, exc.code, exc.message, details, headers)


_REQUEST_PARTS = {"body", "query", "header", "path", "cookie"}


def _located(details: Any, code: str) -> Any:
    """Details of an :class:`InvalidInput` in the shape of request validation errors.

    Repositories name fields relative to the request body (they know no HTTP), so a ``loc``
    that does not start with a request part is prefixed with ``"body"``; every 422 detail then
    reads alike, whether pydantic or a repository found the problem.
    """
    if not isinstance(details, list):
        return details
    located = []
    for detail in details:
        loc = list(detail.get("loc") or [])
        if not loc or loc[0] not in _REQUEST_PARTS:
            loc = ["body", *loc]
        located.append({**detail, "loc": loc, "type": detail.get("type", code)})
    return located


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Each validation error as ``{"loc", "msg", "type"}``, the offending field in ``loc``.

    The raw ``input`` is left out: it may be huge, or hold the very NaN the error is about.
    Errors raised by :class:`service.schemas.base.StrictModel` for NUL bytes and non-finite
    numbers carry the path below the model in ``ctx["loc"]``; it is appended here.
    """
    details = []
    for error in errors:
        loc = list(error.get("loc", ()))
        ctx = error.get("ctx") or {}
        if isinstance(ctx.get("loc"), list):
            loc += ctx["loc"]
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        details.append({"loc": loc, "msg": message, "type": str(error.get("type", ""))})
    return details


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    if not details:
        return error_response(422, "invalid", "invalid request", details)
    where = ".".join(str(part) for part in details[0]["loc"])
    message = str(details[0]["msg"])
    return error_response(422, "invalid", f"{where}: {message}" if where else message, details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail) if isinstance(exc.detail, str) else http.HTTPStatus(
        exc.status_code).phrase
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"),
                          message, headers=dict(exc.headers or {}))


async def _stale_data(request: Request, exc: Exception) -> Response:
    # An optimistic lock lost a race (e.g. observe and abandon of one suggestion at once).
    return error_response(409, "conflict",
                          "the resource was changed by a concurrent request; read it and retry")


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "unavailable", "the database is unavailable; retry later",
                          headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handler table (unexpected errors: :class:`CatchAllMiddleware`)."""
    app.add_exception_handler(DesignloopError, _service_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(OperationalError, _database_unavailable)


class CatchAllMiddleware:
    """Answer any unexpected exception with the generic 500 body, and log it.

    Starlette's own last-resort handler renders the response but then re-raises, so the server
    logs the error twice and test clients see an exception instead of the 500 a client gets.
    This middleware sits inside it and ends the story: logged once, answered once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for a clean answer: let the server drop the connection
                raise
            await internal_error_response()(scope, receive, send)
