"""A cursor walk returns every item exactly once, ties on created_at included."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.db.engine import session_scope
from service.db.tables import Campaign, Observation
from tests.integration.api.helpers import CAMPAIGN, batch, observation


def walk(client: TestClient, url: str, headers: dict[str, str], limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=headers).json()
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the walk does not end")


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_campaign_walk_returns_each_once_in_order(client: TestClient, headers: dict[str, str],
                                                  limit: int) -> None:
    ids = [client.post("/v1/campaigns", json=CAMPAIGN, headers=headers).json()["id"]
           for _ in range(7)]
    # Three of them share one timestamp: the id breaks the tie.
    same = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with session_scope() as session:
        session.execute(update(Campaign).where(Campaign.id.in_(
            [uuid.UUID(i) for i in ids[2:5]])).values(created_at=same))
    seen = walk(client, "/v1/campaigns", headers, limit)
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_observation_walk(client: TestClient, headers: dict[str, str],
                          campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}/observations"
    posted = client.post(url, headers=headers, json=batch(*[
        observation({"temperature": 20.0 + i}) for i in range(9)])).json()["observations"]
    with session_scope() as session:  # every row of a batch at one instant
        session.execute(update(Observation).values(
            created_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)).execution_options(
                synchronize_session=False))
    assert sorted(walk(client, url, headers, 2)) == sorted(o["id"] for o in posted)
