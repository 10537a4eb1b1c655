"""Listing a campaign's model versions with their metrics."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from service.db.engine import session_scope
from service.db.tables import ModelVersion
from service.enums import JobKind
from tests.integration.api.helpers import assert_error, stored


def add_model_version(campaign_id: str, number: int, metrics: dict[str, Any]) -> None:
    with session_scope() as session:
        session.add(ModelVersion(campaign_id=uuid.UUID(campaign_id), number=number, kind="gp",
                                 config={"kernel": "matern52"}, metrics=metrics,
                                 weights=b"\x00" * 1024))


def test_lists_versions_with_metrics_and_without_weights(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}/models"
    assert client.get(url, headers=headers).json() == {"items": [], "next_cursor": None}
    add_model_version(campaign["id"], 1, {"cv_rmse": 0.31})
    add_model_version(campaign["id"], 2, {"cv_rmse": 0.22, "calibration": 0.93})
    items = client.get(url, headers=headers).json()["items"]
    assert [(m["number"], m["kind"]) for m in items] == [(1, "gp"), (2, "gp")]
    assert items[1]["metrics"] == {"cv_rmse": 0.22, "calibration": 0.93}
    assert "weights" not in items[0]


def test_training_now_queues_a_train_job_and_refuses_unknown_kinds(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        published: list[tuple[uuid.UUID, JobKind, str]]) -> None:
    url = f"/v1/campaigns/{campaign['id']}/models"
    response = client.post(url, json={"kind": "gp"}, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["kind"], job["queue"], job["params"]) == ("train", "gpu",
                                                          {"kind": "gp", "options": {}})
    assert published == [(uuid.UUID(job["id"]), JobKind.train, "gpu")]
    assert_error(client.post(url, json={"kind": "forest"}, headers=headers), 422, "body",
                 "kind")
    assert_error(client.post(url, json={"kind": "gp", "weights": "x"}, headers=headers), 422,
                 "weights")
    assert stored()["jobs"] == 1
