"""The import document: its schema version first, then the export's fields, strictly."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from service.schemas.imports import CampaignImport

NOW = "2026-01-01T00:00:00.000001Z"
CID = str(uuid.uuid4())


def _doc(**changes: Any) -> dict[str, Any]:
    return {"schema_version": 1, "exported_at": NOW, "campaign": {
        "id": CID, "name": "c", "problem": "custom", "seed": 3, "strategy_state": {},
        "created_at": NOW, "spec": {
            "space": {"parameters": [{"type": "continuous", "name": "x", "lower": 0,
                                      "upper": 1}]},
            "objectives": [{"name": "y", "goal": "minimize"}],
            "strategy": {"kind": "space_filling"}, "evaluator": {"kind": "lab"}}},
        "observations": [{"id": str(uuid.uuid4()), "campaign_id": CID, "suggestion_id": None,
                          "parameters": {"x": 0.5}, "outcomes": {"y": 1.0}, "noise_sd": {},
                          "failed": False, "failure_reason": None, "posted_by": "key:k",
                          "created_at": NOW}],
        "suggestions": [], "model_versions": [], **changes}


def test_an_export_document_parses() -> None:
    doc = CampaignImport.model_validate(_doc())
    (obs,) = doc.observations
    assert obs.measurement().model_dump(exclude_defaults=True) == {
        "parameters": {"x": 0.5}, "outcomes": {"y": 1.0}}


@pytest.mark.parametrize("version", [2, 0, None, "1", True, 1.5])
def test_an_unknown_version_is_refused_before_anything_else(version: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignImport.model_validate(_doc(schema_version=version, observations="garbage"))
    (error,) = caught.value.errors()
    assert error["type"] == "schema_version"
    assert error["ctx"]["loc"] == ["schema_version"]


def test_a_missing_version_is_refused_too() -> None:
    doc = _doc()
    del doc["schema_version"]
    with pytest.raises(ValidationError, match="unsupported schema_version"):
        CampaignImport.model_validate(doc)


@pytest.mark.parametrize("change", [
    {"summary": {}},                                     # an unknown field
    {"exported_at": "2026-01-01T00:00:00"},              # a naive time
])
def test_the_document_is_read_strictly(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CampaignImport.model_validate(_doc(**change))


def test_observations_obey_the_posting_rules() -> None:
    bad = _doc()
    bad["observations"][0].update(failed=True)  # failed, yet with outcomes
    with pytest.raises(ValidationError, match="carries no outcomes"):
        CampaignImport.model_validate(bad)


def test_weights_are_optional_base64() -> None:
    version = {"id": str(uuid.uuid4()), "campaign_id": CID, "number": 1, "kind": "gp",
               "config": {}, "metrics": {"rmse": None}, "job_id": None, "created_at": NOW}
    doc = CampaignImport.model_validate(_doc(model_versions=[
        version, {**version, "id": str(uuid.uuid4()), "number": 2, "weights": "AAEC"}]))
    assert [m.weights for m in doc.model_versions] == [None, b"\x00\x01\x02"]
