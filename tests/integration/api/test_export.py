"""The export document describes the whole campaign and is enough to re-create it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.api.helpers import DESIGN, add_suggestions, batch, observation
from tests.integration.api.test_model_versions import add_model_version

MEASURED_FIELDS = ("parameters", "outcomes", "noise_sd", "failed", "failure_reason")


def test_export_round_trips_into_a_new_campaign(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}"
    client.post(f"{url}/observations", headers=headers, json=batch(
        observation(noise_sd={"yield": 0.1}),
        observation({"cycles": 9}, outcomes={}, failed=True, failure_reason="spilled")))
    add_suggestions(campaign["id"], [{**DESIGN, "cycles": 5}])
    add_model_version(campaign["id"], 1, {"cv_rmse": 0.4})

    response = client.get(f"{url}/export", headers=headers)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["schema_version"] == 1
    assert document["campaign"]["seed"] == 7
    assert document["campaign"]["spec"] == campaign["spec"]
    assert len(document["observations"]) == 2 and len(document["suggestions"]) == 1
    assert document["model_versions"][0]["metrics"] == {"cv_rmse": 0.4}

    exported = document["campaign"]
    created = client.post("/v1/campaigns", headers=headers, json={
        "name": exported["name"], "problem": exported["problem"], "seed": exported["seed"],
        **exported["spec"]})
    assert created.status_code == 201, created.text
    assert created.json()["spec"] == exported["spec"]
    replayed = client.post(f"/v1/campaigns/{created.json()['id']}/observations",
                           headers=headers, json={"observations": [
                               {k: o[k] for k in MEASURED_FIELDS}
                               for o in document["observations"]]})
    assert replayed.status_code == 201, replayed.text
    copy = client.get(f"/v1/campaigns/{created.json()['id']}/export", headers=headers).json()
    assert [{k: o[k] for k in MEASURED_FIELDS} for o in copy["observations"]] == \
        [{k: o[k] for k in MEASURED_FIELDS} for o in document["observations"]]
