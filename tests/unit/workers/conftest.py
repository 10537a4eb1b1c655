"""Fixtures shared by the worker unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from service.config import Settings, override_settings
from service.enums import JobKind
from workers import runtime


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[uuid.UUID, JobKind, str]]:
    """Jobs the runner would publish after commit (no broker in unit tests)."""
    sent: list[tuple[uuid.UUID, JobKind, str]] = []
    monkeypatch.setattr(runtime, "publish_jobs", lambda jobs: sent.extend(jobs))
    return sent


#: Job limits for the tests that train and design in-process: the default test contract (a 25 s
#: hard limit) is for the service's own machinery; a loaded CI machine needs more for science.
SCIENCE_TIMINGS: dict[str, float] = {
    "job_soft_time_limit_s": 240.0, "job_time_limit_s": 250.0,
    "broker_visibility_timeout_s": 260.0, "lease_timeout_s": 260.0, "republish_after_s": 260.0}


@pytest.fixture
def science_timings(settings: Settings) -> Iterator[Settings]:
    """The session's settings with job limits long enough for training in a job."""
    longer = Settings.model_validate({**settings.model_dump(), **SCIENCE_TIMINGS})
    override_settings(longer)
    yield longer
    override_settings(settings)
