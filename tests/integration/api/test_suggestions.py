"""Asking for suggestions (a committed, published job), listing and abandoning them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind
from tests.integration.api.helpers import DESIGN, add_suggestions, assert_error, stored


def _url(campaign: dict[str, Any]) -> str:
    return f"/v1/campaigns/{campaign['id']}/suggestions"


def test_request_answers_202_with_a_job_committed_then_published(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        published: list[tuple[uuid.UUID, JobKind, str]]) -> None:
    response = client.post(_url(campaign), json={"count": 4}, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert (job["kind"], job["status"], job["params"]) == ("suggest", "queued", {"count": 4})
    assert job["campaign_id"] == campaign["id"] and job["queue"] == "cpu"
    # The recorder checked the row was committed when its id was sent.
    assert published == [(uuid.UUID(job["id"]), JobKind.suggest, "cpu")]
    with session_scope() as session:
        row = session.get(Job, uuid.UUID(job["id"]))
        assert row is not None and row.publish_count == 1 and row.published_at is not None
    assert client.get(response.headers["location"], headers=headers).json()["id"] == job["id"]


def test_a_failed_publish_still_answers_202(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The job row is the truth: the reaper publishes what the API could not."""
    monkeypatch.setattr("service.jobs.publish", lambda *args: False)
    response = client.post(_url(campaign), json={"count": 1}, headers=headers)
    assert response.status_code == 202, response.text
    with session_scope() as session:
        row = session.get(Job, uuid.UUID(response.json()["id"]))
        assert row is not None and row.published_at is None


@pytest.mark.parametrize("body", [{"count": 0}, {"count": 10_000}, {"count": -1},
                                  {"count": "many"}, {"count": 2.5}, {}],
                         ids=["zero", "ten-thousand", "negative", "text", "fraction",
                              "missing"])
def test_bad_count_is_422_naming_count_and_queues_nothing(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        body: dict[str, Any]) -> None:
    assert_error(client.post(_url(campaign), json=body, headers=headers), 422, "body", "count")
    assert stored()["jobs"] == 0


def test_server_owned_fields_in_the_request_are_422(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    response = client.post(_url(campaign), json={"count": 1, "status": "succeeded"},
                           headers=headers)
    assert_error(response, 422, "status")
    assert stored()["jobs"] == 0


def test_list_filters_by_status_and_abandon_gives_a_suggestion_back(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    first, second = add_suggestions(campaign["id"], [DESIGN, {**DESIGN, "cycles": 4}])
    abandoned = client.post(f"{_url(campaign)}/{first}/abandon", headers=headers)
    assert abandoned.status_code == 200, abandoned.text
    assert abandoned.json()["status"] == "abandoned"

    def ids(status: str) -> list[str]:
        page = client.get(_url(campaign), params={"status": status}, headers=headers).json()
        return [s["id"] for s in page["items"]]

    assert ids("pending") == [str(second)]
    assert ids("abandoned") == [str(first)]
    assert ids("observed") == []
    # Only a pending suggestion can be abandoned.
    assert_error(client.post(f"{_url(campaign)}/{first}/abandon", headers=headers), 409)


def test_bad_status_filter_and_unknown_suggestion(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    assert_error(client.get(_url(campaign), params={"status": "lost"}, headers=headers), 422,
                 "query", "status")
    assert_error(client.post(f"{_url(campaign)}/{uuid.uuid4()}/abandon", headers=headers), 404)


def test_a_client_id_travels_with_the_job_and_one_suggestion_reads_alone(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    response = client.post(_url(campaign), json={"count": 2, "client_id": "robot-7"},
                           headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["params"] == {"count": 2, "client_id": "robot-7"}
    assert_error(client.post(_url(campaign), json={"count": 2, "client_id": ""},
                             headers=headers), 422, "body", "client_id")
    (first,) = add_suggestions(campaign["id"], [DESIGN])
    one = client.get(f"{_url(campaign)}/{first}", headers=headers)
    assert one.status_code == 200 and one.json()["id"] == str(first)
    assert one.json()["client_id"] is None
    assert_error(client.get(f"{_url(campaign)}/{uuid.uuid4()}", headers=headers), 404)
