"""What the client retries, and how long it waits."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from service.client.retry import (
    RetryPolicy,
    parse_retry_after,
    retryable_error,
    retryable_status,
)

REQUEST = httpx.Request("POST", "http://api/v1/x")


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    top = RetryPolicy(backoff_s=0.5, multiplier=2.0, max_backoff_s=3.0, random=lambda: 1.0)
    assert [top.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    bottom = RetryPolicy(backoff_s=0.5, multiplier=2.0, max_backoff_s=3.0, random=lambda: 0.0)
    assert [bottom.delay(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]


def test_jitter_spreads_the_waits() -> None:
    policy = RetryPolicy(backoff_s=1.0)
    waits = {policy.delay(1) for _ in range(50)}
    assert len(waits) > 1 and all(0.5 <= w <= 1.0 for w in waits)


def test_retry_after_wins_over_backoff() -> None:
    assert RetryPolicy(backoff_s=5.0).delay(3, retry_after=0.2) == 0.2


def test_a_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)


@pytest.mark.parametrize(("value", "seconds"), [
    ("7", 7.0), (" 0 ", 0.0), ("Wed, 21 Oct 2015 07:28:05 GMT", 5.0),
    ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: now
    (None, None), ("soon", None), ("-3", None), ("", None)])
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = dt.datetime(2015, 10, 21, 7, 28, 0, tzinfo=dt.UTC)
    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize("error", [httpx.ConnectError("refused", request=REQUEST),
                                   httpx.ConnectTimeout("slow", request=REQUEST),
                                   httpx.PoolTimeout("busy", request=REQUEST)])
def test_a_request_that_never_left_is_always_resent(error: httpx.TransportError) -> None:
    assert retryable_error(error, idempotent=False)
    assert retryable_error(error, idempotent=True)


@pytest.mark.parametrize("error", [httpx.ReadError("reset", request=REQUEST),
                                   httpx.ReadTimeout("slow", request=REQUEST),
                                   httpx.WriteError("broken", request=REQUEST),
                                   httpx.RemoteProtocolError("closed", request=REQUEST)])
def test_a_request_that_may_have_been_processed_is_resent_only_if_idempotent(
        error: httpx.TransportError) -> None:
    assert not retryable_error(error, idempotent=False)
    assert retryable_error(error, idempotent=True)


def test_statuses() -> None:
    for status in (429, 503):
        assert retryable_status(status, idempotent=False)
    for status in (500, 502, 504):
        assert retryable_status(status, idempotent=True)
        assert not retryable_status(status, idempotent=False)
    for status in (400, 401, 403, 404, 409, 413, 422):
        assert not retryable_status(status, idempotent=True)
