"""Running a POST under an ``Idempotency-Key``: a retried request is safe.

The protocol (storage in :mod:`service.repositories.idempotency`):

1. claim the key in its own committed transaction, so a concurrent duplicate sees the claim
   and answers 409 instead of doing the work twice;
2. do the request's effects and record the response in one transaction, so a replayed
   response always describes effects that exist;
3. if the request fails, forget the claim, so the client can fix the request and retry.

The same key with the same body replays the first response (status included); with another
body it is a 422. Keys are scoped to the project and expire after ``idempotency_ttl_hours``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy.orm import Session

from service.api.responses import SafeJSONResponse
from service.config import Settings
from service.repositories import idempotency as keys

log = logging.getLogger(__name__)

IdempotencyKeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Makes a retry of this request safe: the same key and body replay the first "
    "response. Printable ASCII, kept 24 hours per project.")]

Effects = Callable[[], tuple[int, dict[str, Any]]]


def run_idempotent(session: Session, settings: Settings, *, project_id: uuid.UUID,
                   key: str | None, digest: str, effects: Effects) -> SafeJSONResponse:
    """Run ``effects`` (which returns the status and JSON body to answer) at most once per key.

    ``session`` is the request's session; it is committed here (before the response is built),
    so the stored response and the effects land together or not at all.
    """
    if key is None:
        status, body = effects()
        return SafeJSONResponse(body, status_code=status)
    replay = keys.claim(session, project_id, key, digest,
                        ttl=dt.timedelta(hours=settings.idempotency_ttl_hours),
                        in_flight_timeout=dt.timedelta(
                            seconds=settings.idempotency_in_flight_seconds))
    session.commit()
    if replay is not None:
        return SafeJSONResponse(replay.body, status_code=replay.status,
                                headers={"Idempotent-Replayed": "true"})
    try:
        status, body = effects()
        keys.record(session, project_id, key, status, body)
        session.commit()
    except BaseException:
        session.rollback()
        _forget(session, project_id, key)
        raise
    return SafeJSONResponse(body, status_code=status)


def _forget(session: Session, project_id: uuid.UUID, key: str) -> None:
    try:
        keys.forget(session, project_id, key)
        session.commit()
    except Exception:  # the original error matters more; the claim expires on its own
        session.rollback()
        log.warning("could not release Idempotency-Key %r; it is retried after the in-flight "
                    "timeout", key, exc_info=True)
