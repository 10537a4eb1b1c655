"""Fixtures shared by the worker unit tests."""

from __future__ import annotations

import uuid

import pytest

from service.enums import JobKind
from workers import runtime


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[uuid.UUID, JobKind, str]]:
    """Jobs the runner would publish after commit (no broker in unit tests)."""
    sent: list[tuple[uuid.UUID, JobKind, str]] = []
    monkeypatch.setattr(runtime, "publish_jobs", lambda jobs: sent.extend(jobs))
    return sent
