"""The body limit, driven as plain ASGI: what it reads, what it lets through, what it sends."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from service.api.limits import BodySizeLimit

LIMIT = 100


def _scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers or [],
            "query_string": b""}


class Client:
    """Feeds a body in chunks (forever, if asked) and records everything sent back."""

    def __init__(self, chunk: bytes, count: int | None) -> None:
        self.chunk, self.count, self.reads = chunk, count, 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.reads += 1
        more = self.count is None or self.reads < self.count
        return {"type": "http.request", "body": self.chunk, "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its length (or 400 if reading fails, as a
    framework's body parser does)."""
    size = 0
    try:
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
    except Exception:  # noqa: BLE001 - the framework's "error parsing the body"
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(size).encode()})


def _run(scope: Scope, client: Client, app: Any = reading_app) -> None:
    asyncio.run(BodySizeLimit(app, LIMIT)(scope, client.receive, client.send))


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    client = Client(b"x", count=1)
    called = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(True)

    _run(_scope([(b"content-length", b"101")]), client, app)
    assert client.status == 413 and client.reads == 0 and not called
    assert client.json["error"]["code"] == "payload_too_large"


def test_endless_stream_stops_at_the_first_chunk_past_the_limit() -> None:
    client = Client(b"x" * 30, count=None)
    _run(_scope(), client)
    assert client.reads == 4  # 120 bytes read: never more than one chunk past the limit
    assert client.status == 413
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]


def test_an_app_that_raises_on_the_cut_body_still_gets_413() -> None:
    client = Client(b"x" * 60, count=None)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            await receive()

    _run(_scope(), client, app)
    assert client.status == 413


def test_bodies_up_to_the_limit_pass_untouched() -> None:
    client = Client(b"x" * 25, count=4)
    _run(_scope(), client)
    assert (client.status, client.json) == (200, 100)


def test_other_scopes_pass_through() -> None:
    seen = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {}

    async def ignore(message: Message) -> None:
        return None

    asyncio.run(BodySizeLimit(app, LIMIT)({"type": "lifespan"}, nothing, ignore))
    assert seen == ["lifespan"]
