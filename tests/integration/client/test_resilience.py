"""Lost answers, refused requests and typed errors, against the real API.

The lost answer is real: :class:`~tests.integration.client.proxy.DroppingProxy` lets the API
do the work and answer, then closes the client's connection instead of relaying the answer.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from service.client import (
    AuthError,
    Client,
    ConflictError,
    NotFoundError,
    TransportError,
    ValidationError,
)
from service.enums import JobKind, JobStatus, SuggestionStatus
from tests.integration.api.helpers import CAMPAIGN, DESIGN, add_suggestions, stored
from tests.integration.client.conftest import FAST_RETRIES, ApiServer
from tests.integration.client.proxy import DroppingProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _result(temperature: float, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"parameters": {**DESIGN, "temperature": temperature},
                            "outcomes": {"yield": 0.5, "toxicity": 0.1}}
    body.update(changes)
    return body


def test_a_lost_answer_is_retried_and_stored_once(proxy: DroppingProxy,
                                                  proxied_client: Client) -> None:
    campaign = proxied_client.create_campaign(CAMPAIGN)
    pending = add_suggestions(str(campaign.id), [{**DESIGN, "temperature": 61.0}])
    results = [_result(30.0), _result(40.0),
               _result(61.0, suggestion_id=str(pending[0]))]  # marks the suggestion observed

    proxy.drop("POST", "/observations")
    created = campaign.observe(results)

    posts = proxy.matching("POST", "/observations")
    assert [p.dropped for p in posts] == [True, False]
    assert posts[0].status == 201  # the API stored them before the answer was lost
    key = posts[0].headers["idempotency-key"]
    assert key and posts[1].headers["idempotency-key"] == key
    assert posts[1].response_headers.get("idempotent-replayed") == "true"
    assert [o.parameters["temperature"] for o in created] == [30.0, 40.0, 61.0]
    assert stored()["observations"] == 3
    assert [o.id for o in campaign.observations()] == [o.id for o in created]
    (suggestion,) = campaign.suggestions()
    assert suggestion.status == SuggestionStatus.observed


def test_each_observe_call_has_its_own_key(proxy: DroppingProxy,
                                           proxied_client: Client) -> None:
    campaign = proxied_client.create_campaign(CAMPAIGN)
    campaign.observe(parameters={**DESIGN, "temperature": 30.0},
                     outcomes={"yield": 0.5, "toxicity": 0.1})
    campaign.observe([_result(31.0)])
    keys = [p.headers["idempotency-key"] for p in proxy.matching("POST", "/observations")]
    assert len(set(keys)) == 2
    assert stored()["observations"] == 2


def test_a_lost_answer_to_a_csv_upload_stores_it_once(proxy: DroppingProxy,
                                                      proxied_client: Client) -> None:
    source = proxied_client.create_campaign(CAMPAIGN)
    source.observe([_result(30.0), _result(40.0)])
    target = proxied_client.create_campaign(CAMPAIGN)

    proxy.drop("POST", "/observations.csv")
    created = target.import_observations_csv(source.observations_csv(), link_suggestions=False)

    assert [p.dropped for p in proxy.matching("POST", "/observations.csv")] == [True, False]
    assert len(created) == 2 and len(list(target.observations())) == 2


def test_a_lost_answer_to_an_import_creates_one_campaign(proxy: DroppingProxy,
                                                         proxied_client: Client) -> None:
    source = proxied_client.create_campaign(CAMPAIGN)
    source.observe([_result(30.0)])

    proxy.drop("POST", "/v1/campaigns/import")
    imported = proxied_client.import_campaign(source.export())

    assert [p.dropped for p in proxy.matching("POST", "/import")] == [True, False]
    assert {c.id for c in proxied_client.campaigns()} == {source.id, imported.campaign.id}


def test_a_request_without_a_key_is_not_resent_after_a_lost_answer(
        proxy: DroppingProxy, proxied_client: Client, worker: object) -> None:
    """Asking for suggestions twice would queue two jobs: the client says so instead."""
    campaign = proxied_client.create_campaign(CAMPAIGN)
    proxy.drop("POST", "/suggestions")
    with pytest.raises(TransportError):
        campaign.suggest(2, wait=False)
    assert len(proxy.matching("POST", "/suggestions")) == 1
    (job,) = campaign.jobs()  # the one the lost answer was about
    assert proxied_client.wait_for_job(job, timeout_s=30).status == JobStatus.succeeded
    assert len(campaign.pending()) == 2


def test_a_422_is_raised_at_once_with_the_field(proxy: DroppingProxy,
                                                proxied_client: Client) -> None:
    campaign = proxied_client.create_campaign(CAMPAIGN)
    with pytest.raises(ValidationError) as caught:
        campaign.observe([_result(30.0), _result(500.0)])
    assert len(proxy.matching("POST", "/observations")) == 1  # never retried
    error = caught.value
    assert (error.status, error.code) == (422, "invalid")
    assert error.field == "observations.1.parameters.temperature"
    assert "outside" in error.message
    assert stored()["observations"] == 0


def test_typed_errors(api_server: ApiServer, client: Client,
                      project_key: tuple[uuid.UUID, str]) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.campaign(uuid.uuid4())
    assert missing.value.code == "not_found"

    with Client(api_server.url, "dl_nope_nope", retries=FAST_RETRIES) as stranger, \
            pytest.raises(AuthError) as refused:
        list(stranger.campaigns())
    assert refused.value.status == 401

    campaign = client.create_campaign(CAMPAIGN)
    with pytest.raises(ValidationError) as bad_count:
        campaign.suggest(0)
    assert bad_count.value.field == "count"

    body = copy.deepcopy(CAMPAIGN)
    body["space"]["parameters"][0]["lower"] = 100.0  # above its upper bound
    with pytest.raises(ValidationError) as bad_space:
        client.create_campaign(body)
    assert bad_space.value.field is not None
    assert bad_space.value.field.startswith("space.parameters.0")

    add_suggestions(str(campaign.id), [DESIGN])
    (suggestion,) = campaign.pending()
    assert suggestion.abandon().status == SuggestionStatus.abandoned
    with pytest.raises(ConflictError):
        suggestion.abandon()
    assert campaign.pending() == []


def test_suggest_without_waiting_returns_the_queued_job(client: Client, worker: object) -> None:
    campaign = client.create_campaign(CAMPAIGN)
    job = campaign.suggest(3, wait=False)
    assert (job.kind, job.campaign_id, job.params) == (JobKind.suggest, campaign.id,
                                                       {"count": 3})
    assert [j.id for j in campaign.jobs()] == [job.id]
    done = client.wait_for_job(job.id, timeout_s=30, progress=True)
    assert done.status == JobStatus.succeeded and done.progress == 1.0
    suggestions = campaign.suggestions_of(done)
    assert [str(s.id) for s in suggestions] == done.result["suggestion_ids"]  # type: ignore[index]
    assert {s.status for s in suggestions} == {SuggestionStatus.pending}
