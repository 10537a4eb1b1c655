"""``Idempotency-Key`` on posted observations: replay, mismatch, in flight, expiry, scope."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.db.engine import session_scope
from service.db.tables import IdempotencyKey
from service.repositories import idempotency
from service.repositories.idempotency import request_hash
from tests.integration.api.helpers import (
    CAMPAIGN,
    assert_error,
    batch,
    observation,
    observations_url,
    stored,
)


def _with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_replay_returns_the_first_response_and_stores_once(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    first = client.post(observations_url(campaign), json=batch(), headers=_with_key(headers, "k-1"))
    assert first.status_code == 201, first.text
    # Same content, other formatting and key order: the same request.
    again = client.post(observations_url(campaign), headers={**_with_key(headers, "k-1"),
                                                 "Content-Type": "application/json"},
                        content=first.request.content.decode().replace(",", ", "))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert stored()["observations"] == 1


def test_reused_key_with_another_body_is_422(client: TestClient, headers: dict[str, str],
                                             campaign: dict[str, Any]) -> None:
    assert client.post(observations_url(campaign), json=batch(),
                       headers=_with_key(headers, "k-2")).status_code == 201
    before = stored()
    other = batch(observation({"temperature": 33.0}))
    response = client.post(observations_url(campaign), json=other, headers=_with_key(headers, "k-2"))
    assert_error(response, 422, "header", "Idempotency-Key")
    assert stored() == before


def test_key_while_the_first_request_is_in_flight_is_409(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        project_key: tuple[uuid.UUID, str]) -> None:
    url = observations_url(campaign)
    body = batch()
    with session_scope() as session:  # the first request has claimed the key, not finished
        digest = request_hash("POST", url, _canonical(body))
        assert idempotency.claim(session, project_key[0], "k-3", digest,
                                 ttl=dt.timedelta(hours=24),
                                 in_flight_timeout=dt.timedelta(minutes=5)) is None
    before = stored()
    response = client.post(url, json=body, headers=_with_key(headers, "k-3"))
    assert_error(response, 409)
    assert stored() == before


def test_a_failed_request_releases_its_key(client: TestClient, headers: dict[str, str],
                                           campaign: dict[str, Any]) -> None:
    bad = batch(observation({"temperature": 500.0}))
    assert client.post(observations_url(campaign), json=bad,
                       headers=_with_key(headers, "k-4")).status_code == 422
    assert stored()["idempotency_keys"] == 0
    fixed = client.post(observations_url(campaign), json=batch(), headers=_with_key(headers, "k-4"))
    assert fixed.status_code == 201, fixed.text


def test_an_expired_key_is_a_new_request(client: TestClient, headers: dict[str, str],
                                         campaign: dict[str, Any]) -> None:
    first = client.post(observations_url(campaign), json=batch(), headers=_with_key(headers, "k-5"))
    with session_scope() as session:
        session.execute(update(IdempotencyKey).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    second = client.post(observations_url(campaign), json=batch(), headers=_with_key(headers, "k-5"))
    assert second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert second.json() != first.json()
    assert stored()["observations"] == 2


def test_keys_are_scoped_to_the_project(client: TestClient, headers: dict[str, str],
                                        other_headers: dict[str, str],
                                        campaign: dict[str, Any]) -> None:
    other = client.post("/v1/campaigns", json=CAMPAIGN, headers=other_headers).json()
    assert client.post(observations_url(campaign), json=batch(),
                       headers=_with_key(headers, "shared")).status_code == 201
    response = client.post(observations_url(other), json=batch(), headers=_with_key(other_headers,
                                                                         "shared"))
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert stored()["observations"] == 2


@pytest.mark.parametrize("key", [b"", b"x" * 201, b"with space", "caf\u00e9".encode(),
                                 b"nul\x00byte"])
def test_malformed_key_is_422(client: TestClient, headers: dict[str, str],
                              campaign: dict[str, Any], key: bytes) -> None:
    response = client.post(observations_url(campaign), json=batch(),
                           headers={**headers, "Idempotency-Key": key})  # type: ignore[dict-item]
    assert_error(response, 422, "header", "Idempotency-Key")
    assert stored()["observations"] == 0


def _canonical(body: dict[str, Any]) -> bytes:
    """The digest input the route uses: the parsed batch, dumped."""
    from service.schemas.observation import ObservationBatch

    return ObservationBatch.model_validate(body).model_dump_json().encode()
