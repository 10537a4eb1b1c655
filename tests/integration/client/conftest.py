"""Fixtures of the client tests: a real API server and a real worker, and a client per test.

The API runs as ``uvicorn --factory service.api.app:create_app`` in a subprocess on a spare
loopback port, the worker as ``celery -A workers.app worker`` (as in
``tests/integration/workers``), both with the test session's settings exported as
``DESIGNLOOP_*`` variables. Both are started once for this package (a few seconds each) and
killed, with their process groups, when its last test is done; each test still gets an empty
database (the ``db`` fixture behind ``project_key``). Their logs are printed when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.client import Client, RetryPolicy
from service.config import Settings
from tests.integration.client.proxy import DroppingProxy
from tests.integration.workers.support import REPO, Worker, worker_env
from tests.servers import free_port
from workers.app import worker_argv

START_TIMEOUT_S = 60.0


@dataclass
class ApiServer:
    """The API process and where it listens."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _spawn(argv: list[str], settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """A server process in its own session (so its whole group can be killed), logging to
    ``log_path``, with the test session's ``DESIGNLOOP_*`` settings."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, cwd=REPO, env=worker_env(settings), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _wait_healthy(server: ApiServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the API exited at start:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    server.kill()
    raise TimeoutError(f"the API did not answer within {START_TIMEOUT_S} s:\n"
                       f"{server.log_tail()}")


@pytest.fixture(scope="package")
def api_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[ApiServer]:
    """A real API server on a spare loopback port, using the test database and broker."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("api") / "api.log"
    argv = [sys.executable, "-m", "uvicorn", "--factory", "service.api.app:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = _spawn(argv, settings, log_path)
    server = ApiServer(proc, port, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="package")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A real Celery worker (prefork, one process) on the test broker."""
    _purge_broker(settings)
    name = f"client-tests-{uuid.uuid4().hex[:6]}"
    log_path = tmp_path_factory.mktemp("worker") / f"{name}.log"
    argv = [sys.executable, "-m", "celery", "-A", "workers.app",
            *worker_argv("cpu,gpu", concurrency=1, pool="prefork", loglevel="INFO",
                         hostname=f"{name}@%h")]
    proc = _spawn(argv, settings, log_path)
    started = Worker(proc, log_path, name)
    try:
        yield started
    finally:
        started.kill()
        _purge_broker(settings)


def _purge_broker(settings: Settings) -> None:
    """No message of an earlier test names a job of ours, and none of ours outlives us."""
    if settings.is_filesystem_broker:
        folder = settings.broker_folder / "queue"
        if folder.is_dir():
            for message in folder.iterdir():
                message.unlink(missing_ok=True)
        return
    import redis

    client = redis.Redis.from_url(settings.resolved_broker_url)
    try:
        client.flushdb()
    finally:
        client.close()


FAST_RETRIES = RetryPolicy(retries=3, backoff_s=0.05, max_backoff_s=0.5)


@pytest.fixture
def api_key(project_key: tuple[uuid.UUID, str]) -> str:
    """A fresh project's key, in an empty database."""
    return project_key[1]


@pytest.fixture
def client(api_server: ApiServer, api_key: str) -> Iterator[Client]:
    """A client of the real API, acting as a fresh project."""
    with Client(api_server.url, api_key, timeout=30.0, retries=FAST_RETRIES,
                poll_interval_s=0.2) as c:
        yield c


@pytest.fixture
def proxy(api_server: ApiServer) -> Iterator[DroppingProxy]:
    """A TCP proxy in front of the API that can lose answers on their way back."""
    with DroppingProxy(api_server.port) as p:
        yield p


@pytest.fixture
def proxied_client(proxy: DroppingProxy, api_key: str) -> Iterator[Client]:
    """A client that talks to the API through :func:`proxy`."""
    with Client(proxy.url, api_key, timeout=30.0, retries=FAST_RETRIES) as c:
        yield c


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the API's and the worker's logs when a test fails."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    for name in ("api_server", "worker"):
        if name in request.fixturenames:
            print(f"\n----- log of {name} -----\n{request.getfixturevalue(name).log_tail()}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report
