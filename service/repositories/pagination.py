"""Keyset pagination over ``(created_at, id)``: stable under concurrent inserts, O(limit)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from service.errors import InvalidInput

RowT = TypeVar("RowT")


def encode_cursor(created_at: dt.datetime, ident: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The position a cursor names.

    Raises:
        InvalidInput: the cursor was not issued by :func:`encode_cursor` (a naive timestamp
            would otherwise reach the database layer, which refuses it with a 500).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, ident = raw.split("|")
        created_at, row_id = dt.datetime.fromisoformat(stamp), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this service issued",
                           field=["query", "cursor"]) from exc
    if created_at.tzinfo is None:
        raise InvalidInput("cursor is not one this service issued", field=["query", "cursor"])
    return created_at, row_id


def paginate(session: Session, stmt: Select[Any], table: Any, *, limit: int,
             cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` ordered by ``(created_at, id)``, and the cursor of the next."""
    if cursor:
        created_at, ident = decode_cursor(cursor)
        stmt = stmt.where(or_(table.created_at > created_at,
                              and_(table.created_at == created_at, table.id > ident)))
    rows = list(session.scalars(stmt.order_by(table.created_at, table.id).limit(limit + 1)))
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.created_at, last.id)
    return rows, None
