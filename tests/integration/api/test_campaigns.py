"""Creating, reading and listing campaigns, and every way a create can be wrong."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.helpers import (
    SPACE,
    assert_error,
    batch,
    campaign_body,
    observation,
    stored,
)


def test_create_answers_201_with_location_and_stored_spec(
        client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/campaigns", json=campaign_body(), headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/campaigns/{body['id']}"
    assert body["seed"] == 7 and body["problem"] == "custom"
    assert body["spec"]["space"]["parameters"][0]["name"] == "temperature"
    assert body["spec"]["strategy"] == {"kind": "space_filling", "options": {}}
    assert body["summary"] == {"observations": 0, "failed_observations": 0,
                               "pending_suggestions": 0, "best": None,
                               "observed_suggestions": 0, "infeasible_suggestions": 0,
                               "infeasible_share": None}
    assert client.get(f"/v1/campaigns/{body['id']}", headers=headers).json()["spec"] == \
        body["spec"]


def test_create_fills_in_the_problem_defaults(client: TestClient,
                                              headers: dict[str, str]) -> None:
    response = client.post("/v1/campaigns", json={"name": "bench", "problem": "branin"},
                           headers=headers)
    assert response.status_code == 201, response.text
    spec = response.json()["spec"]
    assert [p["name"] for p in spec["space"]["parameters"]] == ["x1", "x2"]
    assert spec["objectives"] == [{"name": "value", "goal": "minimize", "unit": None}]
    assert spec["constraints"][0]["name"] == "constraint"
    assert isinstance(response.json()["seed"], int)


def test_read_summarises_counts_and_the_best_feasible_observation(
        client: TestClient, headers: dict[str, str], campaign: dict[str, Any]) -> None:
    url = f"/v1/campaigns/{campaign['id']}"
    posted = client.post(f"{url}/observations", headers=headers, json=batch(
        observation(outcomes={"yield": 0.5, "toxicity": 0.1}),
        observation({"temperature": 60.0}, outcomes={"yield": 0.9, "toxicity": 0.8}),  # infeasible
        observation({"temperature": 70.0}, outcomes={"yield": 0.6, "toxicity": 0.2}),
        observation({"temperature": 80.0}, outcomes={}, failed=True, failure_reason="clogged"),
    ))
    assert posted.status_code == 201, posted.text
    summary = client.get(url, headers=headers).json()["summary"]
    assert summary["observations"] == 4 and summary["failed_observations"] == 1
    assert summary["best"]["value"] == 0.6
    assert summary["best"]["parameters"]["temperature"] == 70.0


def test_list_filters_by_problem(client: TestClient, headers: dict[str, str]) -> None:
    client.post("/v1/campaigns", json=campaign_body(), headers=headers)
    client.post("/v1/campaigns", json={"name": "bench", "problem": "branin"}, headers=headers)
    everything = client.get("/v1/campaigns", headers=headers).json()
    assert len(everything["items"]) == 2 and everything["next_cursor"] is None
    branin = client.get("/v1/campaigns", params={"problem": "branin"}, headers=headers).json()
    assert [c["name"] for c in branin["items"]] == ["bench"]


def _two_params(first: str, second: str) -> dict[str, Any]:
    return {"parameters": [
        {"type": "continuous", "name": first, "lower": 0.0, "upper": 1.0},
        {"type": "continuous", "name": second, "lower": 0.0, "upper": 1.0}]}


# (what is wrong, body changes, a field the error must name)
BAD_CREATES: list[tuple[str, dict[str, Any], tuple[str | int, ...]]] = [
    ("empty space", {"space": {"parameters": [], "compositions": []}}, ("space",)),
    ("duplicate parameter names", {"space": _two_params("x", "x")}, ("space", "parameters")),
    ("parameter name clashing with a component",
     {"space": {**_two_params("x", "a"), "compositions": [{"name": "m",
                                                           "components": ["a", "b"]}]}},
     ("space",)),
    ("missing objective", {"objectives": None}, ("objectives",)),
    ("empty objectives", {"objectives": []}, ("objectives",)),
    ("bounds in the wrong order", {"space": {"parameters": [
        {"type": "continuous", "name": "x", "lower": 1.0, "upper": 0.0}]}},
     ("space", "parameters", 0)),
    ("categorical with one choice", {"space": {"parameters": [
        {"type": "categorical", "name": "c", "choices": ["only"]}]}}, ("choices",)),
    ("linear constraint on an unknown parameter",
     {"space": {**SPACE, "linear_constraints": [{"coefficients": {"nope": 1.0}, "upper": 1}]}},
     ("space",)),
    ("duplicate outcome names", {"constraints": [{"name": "yield", "op": "<=",
                                                  "threshold": 1.0}]}, ("body",)),
    ("unknown problem", {"problem": "no_such_problem"}, ("problem",)),
    ("simulator evaluator without a simulator", {"evaluator": {"kind": "simulator"}},
     ("evaluator",)),
    ("gradients from a lab", {"evaluator": {"gradients": True}}, ("evaluator",)),
    ("gradients from a simulator that gives none",
     {"problem": "branin", "evaluator": {"kind": "simulator", "gradients": True}},
     ("evaluator", "gradients")),
    ("client-supplied id", {"id": "7b3c1c0e-0000-4000-8000-000000000000"}, ("id",)),
    ("client-supplied status", {"status": "done"}, ("status",)),
    ("client-supplied project_id", {"project_id": "7b3c1c0e-0000-4000-8000-000000000000"},
     ("project_id",)),
    ("NUL byte in the name", {"name": "lipid\x00screen"}, ("name",)),
    ("NUL byte in a metadata key", {"metadata": {"ok": 1, "bad\x00key": 2}},
     ("metadata",)),
    ("NUL byte in a unit", {"objectives": [{"name": "yield", "goal": "maximize",
                                            "unit": "%\x00"}]}, ("objectives", 0, "unit")),
    ("negative seed", {"seed": -1}, ("seed",)),
]


@pytest.mark.parametrize(("changes", "fields"), [(c, f) for _, c, f in BAD_CREATES],
                         ids=[name for name, _, _ in BAD_CREATES])
def test_bad_create_is_422_naming_the_field_and_stores_nothing(
        client: TestClient, headers: dict[str, str], changes: dict[str, Any],
        fields: tuple[str | int, ...]) -> None:
    before = stored()
    response = client.post("/v1/campaigns", json=campaign_body(**changes), headers=headers)
    assert_error(response, 422, *fields)
    assert stored() == before


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number_in_free_form_metadata_is_422(
        client: TestClient, headers: dict[str, str], raw: str) -> None:
    """Sent as raw JSON text: PostgreSQL's jsonb would refuse it at commit (a 500)."""
    body = ('{"name": "c", "space": {"parameters": [{"type": "continuous", "name": "x", '
            '"lower": 0, "upper": 1}]}, "objectives": [{"name": "y", "goal": "minimize"}], '
            f'"metadata": {{"score": {raw}}}}}')
    response = client.post("/v1/campaigns", content=body, headers={
        **headers, "Content-Type": "application/json"})
    assert_error(response, 422, "metadata", "score")
    assert stored()["campaigns"] == 0


def test_malformed_json_is_422(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/campaigns", content=b'{"name": ', headers={
        **headers, "Content-Type": "application/json"})
    assert_error(response, 422, "body")


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 100_000}, "limit"), ({"cursor": "not a cursor!"},
                                                              "cursor"),
    ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"), ({"problem": "bran\x00in"}, "problem")])
def test_bad_query_parameter_is_422(client: TestClient, headers: dict[str, str],
                                    params: dict[str, Any], field: str) -> None:
    response = client.get("/v1/campaigns", params=params, headers=headers)
    assert_error(response, 422, "query", field)


def test_malformed_path_id_is_422(client: TestClient, headers: dict[str, str]) -> None:
    assert_error(client.get("/v1/campaigns/not-a-uuid", headers=headers), 422, "campaign_id")


@pytest.mark.parametrize(("changes", "loc"), [
    ({"strategy": {"kind": "alchemy"}}, ["body", "strategy", "kind"]),
    ({"strategy": {"kind": "space_filling", "options": {"x": 1}}}, ["body", "strategy"]),
    ({"strategy": {"kind": "bayesian", "options": {"initial_points": 0}}},
     ["body", "strategy"]),
    ({"strategy": {"kind": "bayesian", "options": {"restarts": 3}}}, ["body", "strategy"]),
    ({"evaluator": {"kind": "lab", "rounds": 3}}, ["body", "evaluator"]),
    ({"pending_ttl_s": 0}, ["body", "pending_ttl_s"]),
    ({"problem_options": {"target": "x"}}, ["problem_options"]),
])
def test_bad_strategy_evaluator_and_problem_options_are_422_and_store_nothing(
        client: TestClient, headers: dict[str, str], changes: dict[str, Any],
        loc: list[str]) -> None:
    response = client.post("/v1/campaigns", json=campaign_body(**changes), headers=headers)
    assert_error(response, 422, *loc)
    assert stored()["campaigns"] == 0


def test_a_bayesian_campaign_with_ttl_is_stored_as_asked(
        client: TestClient, headers: dict[str, str]) -> None:
    body = campaign_body(strategy={"kind": "bayesian", "options": {"initial_points": 5}},
                         pending_ttl_s=3600)
    response = client.post("/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    spec = response.json()["spec"]
    assert spec["strategy"] == {"kind": "bayesian", "options": {"initial_points": 5}}
    assert spec["pending_ttl_s"] == 3600 and spec["problem_options"] == {}


@pytest.mark.parametrize(("options", "needle"), [
    ({"rows": 4, "target": 10_000}, "target"),
    ({"rows": 4, "alphabet": "klingon"}, "alphabet"),
    ({"rows": 4, "target": {"path": [[0, 0], [2, 2]]}}, "target"),
    ({"rows": 4, "restraints": [{"kind": "contact", "i": 0, "j": 99}]}, "restraints"),
])
def test_a_sequence_campaign_with_a_bad_target_is_422_naming_the_option(
        client: TestClient, headers: dict[str, str], options: dict[str, Any],
        needle: str) -> None:
    body = {"name": "fold", "problem": "sequence", "problem_options": options}
    error = assert_error(client.post("/v1/campaigns", json=body, headers=headers), 422,
                         "problem_options")
    assert needle in error["message"]
    assert stored()["campaigns"] == 0


def test_a_sequence_campaign_gets_the_space_of_its_target(
        client: TestClient, headers: dict[str, str]) -> None:
    body = {"name": "fold", "problem": "sequence", "strategy": {"kind": "sequence_design"},
            "problem_options": {"rows": 3, "cols": 4, "alphabet": "hp"}}
    response = client.post("/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    (parameter,) = response.json()["spec"]["space"]["parameters"]
    assert parameter["type"] == "sequence" and parameter["length"] == 12
