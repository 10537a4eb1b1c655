"""Idempotency keys: a retried POST with the same key and body replays the first response.

The claim of a key is committed on its own (so a concurrent duplicate sees it and gets 409),
while the stored response is written in the same transaction as the request's effects (so a
replayed response always describes effects that exist).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.db.tables import IdempotencyKey
from service.errors import Conflict, InvalidInput


def request_hash(method: str, path: str, body: bytes) -> str:
    """Hash of what makes two requests "the same": method, path and the JSON body's content."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True,
                               separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def claim(session: Session, project_id: uuid.UUID, key: str, digest: str, *,
          ttl: dt.timedelta, in_flight_timeout: dt.timedelta) -> Replay | None:
    """Claim ``key`` for a first request, or return the response to replay.

    Raises:
        InvalidInput: the key was used with another request body.
        Conflict: the first request with this key is still in flight.
    """
    now = utcnow()
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.project_id == project_id,
                                                      IdempotencyKey.key == key)
                         .with_for_update())
    if row is not None and row.created_at < now - ttl:
        session.delete(row)
        session.flush()
        row = None
    if row is None:
        session.add(IdempotencyKey(project_id=project_id, key=key, request_hash=digest,
                                   created_at=now))
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            raise Conflict("a request with this Idempotency-Key is in flight",
                           details={"loc": ["header", "Idempotency-Key"]}) from exc
        return None
    if row.request_hash != digest:
        raise InvalidInput("this Idempotency-Key was used with a different request body",
                           field=["header", "Idempotency-Key"])
    if row.response_status is not None:
        return Replay(status=row.response_status, body=row.response_body or {})
    if row.created_at < now - in_flight_timeout:  # the first attempt died: take it over
        row.created_at = now
        session.flush()
        return None
    raise Conflict("a request with this Idempotency-Key is in flight",
                   details={"loc": ["header", "Idempotency-Key"]})


def record(session: Session, project_id: uuid.UUID, key: str, status: int,
           body: dict[str, Any]) -> None:
    """Store the response, in the transaction of the request's effects."""
    session.execute(update(IdempotencyKey)
                    .where(IdempotencyKey.project_id == project_id, IdempotencyKey.key == key)
                    .values(response_status=status, response_body=body))


def forget(session: Session, project_id: uuid.UUID, key: str) -> None:
    """Drop an in-flight claim whose request failed, so the client can retry."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.project_id == project_id,
                                                 IdempotencyKey.key == key,
                                                 IdempotencyKey.response_status.is_(None)))


def purge_expired(session: Session, ttl: dt.timedelta) -> int:
    """Delete keys older than ``ttl``; how many went."""
    result = cast(CursorResult[Any], session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - ttl)))
    return result.rowcount or 0
