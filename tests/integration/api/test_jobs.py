"""Polling, listing and cancelling jobs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.api.helpers import CAMPAIGN, assert_error


def _ask(client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> str:
    response = client.post(f"/v1/campaigns/{campaign['id']}/suggestions", json={"count": 2},
                           headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_list_filters_by_campaign_and_status(client: TestClient, headers: dict[str, str],
                                             campaign: dict[str, Any]) -> None:
    other = client.post("/v1/campaigns", json=CAMPAIGN, headers=headers).json()
    mine, theirs = _ask(client, headers, campaign), _ask(client, headers, other)
    client.post(f"/v1/jobs/{theirs}/cancel", headers=headers)

    def ids(**params: str) -> list[str]:
        return [j["id"] for j in client.get("/v1/jobs", params=params,
                                            headers=headers).json()["items"]]

    assert ids() == [mine, theirs]
    assert ids(campaign_id=campaign["id"]) == [mine]
    assert ids(status="cancelled") == [theirs]
    assert ids(status="queued", campaign_id=other["id"]) == []


def test_cancel_is_final(client: TestClient, headers: dict[str, str],
                         campaign: dict[str, Any]) -> None:
    job_id = _ask(client, headers, campaign)
    cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    assert_error(client.post(f"/v1/jobs/{job_id}/cancel", headers=headers), 409)
    assert client.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"] == "cancelled"


def test_unknown_job_and_bad_filters(client: TestClient, headers: dict[str, str]) -> None:
    assert_error(client.get(f"/v1/jobs/{uuid.uuid4()}", headers=headers), 404)
    assert_error(client.get("/v1/jobs", params={"status": "sleeping"}, headers=headers), 422,
                 "query", "status")
    assert_error(client.get("/v1/jobs", params={"campaign_id": "x"}, headers=headers), 422,
                 "query", "campaign_id")
