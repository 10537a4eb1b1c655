"""``designloop demo`` runs whole rounds through a real worker, and a second run resumes the
same campaign (state survives a restart)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign, Job, ModelVersion, Observation
from service.enums import JobStatus
from tests.conftest import settings_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


#: The demo fits GPs in its jobs: longer job limits than the test contract's 25 s, so a loaded
#: machine does not fail it (the contract's order is kept: soft < hard < visibility <= reaper).
SCIENCE_TIMINGS = {"DESIGNLOOP_JOB_SOFT_TIME_LIMIT_S": "150", "DESIGNLOOP_JOB_TIME_LIMIT_S": "160",
                   "DESIGNLOOP_BROKER_VISIBILITY_TIMEOUT_S": "170",
                   "DESIGNLOOP_LEASE_TIMEOUT_S": "170", "DESIGNLOOP_REPUBLISH_AFTER_S": "170"}


def _run_demo(settings: Settings, rounds: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings), **SCIENCE_TIMINGS, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "demo", "--problem", "branin", "--rounds",
         str(rounds), "--batch", "3"], env=env, capture_output=True, text=True, timeout=200, check=False)


def test_demo_runs_rounds_and_resumes(db: str, settings: Settings) -> None:
    first = _run_demo(settings, rounds=2)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created campaign" in first.stdout
    assert "best feasible" in first.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
        assert s.scalar(select(func.count()).select_from(Observation)) == 6
        statuses = set(s.scalars(select(Job.status)))
    assert statuses == {JobStatus.succeeded}

    second = _run_demo(settings, rounds=1)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resuming campaign" in second.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
        assert s.scalar(select(func.count()).select_from(Observation)) == 9
        keys = list(s.scalars(select(Observation.parameters)))
        # Six space-filling designs met the BO start (4); the third round fitted a model.
        assert s.scalar(select(func.count()).select_from(ModelVersion)) == 1
    assert len({tuple(sorted(k.items())) for k in keys}) == 9  # no design simulated twice
