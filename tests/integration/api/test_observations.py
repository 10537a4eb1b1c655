"""Posting and listing observations; every way a batch can be wrong stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.helpers import (
    DESIGN,
    add_suggestions,
    assert_error,
    batch,
    observation,
    observations_url,
    stored,
)


def test_post_stores_the_batch_and_lists_it(client: TestClient, headers: dict[str, str],
                                            campaign: dict[str, Any]) -> None:
    response = client.post(observations_url(campaign), headers=headers, json=batch(
        observation(noise_sd={"yield": 0.05}),
        observation({"temperature": 21.5, "solvent": "ethanol"}, outcomes={},
                    failed=True, failure_reason="precipitated")))
    assert response.status_code == 201, response.text
    created = response.json()["observations"]
    assert [o["failed"] for o in created] == [False, True]
    assert created[0]["noise_sd"] == {"yield": 0.05}
    assert created[0]["gradients"] == {} and created[1]["gradients"] == {}
    assert created[0]["posted_by"].startswith("key:")
    listed = client.get(observations_url(campaign), headers=headers).json()
    assert [o["id"] for o in listed["items"]] == [o["id"] for o in created]


def test_gradients_are_stored_with_the_observation(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    """Derivatives (outcome units per parameter unit) w.r.t. continuous parameters, e.g. from
    an adjoint solve, come back as posted."""
    slopes = {"yield": {"temperature": 0.012}, "toxicity": {"temperature": -1e-3}}
    response = client.post(observations_url(campaign), headers=headers,
                           json=batch(observation(gradients=slopes)))
    assert response.status_code == 201, response.text
    listed = client.get(observations_url(campaign), headers=headers).json()["items"]
    assert [o["gradients"] for o in listed] == [slopes]


def test_answering_a_pending_suggestion_marks_it_observed(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    (suggestion_id,) = add_suggestions(campaign["id"], [DESIGN])
    answer = observation(suggestion_id=str(suggestion_id))
    assert client.post(observations_url(campaign), headers=headers, json=batch(answer)).status_code == 201
    suggestions = client.get(f"/v1/campaigns/{campaign['id']}/suggestions",
                             headers=headers).json()["items"]
    assert [s["status"] for s in suggestions] == ["observed"]
    # A second answer to the same suggestion is a conflict, and stores nothing.
    before = stored()
    assert_error(client.post(observations_url(campaign), headers=headers, json=batch(answer)), 409)
    assert stored() == before


def test_a_batch_answering_one_suggestion_twice_is_422_and_stores_nothing(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    (suggestion_id,) = add_suggestions(campaign["id"], [DESIGN])
    answer = observation(suggestion_id=str(suggestion_id))
    before = stored()
    assert_error(client.post(observations_url(campaign), headers=headers, json=batch(answer, answer)), 422,
                 "observations", 1, "suggestion_id")
    assert stored() == before


RAW_TEMPLATE = ('{"observations": [{"parameters": {"temperature": 50.0, "cycles": 3, '
                '"solvent": "water", "a": 0.2, "b": 0.3, "c": 0.5}, '
                '"outcomes": {"yield": %s, "toxicity": 0.1}}]}')

# (what is wrong, the batch, the fields the error must name)
BAD_BATCHES: list[tuple[str, dict[str, Any], tuple[str | int, ...]]] = [
    ("unknown parameter name", batch(observation({"pressure": 2.0})), ("pressure",)),
    ("continuous value above its bound", batch(observation({"temperature": 200.0})),
     ("temperature",)),
    ("continuous value below its bound", batch(observation({"temperature": -1.0})),
     ("temperature",)),
    ("integer value out of bounds", batch(observation({"cycles": 11})), ("cycles",)),
    ("integer value not an integer", batch(observation({"cycles": 2.5})), ("cycles",)),
    ("value not in a categorical's choices", batch(observation({"solvent": "acetone"})),
     ("solvent",)),
    ("composition not summing to 1", batch(observation({"a": 0.5, "b": 0.5, "c": 0.5})),
     ("a",)),
    ("composition component missing", {"observations": [
        {"parameters": {k: v for k, v in DESIGN.items() if k != "c"},
         "outcomes": {"yield": 0.7, "toxicity": 0.1}}]}, ("c",)),
    ("unknown outcome", batch(observation(outcomes={"yield": 1.0, "toxicity": 0.1,
                                                    "colour": 3.0})), ("colour",)),
    ("missing outcome", batch(observation(outcomes={"yield": 1.0})), ("toxicity",)),
    ("failed with outcomes", batch(observation(failed=True)), ("observations", 0)),
    ("negative noise sd", batch(observation(noise_sd={"yield": -1.0})), ("noise_sd",)),
    ("gradient w.r.t. an integer parameter", batch(observation(
        gradients={"yield": {"temperature": 0.1, "cycles": 0.5}})),
     ("observations", 0, "gradients", "yield", "cycles")),
    ("gradient w.r.t. an unknown parameter", batch(observation(
        gradients={"yield": {"pressure": 0.1}})), ("gradients", "yield", "pressure")),
    ("gradient of an outcome not given", batch(observation(
        gradients={"colour": {"temperature": 0.1}})), ("observations", 0)),
    ("gradient not a number", batch(observation(gradients={"yield": {"temperature": "up"}})),
     ("gradients", "yield", "temperature")),
    ("empty batch", {"observations": []}, ("observations",)),
    ("bad second row of a batch", batch(observation(), observation({"temperature": 500.0})),
     ("observations", 1, "temperature")),
    ("suggestion of no such id", batch(observation(
        suggestion_id="7b3c1c0e-0000-4000-8000-000000000000")), ("suggestion_id",)),
    ("NUL byte in a categorical value", batch(observation({"solvent": "wa\x00ter"})),
     ("solvent",)),
    ("NUL byte in the failure reason", batch(observation(
        outcomes={}, failed=True, failure_reason="bro\x00ken")), ("failure_reason",)),
    ("client-supplied id", batch(observation(id="7b3c1c0e-0000-4000-8000-000000000000")),
     ("id",)),
    ("client-supplied posted_by", batch(observation(posted_by="someone else")),
     ("posted_by",)),
    ("client-supplied created_at", batch(observation(created_at="2020-01-01T00:00:00Z")),
     ("created_at",)),
]


@pytest.mark.parametrize(("body", "fields"), [(b, f) for _, b, f in BAD_BATCHES],
                         ids=[name for name, _, _ in BAD_BATCHES])
def test_bad_batch_is_422_naming_the_field_and_stores_nothing(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        body: dict[str, Any], fields: tuple[str | int, ...]) -> None:
    before = stored()
    assert_error(client.post(observations_url(campaign), headers=headers, json=body), 422, *fields)
    assert stored() == before


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_outcome_sent_as_raw_json_is_422(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any],
        raw: str) -> None:
    before = stored()
    response = client.post(observations_url(campaign), content=RAW_TEMPLATE % raw,
                           headers={**headers, "Content-Type": "application/json"})
    assert_error(response, 422, "observations", 0, "outcomes", "yield")
    assert stored() == before
