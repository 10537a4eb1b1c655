"""The campaign summary's infeasible share, read through ``GET /v1/campaigns/{id}``.

The share is "of the suggested experiments that were observed, how many failed or broke an
outcome constraint" (issue 7: what a lab pays for the strategy's misses). The expected numbers
below are counted by hand from the posted outcomes, not recomputed from the summary's fields.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.helpers import DESIGN, add_suggestions, campaign_body

pytestmark = pytest.mark.integration

#: Two outcome constraints, one of each direction.
CONSTRAINTS = [{"name": "toxicity", "op": "<=", "threshold": 0.3},
               {"name": "potency", "op": ">=", "threshold": 1.0}]


def _design(temperature: float) -> dict[str, Any]:
    return {**DESIGN, "temperature": temperature}


def _outcomes(toxicity: float, potency: float) -> dict[str, float]:
    return {"yield": 0.5, "toxicity": toxicity, "potency": potency}


def test_infeasible_share_counts_only_observed_suggestions_failures_included(
        client: TestClient, headers: dict[str, str]) -> None:
    created = client.post("/v1/campaigns", headers=headers,
                          json=campaign_body(constraints=CONSTRAINTS))
    assert created.status_code == 201, created.text
    campaign = created.json()
    url = f"/v1/campaigns/{campaign['id']}"
    ids = [str(i) for i in add_suggestions(
        campaign["id"], [_design(20.0 + 5.0 * k) for k in range(9)])]

    # Seven suggestions come back measured: 2 feasible (one exactly on both thresholds),
    # 4 infeasible (toxicity too high; potency too low; both; a failure), i.e. 4 of 7.
    answered: list[tuple[str, dict[str, Any]]] = [
        (ids[0], {"outcomes": _outcomes(0.1, 2.0)}),                  # feasible
        (ids[1], {"outcomes": _outcomes(0.3, 1.0)}),                  # feasible: on the bounds
        (ids[2], {"outcomes": _outcomes(0.31, 2.0)}),                 # toxicity > 0.3
        (ids[3], {"outcomes": _outcomes(0.1, 0.99)}),                 # potency < 1.0
        (ids[4], {"outcomes": _outcomes(0.9, 0.1)}),                  # both broken
        (ids[5], {"failed": True, "failure_reason": "clogged"}),      # a failure
        (ids[6], {"outcomes": _outcomes(0.0, 5.0)}),                  # feasible
    ]
    response = client.post(f"{url}/observations", headers=headers, json={"observations": [
        {"parameters": _design(20.0 + 5.0 * k), "suggestion_id": sid, **body}
        for k, (sid, body) in enumerate(answered)]})
    assert response.status_code == 201, response.text
    # ids[7] stays pending; ids[8] is given back: neither was measured, so neither counts.
    abandoned = client.post(f"{url}/suggestions/{ids[8]}/abandon", headers=headers)
    assert abandoned.status_code == 200, abandoned.text

    summary = client.get(url, headers=headers).json()["summary"]
    assert (summary["observed_suggestions"], summary["infeasible_suggestions"]) == (7, 4)
    assert summary["infeasible_share"] == pytest.approx(4 / 7)

    # Measurements the lab made on its own (no suggestion behind them), infeasible or failed,
    # are no miss of the strategy: the share does not move; the plain counts do.
    response = client.post(f"{url}/observations", headers=headers, json={"observations": [
        {"parameters": _design(81.0), "outcomes": _outcomes(0.95, 0.0)},
        {"parameters": _design(82.0), "outcomes": _outcomes(0.5, 3.0)},
        {"parameters": _design(83.0), "failed": True},
        {"parameters": _design(84.0), "outcomes": _outcomes(0.2, 1.5)},
    ]})
    assert response.status_code == 201, response.text
    summary = client.get(url, headers=headers).json()["summary"]
    assert summary == {
        "observations": 11, "failed_observations": 2, "pending_suggestions": 1,
        "best": summary["best"],  # checked below
        "observed_suggestions": 7, "infeasible_suggestions": 4,
        "infeasible_share": pytest.approx(4 / 7)}
    # The best feasible (yield is maximised, all 0.5): one of the four feasible ones.
    assert summary["best"]["value"] == 0.5
    assert summary["best"]["parameters"]["temperature"] in (20.0, 25.0, 50.0, 84.0)


def test_infeasible_share_is_none_until_a_suggestion_is_observed(
        client: TestClient, headers: dict[str, str]) -> None:
    created = client.post("/v1/campaigns", headers=headers,
                          json=campaign_body(constraints=CONSTRAINTS))
    campaign = created.json()
    url = f"/v1/campaigns/{campaign['id']}"
    add_suggestions(campaign["id"], [_design(30.0)])
    response = client.post(f"{url}/observations", headers=headers, json={"observations": [
        {"parameters": _design(40.0), "outcomes": _outcomes(0.9, 0.0)}]})
    assert response.status_code == 201, response.text
    summary = client.get(url, headers=headers).json()["summary"]
    assert summary["observations"] == 1 and summary["pending_suggestions"] == 1
    assert (summary["observed_suggestions"], summary["infeasible_suggestions"],
            summary["infeasible_share"]) == (0, 0, None)
