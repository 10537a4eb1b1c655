"""Redis restarted without persistence while jobs are queued: every job still finishes.

The restart loses the queue; nothing in Redis remembers the jobs. The Job rows do: the reaper
of the worker that starts afterwards republishes every queued job nobody claimed within
``republish_after_s``. Runs on the postgres backend (the embedded broker is a folder).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from service.config import Settings
from tests.conftest import BACKEND
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import (
    assert_succeeded,
    finished,
    jobs_by_id,
    submit_and_publish,
    suggestions,
    wait_for,
)
from tests.servers import RedisServer
from tests.unit.workers.factories import make_campaign

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.skipif(BACKEND != "postgres", reason="needs the Redis broker (postgres backend)"),
    pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed"),
]

# republish_after_s is as small as the contract allows: soft < hard < visibility <= republish.
TIMINGS = {"job_soft_time_limit_s": 2.0, "job_time_limit_s": 3.0,
           "broker_visibility_timeout_s": 4.0, "lease_timeout_s": 4.0, "republish_after_s": 4.0,
           "heartbeat_interval_s": 0.5, "reaper_interval_s": 0.5}
JOBS = 3


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def _queued_messages(server: RedisServer) -> int:
    client = redis.Redis.from_url(server.url(0))
    try:
        return sum(int(client.llen(queue)) for queue in ("cpu", "gpu"))
    finally:
        client.close()


def test_jobs_queued_before_a_redis_restart_all_finish(
        project_key: tuple[uuid.UUID, str], private_redis: RedisServer,
        start_worker: StartWorker, use_settings: Callable[..., Settings]) -> None:
    settings = use_settings(broker_url=private_redis.url(0), **TIMINGS)
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    ids = [submit_and_publish(project_id, campaign_id, params={"count": 3})
           for _ in range(JOBS)]
    assert all(job.publish_count == 1 for job in jobs_by_id(ids).values())
    assert _queued_messages(private_redis) == JOBS

    private_redis.restart()  # no AOF, no RDB: the queue is gone
    assert _queued_messages(private_redis) == 0

    worker = start_worker(settings)
    rows = wait_for(lambda: finished(ids), timeout_s=60, what="every job, via the reaper",
                    workers=[worker])
    assert_succeeded(rows)
    assert all(job.publish_count >= 2 and job.attempts == 1 for job in rows.values()), [
        (job.publish_count, job.attempts) for job in rows.values()]
    pending = suggestions(campaign_id)
    assert len(pending) == len({s.design_key for s in pending}) == 3 * JOBS
