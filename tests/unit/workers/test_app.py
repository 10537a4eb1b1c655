"""The Celery app's wiring: worker arguments, the reaper thread, configuration from settings."""

from __future__ import annotations

import threading
import time

import pytest

import service.jobs
from service.config import Settings
from service.queue import celery_config
from workers import app as worker_app

pytestmark = pytest.mark.timeout(60)


def test_worker_argv_names_the_queues_and_the_pool() -> None:
    argv = worker_app.worker_argv("cpu,gpu", concurrency=2, pool="solo", hostname="w1@%h")
    assert argv[:2] == ["worker", "--queues"] and argv[2] == "cpu,gpu"
    assert ["--concurrency", "2"] == argv[3:5] and ["--pool", "solo"] == argv[5:7]
    assert "--without-mingle" in argv and argv[-2:] == ["--hostname", "w1@%h"]


def test_worker_argv_refuses_an_unknown_queue() -> None:
    with pytest.raises(ValueError, match="unknown queues"):
        worker_app.worker_argv(["cpu", "tpu"])


def test_the_reaper_thread_outlives_errors_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    two_more = threading.Event()

    def flaky() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            two_more.set()
        if len(calls) % 2:
            raise ConnectionError("redis is restarting")

    monkeypatch.setattr(service.jobs, "reap_once", flaky)
    reaper = worker_app.Reaper(interval_s=0.01)
    reaper.start()
    assert two_more.wait(10), "the reaper died after an error"
    reaper.stop()
    assert not reaper.is_alive()


def test_configuration_follows_the_timing_contract(settings: Settings) -> None:
    conf = celery_config(settings)
    assert conf["task_soft_time_limit"] < conf["task_time_limit"]
    assert conf["task_acks_late"] and conf["worker_prefetch_multiplier"] == 1
    assert [q.name for q in conf["task_queues"]] == ["cpu", "gpu"]
    if not settings.is_filesystem_broker:
        visibility = conf["broker_transport_options"]["visibility_timeout"]
        assert conf["task_time_limit"] < visibility <= settings.lease_timeout_s


def test_tasks_are_registered_by_their_public_names() -> None:
    import workers.tasks  # noqa: F401 - registers the tasks

    names = {n for n in worker_app.app.tasks if n.startswith("designloop.")}
    assert names == {"designloop.suggest", "designloop.evaluate", "designloop.train",
                     "designloop.reprocess", "designloop.plot"}
    assert worker_app.app.tasks["designloop.suggest"].acks_late
