"""The thin tasks: outcome passthrough and bounded retries after infrastructure errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from service.config import Settings
from service.enums import JobKind
from workers import tasks
from workers.runtime import Outcome, RetryableError


def _noop(ctx: Any) -> None:
    pass


class _Retry(Exception):
    pass


class FakeTask:
    """Just what ``tasks._run`` uses of a bound Celery task."""

    def __init__(self, retries: int) -> None:
        self.request = SimpleNamespace(retries=retries)
        self.retried: list[dict[str, Any]] = []

    def retry(self, **kwargs: Any) -> _Retry:
        self.retried.append(kwargs)
        return _Retry()


def test_the_outcome_is_the_task_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "run_job", lambda job_id, handler, kind: Outcome.skipped)
    task = FakeTask(0)
    assert tasks._run(task, "id", _noop, JobKind.suggest) == "skipped"  # type: ignore[arg-type]


def test_an_infrastructure_error_is_retried_with_backoff(monkeypatch: pytest.MonkeyPatch,
                                                         settings: Settings) -> None:
    def down(job_id: str, handler: Any, kind: JobKind) -> Outcome:
        raise RetryableError("database unreachable")

    monkeypatch.setattr(tasks, "run_job", down)
    task = FakeTask(retries=2)
    with pytest.raises(_Retry):
        tasks._run(task, "id", _noop, JobKind.suggest)  # type: ignore[arg-type]
    assert task.retried == [{"countdown": 4.0, "max_retries": None}]


def test_retries_are_bounded_by_the_attempt_budget(monkeypatch: pytest.MonkeyPatch,
                                                   settings: Settings) -> None:
    def down(job_id: str, handler: Any, kind: JobKind) -> Outcome:
        raise RetryableError("database unreachable")

    monkeypatch.setattr(tasks, "run_job", down)
    task = FakeTask(retries=settings.max_attempts)
    assert tasks._run(task, "id", _noop, JobKind.suggest) == "abandoned"  # type: ignore[arg-type]
    assert task.retried == []


def test_backoff_grows_and_is_capped() -> None:
    assert [tasks.retry_countdown(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
