"""Request bodies and assertions shared by the API tests."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from service.db.engine import session_scope
from service.db.tables import (
    Campaign,
    IdempotencyKey,
    Job,
    ModelVersion,
    Observation,
    Suggestion,
)
from service.repositories import suggestions as suggestion_rows

SPACE: dict[str, Any] = {
    "parameters": [
        {"type": "continuous", "name": "temperature", "lower": 20.0, "upper": 90.0,
         "unit": "C"},
        {"type": "integer", "name": "cycles", "lower": 1, "upper": 10},
        {"type": "categorical", "name": "solvent", "choices": ["water", "ethanol"]},
    ],
    "compositions": [{"name": "mix", "components": ["a", "b", "c"]}],
}
CAMPAIGN: dict[str, Any] = {
    "name": "lipid screen",
    "space": SPACE,
    "objectives": [{"name": "yield", "goal": "maximize"}],
    "constraints": [{"name": "toxicity", "op": "<=", "threshold": 0.3}],
    "seed": 7,
}
DESIGN: dict[str, Any] = {"temperature": 50.0, "cycles": 3, "solvent": "water",
                          "a": 0.2, "b": 0.3, "c": 0.5}
OBSERVATION: dict[str, Any] = {"parameters": DESIGN,
                               "outcomes": {"yield": 0.7, "toxicity": 0.1}}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def campaign_body(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(CAMPAIGN)
    body.update(changes)
    return body


def observation(parameters: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(OBSERVATION)
    if parameters:
        body["parameters"].update(parameters)
    body.update(changes)
    return body


def batch(*observations: dict[str, Any]) -> dict[str, Any]:
    return {"observations": list(observations) or [observation()]}


def stored() -> dict[str, int]:
    """Row counts of everything a request can create (projects and keys aside)."""
    with session_scope() as session:
        return {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                or 0 for table in (Campaign, Observation, Suggestion, Job, ModelVersion,
                                   IdempotencyKey)}


def assert_error(response: httpx.Response, status: int, *fields: str | int) -> dict[str, Any]:
    """The response is an error in the API's one shape, and each of ``fields`` is named in the
    ``loc`` of one of its details. Returns the error object."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["message"]
    if fields:
        locs = [[str(part) for part in detail["loc"]] for detail in error["details"]]
        assert any(all(str(f) in loc for f in fields) for loc in locs), (fields, locs)
    return error


def add_suggestions(campaign_id: str, designs: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Pending suggestions stored the way a suggest job stores them."""
    with session_scope() as session:
        campaign = session.get(Campaign, uuid.UUID(campaign_id))
        assert campaign is not None
        rows = suggestion_rows.store_suggestions(
            session, campaign, designs, job_id=None, strategy="space_filling",
            read_version=campaign.suggestions_version, strategy_state={})
        return [row.id for row in rows]


def observations_url(campaign: dict[str, Any]) -> str:
    return f"/v1/campaigns/{campaign['id']}/observations"
