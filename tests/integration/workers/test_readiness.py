"""``GET /readyz`` follows its dependencies: 503 while PostgreSQL or Redis is down, 200 once
both are back. Both servers are private instances on spare ports (the shared ones are never
stopped), so this runs whatever the test backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.db.engine import dispose_engines
from tests.integration.workers.support import wait_for
from tests.servers import PostgresCluster, RedisServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not PostgresCluster.available(), reason="PostgreSQL binaries missing"),
    pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed"),
]


@pytest.fixture
def servers() -> Iterator[tuple[PostgresCluster, RedisServer]]:
    with PostgresCluster() as postgres, RedisServer() as broker:
        yield postgres, broker


@pytest.fixture
def client(servers: tuple[PostgresCluster, RedisServer],
           use_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    from service.api.app import create_app

    postgres, broker = servers
    settings = use_settings(database_url=postgres.url(), broker_url=broker.url(0))
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    dispose_engines()  # the private cluster is about to go: forget its connection pool


def _status(client: TestClient) -> Callable[[], int]:
    return lambda: client.get("/readyz").status_code


def _becomes(client: TestClient, status: int, what: str) -> dict[str, object]:
    wait_for(lambda: _status(client)() == status, timeout_s=20, what=what, interval_s=0.2)
    return client.get("/readyz").json()


def test_readyz_follows_postgres_and_redis(servers: tuple[PostgresCluster, RedisServer],
                                          client: TestClient) -> None:
    postgres, broker = servers
    assert client.get("/readyz").status_code == 200

    postgres.stop()
    body = _becomes(client, 503, "503 with PostgreSQL down")
    assert body["error"]["details"]["database"]["ok"] is False  # type: ignore[index]
    assert body["error"]["details"]["broker"]["ok"] is True  # type: ignore[index]
    assert client.get("/healthz").status_code == 200  # liveness touches no dependency
    postgres.start()
    _becomes(client, 200, "200 with PostgreSQL back")

    broker.stop()
    body = _becomes(client, 503, "503 with Redis down")
    assert body["error"]["details"]["broker"]["ok"] is False  # type: ignore[index]
    broker.start()
    _becomes(client, 200, "200 with Redis back")

    postgres.kill()  # a crash, not a clean stop: recovery on restart
    broker.kill()
    _becomes(client, 503, "503 with both down")
    postgres.start()
    assert client.get("/readyz").status_code == 503  # Redis is still down
    broker.start()
    _becomes(client, 200, "200 with both back after a crash")
