"""A worker SIGKILLed in the middle of a job: the job is re-run to success, results stored once."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from service.config import Settings
from service.enums import JobStatus, SuggestionStatus
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import (
    assert_succeeded,
    child_jobs,
    finished,
    jobs_by_id,
    observations,
    submit_and_publish,
    suggestions,
    wait_for,
)
from tests.unit.workers.factories import make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

# At SLOWSIM_DELAY_S = 1 s per design the job runs ~4 s: long enough to be killed in.
DESIGNS = 4
# Short job timings: the lost lease is noticed ~10 s after the kill (hard < visibility <= lease).
TIMINGS = {"job_soft_time_limit_s": 8.0, "job_time_limit_s": 9.0,
           "broker_visibility_timeout_s": 10.0, "lease_timeout_s": 10.0,
           "republish_after_s": 10.0, "heartbeat_interval_s": 0.5, "reaper_interval_s": 0.5}


# Below slowsim's divergence at x > 0.95: every design has outcomes to compare.
SPACE = {"parameters": [{"type": "continuous", "name": "x", "lower": 0.0, "upper": 0.9}]}


def _live_members(pgid: int) -> list[int]:
    """Pids of the process group that are still running (zombies awaiting their reaper and
    exited processes do not count)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                live.append(int(stat.parent.name))
    return live


@pytest.mark.usefixtures("slowsim_registered")
def test_sigkill_mid_job_reruns_it_once(project_key: tuple[uuid.UUID, str],
                                        start_worker: StartWorker,
                                        use_settings: Callable[..., Settings]) -> None:
    settings = use_settings(**TIMINGS)
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="slowsim", evaluator="simulator",
                                space=SPACE)
    first = start_worker(settings, env={"SLOWSIM_DELAY_S": "1.0"})
    suggest_id = submit_and_publish(project_id, campaign_id, params={"count": DESIGNS})
    assert_succeeded(wait_for(lambda: finished([suggest_id]), timeout_s=60,
                              what="the suggest job", workers=[first]))
    evaluate_id = child_jobs(suggest_id)[0].id

    def running_with_progress() -> bool:
        job = jobs_by_id([evaluate_id])[evaluate_id]
        return job.status == JobStatus.running and job.progress > 0

    wait_for(running_with_progress, timeout_s=30, what="the evaluate job to make progress",
             workers=[first], interval_s=0.05)
    first.kill()  # the main process and its pool child, at once
    wait_for(lambda: not _live_members(first.proc.pid), timeout_s=5,
             what="the killed worker's pool children to be gone")
    assert observations(campaign_id) == []  # nothing was committed by the killed attempt

    second = start_worker(settings, env={"SLOWSIM_DELAY_S": "1.0"})
    rows = wait_for(lambda: finished([evaluate_id]), timeout_s=60,
                    what="the evaluate job to be re-run", workers=[first, second])
    assert_succeeded(rows)
    job = rows[evaluate_id]
    assert job.attempts == 2, (job.attempts, job.message)

    made = suggestions(campaign_id)
    stored = observations(campaign_id)
    assert len(made) == DESIGNS and all(s.status == SuggestionStatus.observed for s in made)
    assert Counter(o.suggestion_id for o in stored) == Counter({s.id: 1 for s in made})
    for row in stored:
        assert row.outcomes == {"y": pytest.approx((row.parameters["x"] - 0.3) ** 2)}
    assert jobs_by_id([suggest_id])[suggest_id].attempts == 1
