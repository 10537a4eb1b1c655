"""Real Celery worker processes for the worker integration tests.

``start_worker(settings)`` starts ``python -m celery -A workers.app worker`` in its own process
group (so a test can SIGKILL the main process and its pool children together), with the
test's settings exported as ``DESIGNLOOP_*`` variables and the test plug-ins on its
``PYTHONPATH``. Every worker started is stopped at the end of the test; its log is printed
when the test fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from models.problems.registry import problem_specs
from service.config import Settings, get_settings, override_settings
from tests.integration.workers.support import PLUGIN_PATHS, REPO, Worker, worker_env
from workers.app import worker_argv

StartWorker = Callable[..., Worker]


@pytest.fixture
def start_worker(request: pytest.FixtureRequest, tmp_path: Path,
                 settings: Settings) -> Iterator[StartWorker]:
    """Start worker processes: ``start_worker(settings=None, concurrency=1, pool="prefork",
    env=None)``; all are stopped at teardown, and their logs shown if the test failed."""
    started: list[Worker] = []

    def start(settings: Settings | None = None, *, concurrency: int = 1, pool: str = "prefork",
              env: dict[str, str] | None = None) -> Worker:
        name = f"w{len(started)}-{uuid.uuid4().hex[:6]}"
        log_path = tmp_path / f"{name}.log"
        argv = [sys.executable, "-m", "celery", "-A", "workers.app",
                *worker_argv("cpu,gpu", concurrency=concurrency, pool=pool, loglevel="INFO",
                             hostname=f"{name}@%h")]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, cwd=REPO, env=worker_env(settings or get_settings(), env),
                                    stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        worker = Worker(proc, log_path, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        # SIGKILL, not a warm shutdown: Celery's prefork pool takes ~5 s to join its threads,
        # and these tests are done with the worker (a crash is what they are about anyway).
        worker.kill()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for worker in started:
            print(f"\n----- log of worker {worker.name} -----\n{worker.log_tail()}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[Any]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures can tell if the test failed."""
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def use_settings(settings: Settings) -> Iterator[Callable[..., Settings]]:
    """``use_settings(**changes)``: this test's settings (validated), for this process and
    for the workers it starts; the session's settings come back afterwards."""

    def use(**changes: Any) -> Settings:
        changed = Settings(**{**settings.model_dump(), **changes})
        override_settings(changed)
        return changed

    yield use
    override_settings(settings)


@pytest.fixture(autouse=True)
def empty_broker(settings: Settings) -> Iterator[None]:
    """No message of an earlier test (e.g. a reaper's republication) reaches this test's
    workers."""
    _purge(settings)
    yield
    _purge(settings)


def _purge(settings: Settings) -> None:
    if settings.is_filesystem_broker:
        folder = settings.broker_folder / "queue"
        if folder.is_dir():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        import redis

        client = redis.Redis.from_url(settings.resolved_broker_url)
        try:
            client.flushdb()
        finally:
            client.close()


@pytest.fixture
def slowsim_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ``slowsim`` plug-in visible to this process's registry, through its entry point."""
    for path in PLUGIN_PATHS:
        monkeypatch.syspath_prepend(str(path))
    problem_specs.cache_clear()
    yield
    problem_specs.cache_clear()
