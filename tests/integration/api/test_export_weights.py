"""``GET /v1/campaigns/{id}/export?weights=true``: model weights travel in base64, and
export -> import -> export gives the same document (ids mapped, jobs dropped, new dates)."""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from service.db.engine import session_scope
from service.db.tables import ModelVersion, Suggestion
from tests.integration.api.helpers import DESIGN, add_suggestions, batch, observation

ID_FIELDS = ("id", "campaign_id", "suggestion_id", "model_version_id")
WEIGHTS = os.urandom(3000) + b"\x00\xff\n"  # arbitrary bytes, not text


def _campaign_with_models(client: TestClient, headers: dict[str, str],
                          campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}"
    assert client.post(f"{url}/observations", headers=headers, json=batch(
        observation(noise_sd={"yield": 0.1}))).status_code == 201
    [suggested] = add_suggestions(campaign["id"], [{**DESIGN, "cycles": 5}])
    with session_scope() as session:
        for number, weights in ((1, WEIGHTS), (2, None)):
            session.add(ModelVersion(campaign_id=uuid.UUID(campaign["id"]), number=number,
                                     kind="gp", config={"n": number},
                                     metrics={"quality": {"yield": {"rmse": 0.1 * number}}},
                                     weights=weights))
        session.flush()
        first = session.scalar(select(ModelVersion.id).where(ModelVersion.number == 1))
        session.execute(update(Suggestion).where(Suggestion.id == suggested)
                        .values(model_version_id=first))


def _mapped(document: dict[str, Any], ids: dict[str, Any], copy: dict[str, Any]
            ) -> dict[str, Any]:
    """``document`` as its import must export: ids mapped, no jobs, the copy's own dates."""
    mapping = {old: new for kind in ("observations", "suggestions", "model_versions")
               for old, new in ids[kind].items()}
    mapping[ids["source_campaign_id"]] = ids["campaign"]["id"]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (mapping[v] if k in ID_FIELDS and v is not None else
                        None if k == "job_id" else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = walk(document)
    out["exported_at"] = copy["exported_at"]
    out["campaign"]["created_at"] = copy["campaign"]["created_at"]
    return out


def test_weights_round_trip(client: TestClient, headers: dict[str, str],
                            other_headers: dict[str, str], campaign: dict[str, Any]) -> None:
    _campaign_with_models(client, headers, campaign)
    url = f"/v1/campaigns/{campaign['id']}/export"
    plain = client.get(url, headers=headers).json()
    assert [m["weights"] for m in plain["model_versions"]] == [None, None]

    document = client.get(f"{url}?weights=true", headers=headers).json()
    first, second = document["model_versions"]
    assert base64.b64decode(first["weights"], validate=True) == WEIGHTS
    assert second["weights"] is None

    imported = client.post("/v1/campaigns/import", headers=other_headers, json=document)
    assert imported.status_code == 201, imported.text
    ids = imported.json()
    new_id = ids["campaign"]["id"]
    with session_scope() as session:
        stored = session.scalars(select(ModelVersion).options(undefer(ModelVersion.weights))
                                 .where(ModelVersion.campaign_id == uuid.UUID(new_id))
                                 .order_by(ModelVersion.number)).all()
        assert [row.weights for row in stored] == [WEIGHTS, None]
    copy = client.get(f"/v1/campaigns/{new_id}/export?weights=true",
                      headers=other_headers).json()
    assert copy == _mapped(document, ids, copy)
