"""A limit on request body size, enforced before and while the body is read.

Neither FastAPI nor the ASGI servers limit bodies by default, and a route reads its whole body
into memory before validating it. :class:`BodySizeLimit` therefore answers 413:

* before reading anything, when ``Content-Length`` announces more than the limit;
* while reading, for bodies without ``Content-Length`` (chunked transfer): it counts bytes as
  they arrive and stops the moment the count passes the limit, so at most one chunk beyond the
  limit is ever held in memory.

On the streaming path the application is already running when the limit is passed; whatever it
makes of the interrupted body (a 400 from the framework's parser, an error) is discarded and the
413 is sent instead, unless the application had already started its response.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_response


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the limit (a 413 wherever it lands)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def too_large_response(limit: int) -> ASGIApp:
    return error_response(413, "payload_too_large",
                          f"the request body is larger than {limit} bytes",
                          {"max_body_bytes": limit}, headers={"Connection": "close"})


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` of the request, or ``None`` when absent or malformed (servers
    refuse malformed ones before the application sees the request)."""
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class _CountingChannel:
    """The ``receive``/``send`` pair handed to the application for one request."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.response_started = False

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge(self.limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded and not self.response_started:
            return  # the application's answer to a truncated body; the 413 replaces it
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)


class BodySizeLimit:
    """Pure ASGI middleware: 413 for bodies over ``max_body_bytes`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None and length > self.max_body_bytes:
            await too_large_response(self.max_body_bytes)(scope, receive, send)
            return
        channel = _CountingChannel(receive, send, self.max_body_bytes)
        try:
            await self.app(scope, channel.receive, channel.send)
        except Exception:
            if not channel.exceeded or channel.response_started:
                raise  # not ours, or too late to answer 413: the server drops the connection
        if channel.exceeded and not channel.response_started:
            await too_large_response(self.max_body_bytes)(scope, receive, send)
