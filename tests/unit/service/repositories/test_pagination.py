"""Cursors: a round trip, and refusal of anything this service did not issue."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from service.errors import InvalidInput
from service.repositories.pagination import decode_cursor, encode_cursor


def test_round_trip() -> None:
    stamp, ident = dt.datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor(stamp, ident)) == (stamp, ident)


@pytest.mark.parametrize("raw", [b"garbage", b"2030-01-01T00:00:00|not-a-uuid",
                                 b"2030-01-01T00:00:00|" + str(uuid.uuid4()).encode(),
                                 b"\xff\xfe"])
def test_foreign_cursors_are_invalid_input_on_the_query(raw: bytes) -> None:
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor)
    assert info.value.field == ["query", "cursor"]
