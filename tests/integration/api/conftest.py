"""Fixtures for the API tests: a client on a fresh app, two projects' keys, a campaign.

Publishing is recorded rather than sent (:func:`published`): no worker runs here, and a
message left on the shared broker would name a job that the next test's truncation deletes.
The workers' tests cover the real send.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import service.jobs
from service.api.app import create_app
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind
from service.repositories.projects import create_api_key, create_project
from tests.integration.api.helpers import CAMPAIGN, bearer


@pytest.fixture(autouse=True)
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[uuid.UUID, JobKind, str]]:
    """Every job id the code under test publishes, in order.

    The recorder checks what the broker cannot: that the job row was committed before its id
    was sent (it reads the row on a connection of its own, which sees committed rows only).
    """
    sent: list[tuple[uuid.UUID, JobKind, str]] = []

    def record(job_id: uuid.UUID, kind: JobKind, queue: str) -> bool:
        with session_scope() as session:
            assert session.get(Job, job_id) is not None, f"job {job_id} published before commit"
        sent.append((job_id, kind, queue))
        return True

    monkeypatch.setattr(service.jobs, "publish", record)
    return sent


@pytest.fixture
def app(settings: Settings, db: str) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # runs the app's start-up and shut-down
        yield test_client


@pytest.fixture
def headers(project_key: tuple[uuid.UUID, str]) -> dict[str, str]:
    """Project A's credentials."""
    return bearer(project_key[1])


@pytest.fixture
def other_headers(db: str) -> dict[str, str]:
    """Project B's credentials: B must never see or touch A's resources."""
    with session_scope() as session:
        project = create_project(session, f"other-{uuid.uuid4().hex[:8]}")
        _, key = create_api_key(session, project.id)
    return bearer(key)


@pytest.fixture
def campaign(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """A custom campaign of project A (every parameter kind, a composition, a constraint)."""
    response = client.post("/v1/campaigns", json=CAMPAIGN, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
