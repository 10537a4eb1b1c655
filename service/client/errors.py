"""Typed errors of the Python client: every failed call raises one of these.

An error answer of the API (``{"error": {"code", "message", "details"}}``) becomes an
:class:`ApiError` subclass chosen by its HTTP status, carrying the API's machine ``code``, its
``message`` and ``details`` (for a 422, the offending field as :attr:`ApiError.field`). A
service that cannot be reached at all (after the retries) is a :class:`TransportError`; a job
that ends badly while the client waits for it is a :class:`JobFailedError`.

Example:
    >>> try:                                                    # doctest: +SKIP
    ...     campaign.observe(parameters={"x1": 99.0, "x2": 1.0}, outcomes={...})
    ... except ValidationError as exc:
    ...     print(exc.code, exc.field, exc.message)
    invalid observations.0.parameters.x1 parameters.x1: 99.0 is outside [-5.0, 10.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from service.schemas.job import JobRead

# Parts of a request a validation error's `loc` may start with; not part of the field path.
_REQUEST_PARTS = {"body", "query", "header", "path", "cookie"}


class ClientError(Exception):
    """Base of every error the client raises."""


class TransportError(ClientError):
    """The service could not be reached or did not answer, even after the retries."""


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422's ``details``: where (``loc`` in the request) and what.

    ``row`` and ``column`` are set for the row-level errors of a CSV upload (``row`` counts
    the header as row 1, as a spreadsheet does).
    """

    loc: tuple[str | int, ...]
    message: str
    row: int | None = None
    column: str | None = None

    @property
    def field(self) -> str:
        """The offending field as a dotted path below the request part (``body``, ...)."""
        parts = list(self.loc)
        if parts and parts[0] in _REQUEST_PARTS:
            parts = parts[1:]
        return ".".join(str(p) for p in parts)


class ApiError(ClientError):
    """An error answer of the API.

    Attributes:
        status: The HTTP status (e.g. 422).
        code: The API's stable machine code (e.g. ``"invalid"``, ``"not_found"``).
        message: The API's human message.
        details: The API's structured details (for 422: a list of ``{"loc", "msg"}``).
        method: The request's method.
        url: The request's URL.
        headers: The response's headers (e.g. ``Retry-After``).
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None, *,
                 method: str = "", url: str = "",
                 headers: httpx.Headers | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.url = url
        self.headers = headers or httpx.Headers()

    @property
    def errors(self) -> list[FieldError]:
        """Each located entry of ``details`` (empty when the API named no field)."""
        entries = self.details if isinstance(self.details, list) else [self.details]
        found = []
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("loc"), list):
                found.append(FieldError(loc=tuple(entry["loc"]),
                                        message=str(entry.get("msg", "")),
                                        row=entry.get("row"), column=entry.get("column")))
        return found

    @property
    def field(self) -> str | None:
        """The first offending field as a dotted path (``observations.0.parameters.x``)."""
        errors = self.errors
        return errors[0].field if errors else None


class BadRequestError(ApiError):
    """400: the request could not be understood."""


class AuthError(ApiError):
    """401 or 403: a missing, invalid or revoked API key."""


class NotFoundError(ApiError):
    """404: no such resource in the caller's project (another project's ids answer this too)."""


class ConflictError(ApiError):
    """409: the resource changed (e.g. the suggestion is no longer pending), or a request with
    the same Idempotency-Key is still in flight."""


class PayloadTooLargeError(ApiError):
    """413: the request body is over the service's limit."""


class ValidationError(ApiError):
    """422: invalid input; :attr:`field` names the first offending field, :attr:`errors` all."""


class RateLimitedError(ApiError):
    """429: too many requests; the client already waited and retried as told."""


class ServerError(ApiError):
    """5xx: the service failed."""


class UnavailableError(ServerError):
    """503: a dependency of the service (database, broker) is down; retry later."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError, 401: AuthError, 403: AuthError, 404: NotFoundError,
    409: ConflictError, 413: PayloadTooLargeError, 422: ValidationError,
    429: RateLimitedError, 503: UnavailableError,
}


def error_class(status: int) -> type[ApiError]:
    """The exception class of an error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed error of an error answer; a body not in the API's shape (e.g. a proxy's HTML
    page) still gives the right class, with the start of the body as message."""
    code, message, details = f"http_{response.status_code}", "", None
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or "")
        details = error.get("details")
    if not message:
        message = response.text[:500].strip() or response.reason_phrase
    request = response.request
    return error_class(response.status_code)(
        response.status_code, code, message, details, method=request.method,
        url=str(request.url), headers=response.headers)


class JobFailedError(ClientError):
    """The job the client waited for failed or was cancelled; :attr:`job` is its last state."""

    def __init__(self, job: JobRead) -> None:
        reason = (job.error or {}).get("message") or job.message or job.status.value
        super().__init__(f"job {job.id} ({job.kind.value}) {job.status.value}: {reason}")
        self.job = job


class JobTimeoutError(ClientError):
    """The job did not finish within the client's wait; :attr:`job` is its last state (it
    goes on running in the service)."""

    def __init__(self, job: JobRead, timeout_s: float) -> None:
        super().__init__(f"job {job.id} still {job.status.value} after {timeout_s:g} s "
                         f"(progress {job.progress:.0%})")
        self.job = job
        self.timeout_s = timeout_s
