"""Jobs that fail through a real worker: time limits in both kinds of pool, and errors that
fail one job while the worker goes on with the next."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from service.config import Settings
from service.enums import JobStatus
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import (
    assert_succeeded,
    child_jobs,
    finished,
    submit_and_publish,
    wait_for,
)
from tests.unit.workers.factories import make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# One slowsim design takes 5 s, past the 2 s soft limit and the 3 s hard limit.
TIMINGS = {"job_soft_time_limit_s": 2.0, "job_time_limit_s": 3.0,
           "broker_visibility_timeout_s": 6.0, "lease_timeout_s": 6.0, "republish_after_s": 6.0,
           "heartbeat_interval_s": 0.5, "reaper_interval_s": 0.5}


@pytest.mark.usefixtures("slowsim_registered")
@pytest.mark.parametrize(("pool", "expected"), [
    # prefork: Celery's soft limit interrupts the simulator mid-design;
    # solo: Celery enforces no limits there, the in-task deadline stops the job.
    ("prefork", "soft time limit of 2 s"),
    ("solo", "ran past its time limit of 2 s"),
])
def test_a_job_past_its_time_limit_fails_and_the_worker_goes_on(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker,
        use_settings: Callable[..., Settings], pool: str, expected: str) -> None:
    settings = use_settings(**TIMINGS)
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="slowsim", evaluator="simulator")
    worker = start_worker(settings, pool=pool, env={"SLOWSIM_DELAY_S": "5"})
    suggest_id = submit_and_publish(project_id, campaign_id, params={"count": 1})
    assert_succeeded(wait_for(lambda: finished([suggest_id]), timeout_s=60,
                              what="the suggest job", workers=[worker]))
    evaluate_id = child_jobs(suggest_id)[0].id
    job = wait_for(lambda: finished([evaluate_id]), timeout_s=30,
                   what="the evaluate job to fail", workers=[worker])[evaluate_id]
    assert job.status == JobStatus.failed and job.error is not None, job.error
    assert job.error["type"] == "TimeLimitExceeded" and expected in job.error["message"]
    assert job.attempts == 1

    # The worker survived its job's failure and takes the next one.
    lab = make_campaign(project_id)
    next_id = submit_and_publish(project_id, lab, params={"count": 2})
    assert_succeeded(wait_for(lambda: finished([next_id]), timeout_s=30,
                              what="a job after the failure", workers=[worker]))


def test_a_science_error_fails_its_job_readably(project_key: tuple[uuid.UUID, str],
                                                start_worker: StartWorker) -> None:
    project_id, _ = project_key
    tiny = {"parameters": [{"type": "categorical", "name": "c", "choices": ["a", "b"]}]}
    campaign_id = make_campaign(project_id, space=tiny)
    worker = start_worker()
    bad = submit_and_publish(project_id, campaign_id, params={"count": 3})
    good = submit_and_publish(project_id, campaign_id, params={"count": 2})
    rows = wait_for(lambda: finished([bad, good]), timeout_s=60, what="both jobs",
                    workers=[worker])
    assert rows[good].status == JobStatus.succeeded
    error = rows[bad].error
    assert rows[bad].status == JobStatus.failed and error is not None
    assert (error["type"], error["category"]) == ("SpaceExhaustedError", "science")
    assert error["details"]["requested"] == 3 and error["details"]["available"] in (0, 2)
