"""Helpers of the worker integration tests: worker processes, jobs, polling."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Job, Observation, Suggestion
from service.enums import JobKind, JobStatus, SuggestionStatus
from service.jobs import publish_jobs, submit
from tests.conftest import settings_env

REPO = Path(__file__).resolve().parents[3]
PLUGIN_PATHS = [REPO / "tests" / "plugins" / "slowsim"]


@dataclass
class Worker:
    """One worker process group and its log."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    name: str

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no shutdown code runs, like a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL if it lingers."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # also reaps pool children left in the group

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def worker_env(s: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process using settings ``s``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESIGNLOOP_")}
    env.update(settings_env(s))
    paths = [str(REPO), *map(str, PLUGIN_PATHS)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def wait_for(predicate: Callable[[], Any], *, timeout_s: float, what: str,
             workers: list[Worker] | None = None, interval_s: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout_s`` with
    what was awaited and the workers' logs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    logs = "\n".join(f"----- {w.name} (alive={w.alive}) -----\n{w.log_tail()}"
                     for w in workers or [])
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}\n{logs}")


def submit_and_publish(project_id: uuid.UUID, campaign_id: uuid.UUID, *,
                       kind: JobKind = JobKind.suggest,
                       params: dict[str, Any] | None = None) -> uuid.UUID:
    """What the API does for a request: insert the job, commit, then publish its id."""
    with session_scope() as session:
        job = submit(session, project_id=project_id, kind=kind, campaign_id=campaign_id,
                     params=params if params is not None else {"count": 4})
        sent = (job.id, job.kind, job.queue)
    publish_jobs([sent])
    return sent[0]


def jobs_by_id(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Job]:
    with session_scope() as session:
        rows = list(session.scalars(select(Job).where(Job.id.in_(list(ids)))))
        session.expunge_all()
    return {row.id: row for row in rows}


def finished(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Job] | None:
    """The jobs once every one is in a final state, else ``None`` (a :func:`wait_for`
    predicate)."""
    rows = jobs_by_id(ids)
    return rows if rows and all(job.status.is_final for job in rows.values()) else None


def assert_succeeded(rows: dict[uuid.UUID, Job]) -> None:
    bad = {str(i): (j.status.value, j.error) for i, j in rows.items()
           if j.status != JobStatus.succeeded}
    assert not bad, f"jobs did not succeed: {bad}"


def suggestions(campaign_id: uuid.UUID,
                status: SuggestionStatus | None = None) -> list[Suggestion]:
    with session_scope() as session:
        stmt = select(Suggestion).where(Suggestion.campaign_id == campaign_id)
        if status is not None:
            stmt = stmt.where(Suggestion.status == status)
        rows = list(session.scalars(stmt))
        session.expunge_all()
    return rows


def observations(campaign_id: uuid.UUID) -> list[Observation]:
    with session_scope() as session:
        rows = list(session.scalars(select(Observation).where(
            Observation.campaign_id == campaign_id)))
        session.expunge_all()
    return rows


def child_jobs(parent_id: uuid.UUID) -> list[Job]:
    with session_scope() as session:
        rows = list(session.scalars(select(Job).where(Job.parent_id == parent_id)))
        session.expunge_all()
    return rows
