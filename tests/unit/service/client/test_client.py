"""The client against a scripted stub of the API (an httpx mock transport): retries, keys,
pages, job waiting, typed results. No network, no sleeping: the policy's waits are recorded."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest

from service.client import (
    BadRequestError,
    Client,
    ConflictError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnavailableError,
    ValidationError,
)

NOW = "2026-01-01T00:00:00Z"
CAMPAIGN_ID = uuid.uuid4()
Reply = httpx.Response | Exception


class Stub:
    """Answers each request with the next scripted reply for its ``METHOD path``, and
    records every request."""

    def __init__(self, script: dict[str, list[Reply]]) -> None:
        self.script = script
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        replies = self.script[f"{request.method} {request.url.path}"]
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


def _client(stub: Stub, waits: list[float], retries: int = 3) -> Client:
    policy = RetryPolicy(retries=retries, backoff_s=0.1, sleep=waits.append, random=lambda: 1)
    return Client("http://api", "dl_k_s", retries=policy, transport=httpx.MockTransport(stub),
                  poll_interval_s=0.001)


def _error(status: int, code: str, headers: dict[str, str] | None = None,
           details: Any = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {
        "code": code, "message": f"{code}!", "details": details}})


def _campaign(**changes: Any) -> dict[str, Any]:
    return {"id": str(CAMPAIGN_ID), "name": "c", "problem": "branin", "seed": 1,
            "created_at": NOW, "summary": None, "spec": {
                "space": {"parameters": [{"type": "continuous", "name": "x1", "lower": 0,
                                          "upper": 1}]},
                "objectives": [{"name": "value", "goal": "minimize"}],
                "strategy": {"kind": "space_filling"}, "evaluator": {"kind": "lab"}},
            **changes}


def _observation(**changes: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "campaign_id": str(CAMPAIGN_ID), "suggestion_id": None,
            "parameters": {"x1": 0.5}, "outcomes": {"value": 1.0}, "noise_sd": {},
            "failed": False, "failure_reason": None, "posted_by": "key:k",
            "created_at": NOW, **changes}


def _job(status: str, **changes: Any) -> dict[str, Any]:
    return {"id": str(JOB_ID), "campaign_id": str(CAMPAIGN_ID), "parent_id": None,
            "kind": "suggest", "queue": "cpu", "status": status, "params": {"count": 2},
            "result": None, "error": None, "progress": 0.0, "message": "", "attempts": 1,
            "max_attempts": 3, "created_at": NOW, "started_at": None, "finished_at": None,
            "updated_at": NOW, **changes}


def _suggestion(sid: uuid.UUID, job_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"id": str(sid), "campaign_id": str(CAMPAIGN_ID), "job_id": str(job_id or JOB_ID),
            "parameters": {"x1": 0.25}, "status": "pending", "strategy": "space_filling",
            "predictions": {}, "model_version_id": None, "created_at": NOW, "updated_at": NOW}


JOB_ID = uuid.uuid4()
CAMPAIGN_PATH = f"/v1/campaigns/{CAMPAIGN_ID}"
OBSERVATIONS_PATH = f"{CAMPAIGN_PATH}/observations"
CREATED = httpx.Response(201, json={"observations": [_observation()]})


@pytest.fixture
def waits() -> list[float]:
    return []


def _handle(stub: Stub, waits: list[float]) -> Any:
    return _client(stub, waits).campaign(CAMPAIGN_ID)


def test_a_503_is_retried_after_its_retry_after(waits: list[float]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [
        _error(503, "unavailable", {"Retry-After": "2"}),
        _error(503, "unavailable", {"Retry-After": "1"}),
        httpx.Response(200, json=_campaign())]})
    campaign = _client(stub, waits).campaign(CAMPAIGN_ID)
    assert campaign.id == CAMPAIGN_ID and campaign.name == "c"
    assert waits == [2.0, 1.0] and len(stub.requests) == 3


def test_a_429_is_retried_even_for_a_request_without_a_key(waits: list[float]) -> None:
    stub = Stub({"POST /v1/campaigns": [_error(429, "rate_limited", {"Retry-After": "3"}),
                                        httpx.Response(201, json=_campaign())]})
    _client(stub, waits).create_campaign(name="c", problem="branin")
    assert waits == [3.0] and len(stub.requests) == 2


def test_a_retry_after_longer_than_the_policy_allows_is_not_waited(waits: list[float]) -> None:
    stub = Stub({"POST /v1/campaigns": [_error(429, "rate_limited", {"Retry-After": "3600"})]})
    with pytest.raises(RateLimitedError) as caught:
        _client(stub, waits).create_campaign(name="c")
    assert caught.value.headers["retry-after"] == "3600"
    assert waits == [] and len(stub.requests) == 1


def test_retries_end_with_the_last_answer(waits: list[float]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [_error(503, "unavailable")]})
    with pytest.raises(UnavailableError) as caught:
        _client(stub, waits, retries=2).campaign(CAMPAIGN_ID)
    assert caught.value.code == "unavailable"
    assert len(stub.requests) == 3
    assert waits == [0.1, 0.2]  # exponential backoff without a Retry-After


@pytest.mark.parametrize(("status", "code", "cls"), [
    (422, "invalid", ValidationError), (404, "not_found", NotFoundError),
    (409, "conflict", ConflictError), (400, "bad_request", BadRequestError)])
def test_client_errors_are_never_retried(waits: list[float], status: int, code: str,
                                         cls: type[Exception]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [_error(status, code)],
                 f"POST {OBSERVATIONS_PATH}": [_error(status, code)]})
    with pytest.raises(cls):
        _client(stub, waits).campaign(CAMPAIGN_ID)
    with pytest.raises(cls):
        _client(stub, waits).request("POST", OBSERVATIONS_PATH, json={},
                                     headers={"Idempotency-Key": "k"})
    assert len(stub.requests) == 2 and waits == []


def test_a_500_is_retried_only_when_resending_is_safe(waits: list[float]) -> None:
    stub = Stub({"POST /v1/campaigns": [_error(500, "internal")],
                 f"GET {CAMPAIGN_PATH}": [_error(500, "internal"),
                                          httpx.Response(200, json=_campaign())]})
    client = _client(stub, waits)
    with pytest.raises(ServerError):
        client.create_campaign(name="c")  # might have created it: not resent
    assert len(stub.sent("POST", "/v1/campaigns")) == 1
    client.campaign(CAMPAIGN_ID)
    assert len(stub.sent("GET", CAMPAIGN_PATH)) == 2


def test_a_lost_answer_to_observe_is_resent_with_the_same_key(waits: list[float]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [httpx.Response(200, json=_campaign())],
                 f"POST {OBSERVATIONS_PATH}": [httpx.ReadError("connection reset"),
                                               httpx.RemoteProtocolError("closed"), CREATED]})
    campaign = _handle(stub, waits)
    (stored,) = campaign.observe(parameters={"x1": 0.5}, outcomes={"value": 1.0})
    posts = stub.sent("POST", OBSERVATIONS_PATH)
    keys = {p.headers["Idempotency-Key"] for p in posts}
    assert len(posts) == 3 and len(keys) == 1 and next(iter(keys)).startswith("dlc-")
    assert json.loads(posts[0].content) == {"observations": [
        {"parameters": {"x1": 0.5}, "failed": False, "outcomes": {"value": 1.0}}]}
    assert stored.outcomes == {"value": 1.0}
    campaign.observe([{"parameters": {"x1": 0.6}, "outcomes": {"value": 2.0}}],
                     idempotency_key="mine")
    assert stub.sent("POST", OBSERVATIONS_PATH)[-1].headers["Idempotency-Key"] == "mine"


def test_a_lost_answer_without_a_key_is_not_resent(waits: list[float]) -> None:
    stub = Stub({"POST /v1/campaigns": [httpx.ReadError("reset")]})
    with pytest.raises(TransportError):
        _client(stub, waits).create_campaign(name="c")
    assert len(stub.requests) == 1


def test_a_refused_connection_is_retried_for_any_request(waits: list[float]) -> None:
    stub = Stub({"POST /v1/campaigns": [httpx.ConnectError("refused"),
                                        httpx.ConnectTimeout("slow"),
                                        httpx.Response(201, json=_campaign())]})
    _client(stub, waits).create_campaign(name="c")
    assert len(stub.requests) == 3 and len(waits) == 2
    down = Stub({"POST /v1/campaigns": [httpx.ConnectError("refused")]})
    with pytest.raises(TransportError, match="4 attempt"):
        _client(down, waits).create_campaign(name="c")


def test_observe_rejects_a_mix_of_list_and_keywords(waits: list[float]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [httpx.Response(200, json=_campaign())]})
    with pytest.raises(TypeError):
        _handle(stub, waits).observe([{"parameters": {}}], failed=True)


def test_lists_are_read_page_by_page(waits: list[float]) -> None:
    first = [_observation() for _ in range(2)]
    stub = Stub({f"GET {CAMPAIGN_PATH}": [httpx.Response(200, json=_campaign())],
                 f"GET {OBSERVATIONS_PATH}": [
                     httpx.Response(200, json={"items": first, "next_cursor": "abc"}),
                     httpx.Response(200, json={"items": [_observation()],
                                               "next_cursor": None})]})
    observations = list(_handle(stub, waits).observations())
    assert [str(o.id) for o in observations[:2]] == [o["id"] for o in first]
    pages = stub.sent("GET", OBSERVATIONS_PATH)
    assert [p.url.params.get("cursor") for p in pages] == [None, "abc"]
    assert {p.url.params["limit"] for p in pages} == {"200"}


def _suggest_stub(*job_states: dict[str, Any], suggestions: list[dict[str, Any]]) -> Stub:
    return Stub({
        f"GET {CAMPAIGN_PATH}": [httpx.Response(200, json=_campaign())],
        f"POST {CAMPAIGN_PATH}/suggestions": [httpx.Response(202, json=_job("queued"))],
        f"GET /v1/jobs/{JOB_ID}": [httpx.Response(200, json=s) for s in job_states],
        f"GET {CAMPAIGN_PATH}/suggestions": [
            httpx.Response(200, json={"items": suggestions, "next_cursor": None})]})


def test_suggest_waits_for_the_job_and_returns_its_suggestions(waits: list[float]) -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    done = _job("succeeded", progress=1.0,
                result={"suggestion_ids": [str(i) for i in reversed(ids)]})
    stub = _suggest_stub(_job("queued"), _job("running", progress=0.5), done,
                         suggestions=[_suggestion(uuid.uuid4(), uuid.uuid4()),
                                      *(_suggestion(i) for i in ids)])
    batch = _handle(stub, waits).suggest(2, progress=True)
    assert [s.id for s in batch] == list(reversed(ids))  # the job's order
    assert len(stub.sent("GET", f"/v1/jobs/{JOB_ID}")) == 3
    assert json.loads(stub.sent("POST", f"{CAMPAIGN_PATH}/suggestions")[0].content) == {
        "count": 2}


def test_suggest_raises_when_the_job_fails(waits: list[float]) -> None:
    failed = _job("failed", error={"type": "ProblemError", "message": "bad space"})
    stub = _suggest_stub(failed, suggestions=[])
    with pytest.raises(JobFailedError, match="bad space") as caught:
        _handle(stub, waits).suggest(2)
    assert caught.value.job.status.value == "failed"


def test_suggest_gives_up_waiting_after_its_timeout(waits: list[float]) -> None:
    stub = _suggest_stub(_job("running", progress=0.3), suggestions=[])
    with pytest.raises(JobTimeoutError) as caught:
        _handle(stub, waits).suggest(2, timeout_s=0.05)
    assert caught.value.job.progress == 0.3


def test_suggest_without_waiting_returns_the_job(waits: list[float]) -> None:
    job = _handle(_suggest_stub(suggestions=[]), waits).suggest(2, wait=False)
    assert job.id == JOB_ID and job.status.value == "queued"


def test_requests_carry_the_key_and_serialise_lab_values(waits: list[float]) -> None:
    np = pytest.importorskip("numpy")
    stub = Stub({"POST /v1/campaigns": [httpx.Response(201, json=_campaign())]})
    _client(stub, waits).create_campaign({"name": "c", "seed": np.int64(3),
                                          "metadata": {"when": uuid.UUID(int=1)}})
    (request,) = stub.requests
    assert request.headers["Authorization"] == "Bearer dl_k_s"
    assert json.loads(request.content) == {"name": "c", "seed": 3, "metadata": {
        "when": "00000000-0000-0000-0000-000000000001"}}


def test_a_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESIGNLOOP_API_KEY", raising=False)
    with pytest.raises(ValueError, match="API key"):
        Client("http://api")
    monkeypatch.setenv("DESIGNLOOP_API_KEY", "dl_from_env")
    with Client("http://api/") as client:
        assert client.base_url == "http://api"


def test_wait_stops_polling_on_a_final_status(waits: list[float]) -> None:
    stub = Stub({f"GET /v1/jobs/{JOB_ID}": [httpx.Response(200, json=_job("cancelled"))]})
    job = _client(stub, waits).wait_for_job(JOB_ID)
    assert job.status.value == "cancelled" and len(stub.requests) == 1


def test_dates_parse_as_aware(waits: list[float]) -> None:
    stub = Stub({f"GET {CAMPAIGN_PATH}": [httpx.Response(200, json=_campaign())]})
    assert _handle(stub, waits).data.created_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
