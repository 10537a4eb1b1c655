"""Job-row operations outside the worker: cancel never overwrites a finished job, and the
reaper's pass also forgets expired idempotency keys."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.tables import IdempotencyKey, Job
from service.enums import JobKind, JobStatus
from service.errors import Conflict
from service.jobs import reap_once
from service.repositories import jobs as job_rows


def _job(project_id: uuid.UUID) -> uuid.UUID:
    with session_scope() as s:
        return job_rows.create_job(s, project_id=project_id, kind=JobKind.suggest,
                                   queue="cpu").id


def test_cancel_of_a_finished_job_is_a_conflict_and_changes_nothing(
        project_key: tuple[uuid.UUID, str]) -> None:
    job_id = _job(project_key[0])
    with session_scope() as s:
        token = job_rows.claim(s, job_id, "test")
        assert token is not None
        job_rows.succeed(s, job_id, token, {"ok": True})
    with pytest.raises(Conflict), session_scope() as s:
        job_rows.cancel(s, job_rows.get_job(s, project_key[0], job_id))
    with session_scope() as s:
        assert s.scalar(select(Job.status).where(Job.id == job_id)) == JobStatus.succeeded


def test_cancel_of_a_running_job_fences_out_its_attempt(
        project_key: tuple[uuid.UUID, str]) -> None:
    job_id = _job(project_key[0])
    with session_scope() as s:
        token = job_rows.claim(s, job_id, "test")
        assert token is not None
    with session_scope() as s:
        job_rows.cancel(s, job_rows.get_job(s, project_key[0], job_id))
    with session_scope() as s:
        assert not job_rows.heartbeat(s, job_id, token)
        assert s.scalar(select(Job.status).where(Job.id == job_id)) == JobStatus.cancelled


def test_reaper_forgets_expired_idempotency_keys(project_key: tuple[uuid.UUID, str]) -> None:
    project_id = project_key[0]
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    with session_scope() as s:
        s.add(IdempotencyKey(project_id=project_id, key="old", request_hash="h",
                             response_status=201, response_body={}, created_at=old))
        s.add(IdempotencyKey(project_id=project_id, key="new", request_hash="h",
                             response_status=201, response_body={}))
    reap_once()
    with session_scope() as s:
        assert set(s.scalars(select(IdempotencyKey.key))) == {"new"}
