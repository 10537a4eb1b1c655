"""Every /v1 route needs a live API key: missing, wrong, malformed or revoked keys are 401."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.db.engine import session_scope
from service.db.tables import ApiKey
from tests.integration.api.helpers import CAMPAIGN, assert_error, stored


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer dl_000000000000_wrong",
    "Bearer not-a-key", "Bearer " + "dl_" + "x" * 500], ids=[
    "missing", "empty", "scheme-only", "blank-key", "basic-auth", "unknown-key",
    "malformed-key", "oversize-key"])
def test_missing_or_wrong_key_is_401_with_a_bearer_challenge(
        client: TestClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for response in (client.get("/v1/campaigns", headers=headers),
                     client.post("/v1/campaigns", json=CAMPAIGN, headers=headers),
                     client.get(f"/v1/jobs/{uuid.uuid4()}", headers=headers)):
        assert_error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert stored()["campaigns"] == 0


def test_key_with_a_nul_byte_is_401_not_500(client: TestClient,
                                             project_key: tuple[uuid.UUID, str]) -> None:
    key = project_key[1]
    broken = (key[:8] + "\x00" + key[8:]).encode()
    response = client.get("/v1/campaigns", headers={"Authorization": b"Bearer " + broken})
    assert_error(response, 401)


def test_a_right_key_for_the_wrong_secret_is_401(client: TestClient,
                                                  project_key: tuple[uuid.UUID, str]) -> None:
    prefix = project_key[1].rsplit("_", 1)[0]
    assert_error(client.get("/v1/campaigns", headers={
        "Authorization": f"Bearer {prefix}_{'A' * 43}"}), 401)


def test_a_revoked_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/v1/campaigns", headers=headers).status_code == 200
    with session_scope() as session:
        session.execute(update(ApiKey).values(revoked_at=dt.datetime.now(dt.UTC)))
    assert_error(client.get("/v1/campaigns", headers=headers), 401)


def test_health_and_docs_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "designloop"
