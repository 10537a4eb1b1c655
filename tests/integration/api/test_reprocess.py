"""``/v1/reprocess``: choosing campaigns, validation, tenancy, cancel and resume, and the
parent's scheduling passes driven in this process (the worker tests run them in a worker)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.db.engine import session_scope
from service.db.tables import Campaign, Job, ReprocessItem
from service.enums import JobKind, JobStatus
from service.jobs import reap_once
from tests.integration.api.helpers import assert_error, campaign_body
from tests.unit.workers.factories import age_publication
from workers.handlers import reprocess, suggest
from workers.runtime import Outcome, run_job

Published = list[tuple[uuid.UUID, JobKind, str]]


def _campaigns(client: TestClient, headers: dict[str, str], n: int,
               **changes: Any) -> list[str]:
    ids = []
    for i in range(n):
        response = client.post("/v1/campaigns", headers=headers,
                               json=campaign_body(name=f"c{i}", **changes))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _job(job_id: str | uuid.UUID) -> Job:
    with session_scope() as session:
        job = session.get(Job, uuid.UUID(str(job_id)))
        assert job is not None
        session.expunge(job)
        return job


def test_a_run_takes_the_chosen_campaigns_and_queues_one_parent(
        client: TestClient, headers: dict[str, str], published: Published) -> None:
    ids = _campaigns(client, headers, 3)
    response = client.post("/v1/reprocess", headers=headers,
                           json={"campaign_ids": ids[:2], "count": 2, "max_in_flight": 1})
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["Location"] == f"/v1/reprocess/{run['id']}"
    assert run["status"] == "running" and run["max_in_flight"] == 1 and run["count"] == 2
    assert [i["campaign_id"] for i in run["items"]] == ids[:2]
    assert {i["status"] for i in run["items"]} == {"waiting"}
    assert run["job"]["kind"] == "reprocess" and run["job"]["status"] == "queued"
    assert published == [(uuid.UUID(run["job"]["id"]), JobKind.reprocess, run["job"]["queue"])]
    assert client.get(f"/v1/reprocess/{run['id']}", headers=headers).json()["counts"][
        "waiting"] == 2


def test_selection_by_problem_and_creation_window(
        client: TestClient, headers: dict[str, str]) -> None:
    custom = _campaigns(client, headers, 2)
    branin = client.post("/v1/campaigns", headers=headers,
                         json={"name": "b", "problem": "branin"}).json()["id"]
    by_problem = client.post("/v1/reprocess", headers=headers, json={"problem": "branin"})
    assert [i["campaign_id"] for i in by_problem.json()["items"]] == [branin]
    with session_scope() as session:  # the first custom campaign is a week old
        session.execute(update(Campaign).where(Campaign.id == uuid.UUID(custom[0])).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=7)))
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    recent = client.post("/v1/reprocess", headers=headers, json={"created_after": since})
    assert [i["campaign_id"] for i in recent.json()["items"]] == [custom[1], branin]
    everything = client.post("/v1/reprocess", headers=headers, json={"all": True})
    assert len(everything.json()["items"]) == 3


@pytest.mark.parametrize(("body", "field"), [
    ({}, "campaign_ids"),
    ({"all": True, "problem": "branin"}, "all"),
    ({"all": True, "count": 0}, "count"),
    ({"all": True, "max_in_flight": 0}, "max_in_flight"),
    ({"all": True, "strategy": {"kind": "guesswork"}}, "strategy"),
    ({"all": True, "strategy": {"kind": "space_filling", "options": {"x": 1}}}, "strategy"),
    ({"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"},
     "created_before"),
    ({"problem": "no-such-problem"}, "problem"),
])
def test_invalid_requests_name_the_field(client: TestClient, headers: dict[str, str],
                                         body: dict[str, Any], field: str) -> None:
    _campaigns(client, headers, 1)
    assert_error(client.post("/v1/reprocess", headers=headers, json=body), 422, field)


def test_count_is_bounded_by_the_service(client: TestClient, headers: dict[str, str]) -> None:
    _campaigns(client, headers, 1)
    assert_error(client.post("/v1/reprocess", headers=headers,
                             json={"all": True, "count": 10_000}), 422, "count")


def test_another_projects_campaigns_and_runs_are_not_found(
        client: TestClient, headers: dict[str, str], other_headers: dict[str, str]) -> None:
    mine = _campaigns(client, headers, 1)
    theirs = _campaigns(client, other_headers, 1)
    assert_error(client.post("/v1/reprocess", headers=headers,
                             json={"campaign_ids": [*mine, *theirs]}), 404)
    run = client.post("/v1/reprocess", headers=headers, json={"all": True}).json()
    assert [i["campaign_id"] for i in run["items"]] == mine  # "all" is all of mine
    for path in ("", "/cancel", "/resume"):
        method = client.get if not path else client.post
        assert_error(method(f"/v1/reprocess/{run['id']}{path}", headers=other_headers), 404)
    assert client.get("/v1/reprocess", headers=other_headers).json()["items"] == []


def _pass(job_id: str | uuid.UUID) -> Outcome:
    return run_job(job_id, reprocess.handle, kind=JobKind.reprocess)


def _children(run_id: str) -> dict[str, str | None]:
    with session_scope() as session:
        return {str(c): str(j) if j else None for c, j in session.execute(
            select(ReprocessItem.campaign_id, ReprocessItem.job_id).where(
                ReprocessItem.run_id == uuid.UUID(run_id)))}


def _run_queued_children(run_id: str) -> int:
    """Run every queued child of the run here, as a worker would; how many ran."""
    ran = 0
    for job_id in _children(run_id).values():
        if job_id and _job(job_id).status == JobStatus.queued:
            assert run_job(job_id, suggest.handle, kind=JobKind.suggest) == Outcome.succeeded
            ran += 1
    return ran


def test_passes_schedule_within_the_bound_and_finish_with_reports(
        client: TestClient, headers: dict[str, str], published: Published) -> None:
    ids = _campaigns(client, headers, 3)
    run = client.post("/v1/reprocess", headers=headers, json={
        "campaign_ids": ids, "count": 2, "max_in_flight": 2}).json()
    parent = run["job"]["id"]

    assert _pass(parent) == Outcome.succeeded
    parked = _job(parent)
    assert parked.status == JobStatus.queued and parked.attempts == 0  # parked, not spent
    scheduled = [j for j in _children(run["id"]).values() if j]
    assert len(scheduled) == 2  # the bound
    assert {(k, q) for _, k, q in published[1:]} == {(JobKind.suggest, "cpu")}

    # A child finishes: its wake-up publishes the parked parent; the next pass schedules the
    # third campaign.
    assert run_job(scheduled[0], suggest.handle, kind=JobKind.suggest) == Outcome.succeeded
    reprocess.wake_parent(scheduled[0])
    assert published[-1][0] == uuid.UUID(parent)
    _pass(parent)
    scheduled = [j for j in _children(run["id"]).values() if j]
    assert len(scheduled) == 3
    _run_queued_children(run["id"])
    _pass(parent)

    done = client.get(f"/v1/reprocess/{run['id']}", headers=headers).json()
    assert done["status"] == "finished" and done["finished_at"] is not None
    assert done["job"]["status"] == "succeeded" and done["job"]["progress"] == 1.0
    assert done["counts"]["succeeded"] == 3
    for item in done["items"]:
        report = item["report"]
        assert report["suggestions"]["new"] == 2 and report["job_id"] == item["job_id"]
        assert report["strategy"] == "space_filling"
    tagged = client.get(f"/v1/campaigns/{ids[0]}/suggestions", headers=headers).json()["items"]
    assert len(tagged) == 2 and all(s["predictions"]["reprocess_run"] == run["id"]
                                    for s in tagged)


def test_cancel_stops_scheduling_and_resume_continues(
        client: TestClient, headers: dict[str, str], published: Published) -> None:
    ids = _campaigns(client, headers, 3)
    run = client.post("/v1/reprocess", headers=headers, json={
        "campaign_ids": ids, "count": 1, "max_in_flight": 1}).json()
    _pass(run["job"]["id"])
    first = next(j for j in _children(run["id"]).values() if j)

    cancelled = client.post(f"/v1/reprocess/{run['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["job"]["status"] == "cancelled"
    assert body["counts"] == {"waiting": 0, "scheduled": 0, "succeeded": 0, "failed": 0,
                              "cancelled": 3}
    assert _job(first).status == JobStatus.cancelled  # the queued child too
    assert_error(client.post(f"/v1/reprocess/{run['id']}/cancel", headers=headers), 409)
    assert _pass(run["job"]["id"]) == Outcome.skipped  # the old parent's message is dropped

    resumed = client.post(f"/v1/reprocess/{run['id']}/resume", headers=headers)
    assert resumed.status_code == 202, resumed.text
    new_parent = resumed.json()["job"]["id"]
    assert new_parent != run["job"]["id"] and resumed.json()["counts"]["waiting"] == 3
    assert published[-1][0] == uuid.UUID(new_parent)
    assert_error(client.post(f"/v1/reprocess/{run['id']}/resume", headers=headers), 409)
    for _ in range(3):  # one campaign per pass (max_in_flight 1)
        _pass(new_parent)
        assert _run_queued_children(run["id"]) == 1
    _pass(new_parent)
    done = client.get(f"/v1/reprocess/{run['id']}", headers=headers).json()
    assert done["status"] == "finished" and done["counts"]["succeeded"] == 3
    assert_error(client.post(f"/v1/reprocess/{run['id']}/resume", headers=headers), 409)


def test_a_missed_wake_up_is_repaired_by_the_reaper(
        client: TestClient, headers: dict[str, str], published: Published) -> None:
    """A child that ends without waking its parent (its worker died after the commit): the
    parked parent is republished by the reaper once ``republish_after_s`` has passed."""
    ids = _campaigns(client, headers, 1)
    run = client.post("/v1/reprocess", headers=headers,
                      json={"campaign_ids": ids, "count": 1}).json()
    parent = uuid.UUID(run["job"]["id"])
    _pass(parent)
    assert _run_queued_children(run["id"]) == 1  # no wake_parent call
    sent = len(published)
    assert reap_once().republish == []  # parked just now: not lost yet
    age_publication(parent, 10_000, created_too=False)
    assert (parent, "cpu") in reap_once().republish
    assert published[sent:] == [(parent, JobKind.reprocess, "cpu")]
    _pass(parent)
    done = client.get(f"/v1/reprocess/{run['id']}", headers=headers).json()
    assert done["status"] == "finished" and done["counts"]["succeeded"] == 1
