"""Nothing crosses projects: every route with a path parameter answers 404 to another
project's key, and changes nothing.

The walk goes over ``app.routes`` itself, so a new route is covered the day it is added; a
route whose path parameter or body this test does not know makes it fail, on purpose.
"""

from __future__ import annotations

import uuid
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.tables import Job, Suggestion
from service.enums import JobStatus, SuggestionStatus
from tests.integration.api.helpers import DESIGN, add_suggestions, batch, stored

# Valid bodies, so that the 404 is not masked by a 422.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/campaigns/{campaign_id}/observations"): batch(),
    ("POST", "/v1/campaigns/{campaign_id}/suggestions"): {"count": 1},
}
EXPECTED = {
    ("GET", "/v1/campaigns/{campaign_id}"),
    ("POST", "/v1/campaigns/{campaign_id}/observations"),
    ("GET", "/v1/campaigns/{campaign_id}/observations"),
    ("POST", "/v1/campaigns/{campaign_id}/suggestions"),
    ("GET", "/v1/campaigns/{campaign_id}/suggestions"),
    ("POST", "/v1/campaigns/{campaign_id}/suggestions/{suggestion_id}/abandon"),
    ("GET", "/v1/campaigns/{campaign_id}/models"),
    ("GET", "/v1/campaigns/{campaign_id}/export"),
    ("GET", "/v1/jobs/{job_id}"),
    ("POST", "/v1/jobs/{job_id}/cancel"),
    ("GET", "/v1/campaigns/{campaign_id}/plots/{kind}"),
    ("GET", "/v1/reprocess/{run_id}"),
    ("POST", "/v1/reprocess/{run_id}/cancel"),
    ("POST", "/v1/reprocess/{run_id}/resume"),
}


def routes_with_path_parameters(app: FastAPI) -> list[tuple[str, str]]:
    """``(method, path template)`` of every route taking a path parameter."""
    # FastAPI >= 0.13x keeps included routers lazily; flatten them if this one does.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(walk(app.routes)) if walk else list(app.routes)
    found = []
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods and "{" in path:
            found += [(method, path) for method in sorted(methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_route_hides_another_projects_resources(
        app: FastAPI, client: TestClient, headers: dict[str, str],
        other_headers: dict[str, str], campaign: dict[str, Any]) -> None:
    job = client.post(f"/v1/campaigns/{campaign['id']}/suggestions", json={"count": 1},
                      headers=headers).json()
    (suggestion_id,) = add_suggestions(campaign["id"], [DESIGN])
    run = client.post("/v1/reprocess", json={"campaign_ids": [campaign["id"]]},
                      headers=headers).json()
    ids = {"campaign_id": campaign["id"], "job_id": job["id"],
           "suggestion_id": str(suggestion_id), "run_id": run["id"], "kind": "convergence"}
    before = stored()

    walked = routes_with_path_parameters(app)
    assert EXPECTED <= set(walked), EXPECTED - set(walked)
    for method, template in walked:
        url = template.format(**ids)  # a KeyError here: teach this test the new parameter
        response = client.request(method, url, headers=other_headers,
                                  json=BODIES.get((method, template)))
        assert response.status_code == 404, (method, template, response.text)
        assert response.json()["error"]["code"] == "not_found"

    assert stored() == before
    with session_scope() as session:
        suggestion = session.get(Suggestion, suggestion_id)
        job_row = session.get(Job, uuid.UUID(job["id"]))
        assert suggestion is not None and suggestion.status == SuggestionStatus.pending
        assert job_row is not None and job_row.status == JobStatus.queued
    # The owner still sees everything.
    for method, template in walked:
        if method == "GET":
            assert client.get(template.format(**ids), headers=headers).status_code == 200


def test_lists_show_only_the_callers_project(
        client: TestClient, headers: dict[str, str], other_headers: dict[str, str],
        campaign: dict[str, Any]) -> None:
    client.post(f"/v1/campaigns/{campaign['id']}/suggestions", json={"count": 1},
                headers=headers)
    assert client.get("/v1/campaigns", headers=other_headers).json()["items"] == []
    assert client.get("/v1/jobs", headers=other_headers).json()["items"] == []
    client.post("/v1/reprocess", json={"all": True}, headers=headers)
    assert client.get("/v1/reprocess", headers=other_headers).json()["items"] == []
    assert client.get("/v1/jobs", params={"campaign_id": campaign["id"]},
                      headers=other_headers).json()["items"] == []
