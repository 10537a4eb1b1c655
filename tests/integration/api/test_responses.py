"""Every answer is strict JSON in the API's shapes: no NaN, errors in one form, 500s generic."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm.exc import StaleDataError

from service.api.app import create_app
from service.api.deps import ProjectDep, SessionDep
from service.config import Settings
from service.db.tables import Job
from service.enums import JobKind
from service.errors import Conflict
from service.repositories.campaigns import create_campaign
from service.schemas.campaign import CampaignCreate
from tests.integration.api.helpers import CAMPAIGN, assert_error, stored


class Metrics(BaseModel):
    rmse: float
    history: list[float]


@pytest.fixture
def probe_client(settings: Settings, db: str) -> Iterator[TestClient]:
    """The real app with a few extra routes that misbehave on purpose."""
    app: FastAPI = create_app(settings)

    @app.get("/probe/nan-dict")
    def nan_dict() -> dict[str, object]:
        return {"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}}

    @app.get("/probe/nan-model")
    def nan_model() -> Metrics:
        return Metrics(rmse=float("nan"), history=[0.5, float("inf")])

    @app.get("/probe/crash")
    def crash() -> None:
        raise RuntimeError("secret internals: postgres://user:pw@db")

    @app.get("/probe/stale")
    def stale() -> None:
        raise StaleDataError("version mismatch")

    @app.get("/probe/conflict")
    def conflict() -> None:
        raise Conflict("taken", details={"by": "someone"})

    @app.post("/probe/write-then-fail")
    def write_then_fail(session: SessionDep, project_id: ProjectDep) -> None:
        create_campaign(session, project_id, CampaignCreate.model_validate(CAMPAIGN))
        session.flush()
        raise Conflict("changed my mind")

    @app.post("/probe/commit-fails")
    def commit_fails(session: SessionDep, project_id: ProjectDep) -> dict[str, str]:
        # Violates a CHECK constraint, which only the commit (after the route) finds out.
        session.add(Job(project_id=project_id, kind=JobKind.suggest, queue="cpu",
                        progress=2.0))
        return {"status": "stored"}

    with TestClient(app) as client:
        yield client


def strict_json(text: str) -> object:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-JSON constant {token} in the response")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("path", ["/probe/nan-dict", "/probe/nan-model"])
def test_non_finite_floats_become_null(probe_client: TestClient, path: str) -> None:
    response = probe_client.get(path)
    assert response.status_code == 200
    body = strict_json(response.text)
    assert body in ({"a": None, "b": [1.0, None], "c": {"d": None}},
                    {"rmse": None, "history": [0.5, None]})


def test_an_unexpected_error_is_a_generic_500_and_logged(
        probe_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="service.api.errors"):
        response = probe_client.get("/probe/crash")
    error = assert_error(response, 500)
    assert error["code"] == "internal" and "secret" not in response.text
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_stale_data_is_409(probe_client: TestClient) -> None:
    assert assert_error(probe_client.get("/probe/stale"), 409)["code"] == "conflict"


def test_service_errors_keep_their_details(probe_client: TestClient) -> None:
    error = assert_error(probe_client.get("/probe/conflict"), 409)
    assert error == {"code": "conflict", "message": "taken", "details": {"by": "someone"}}


def test_framework_errors_use_the_same_shape(probe_client: TestClient) -> None:
    assert assert_error(probe_client.get("/no/such/route"), 404)["code"] == "not_found"
    response = probe_client.delete("/healthz")
    assert assert_error(response, 405)["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_a_failing_route_leaves_nothing_behind(probe_client: TestClient,
                                               headers: dict[str, str]) -> None:
    assert_error(probe_client.post("/probe/write-then-fail", headers=headers), 409)
    assert stored()["campaigns"] == 0


def test_the_commit_happens_before_the_response(probe_client: TestClient,
                                                headers: dict[str, str]) -> None:
    """A commit that fails is the client's error, never a 200 for effects not stored."""
    assert_error(probe_client.post("/probe/commit-fails", headers=headers), 500)
    assert stored()["jobs"] == 0
