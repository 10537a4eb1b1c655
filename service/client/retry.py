"""When the client retries a request, and how long it waits first.

What is retried depends on whether resending can do the work twice:

* a request that certainly never reached the service (the connection could not be made, or
  no pooled connection was free) is always retried; so are ``429`` and ``503``, by which the
  service says it did not process the request;
* a request that may have been processed (the connection dropped after sending, a read timed
  out, another ``5xx``) is retried only when it is *idempotent*: a ``GET``, or a ``POST`` that
  carries an ``Idempotency-Key`` (the service then replays the first response instead of doing
  the work again). The client gives every observation post such a key;
* any other ``4xx`` is never retried: the same request would fail the same way.

The wait is exponential backoff with jitter (so many clients failing together do not retry in
lock-step), or what the service asked for in ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# Never reached the service: safe to resend whatever the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Sent, maybe processed, answer lost: safe to resend only an idempotent request.
_MAYBE_PROCESSED = (httpx.ReadError, httpx.ReadTimeout, httpx.WriteError, httpx.WriteTimeout,
                    httpx.RemoteProtocolError)
# The service said it did not process the request.
_REFUSED = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    Args:
        retries: Retries after the first attempt (0: never retry).
        backoff_s: Base wait before the first retry, in seconds.
        multiplier: Growth of the wait per retry.
        max_backoff_s: Cap of the exponential wait, in seconds.
        max_retry_after_s: The longest ``Retry-After`` the client waits; a service asking for
            longer gets its error raised at once (with the header, for the caller to decide).
        sleep: Called with the wait in seconds (tests pass a recorder).
        random: Uniform ``[0, 1)`` source of the jitter.

    Example:
        >>> policy = RetryPolicy(retries=4, backoff_s=0.5, random=lambda: 1.0)
        >>> [policy.delay(n) for n in (1, 2, 3)]
        [0.5, 1.0, 2.0]
    """

    retries: int = 3
    backoff_s: float = 0.25
    multiplier: float = 2.0
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff_s < 0 or self.multiplier < 1:
            raise ValueError("retries and backoff_s must be >= 0, multiplier >= 1")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first).

        ``retry_after`` (the service's ``Retry-After``, in seconds) wins when given. Otherwise
        "equal jitter": uniform in ``[cap / 2, cap]`` with ``cap`` the capped exponential
        wait, so the wait grows while clients spread out.
        """
        if retry_after is not None:
            return max(0.0, retry_after)
        cap = min(self.max_backoff_s, self.backoff_s * self.multiplier ** (retry - 1))
        return cap * (0.5 + 0.5 * self.random())


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; ``None`` if absent or bad.

    Example:
        >>> parse_retry_after("3")
        3.0
        >>> parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT",
        ...                   now=dt.datetime(2015, 10, 21, 7, 28, 0, tzinfo=dt.UTC))
        5.0
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def retryable_error(error: httpx.TransportError, *, idempotent: bool) -> bool:
    """Whether a request that failed with ``error`` (no answer) may be sent again."""
    if isinstance(error, _NOT_SENT):
        return True
    return idempotent and isinstance(error, _MAYBE_PROCESSED)


def retryable_status(status: int, *, idempotent: bool) -> bool:
    """Whether a request answered ``status`` may be sent again (never for 4xx but 429)."""
    if status in _REFUSED:
        return True
    return idempotent and status >= 500
