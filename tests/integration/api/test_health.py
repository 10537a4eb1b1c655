"""Liveness touches nothing; readiness checks the fixtures' database and broker."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.routes import health


def test_healthz_is_ok_without_touching_dependencies(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("healthz touched a dependency")

    monkeypatch.setattr(health, "get_engine", refuse)
    monkeypatch.setattr(health, "broker_reachable", refuse)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_200_with_the_database_and_broker_up(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_readyz_names_the_dependency_that_is_down(client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "broker_reachable",
                        lambda timeout_s: (False, "ConnectionError: refused"))
    response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable" and "broker" in error["message"]
    assert error["details"]["broker"] == {"ok": False, "detail": "ConnectionError: refused"}
    assert error["details"]["database"]["ok"] is True


def test_readyz_gives_up_on_a_hung_dependency(client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    monkeypatch.setattr(health, "CHECK_TIMEOUT_S", 0.2)
    monkeypatch.setattr(health, "broker_reachable",
                        lambda timeout_s: (release.wait(5), "late"))
    try:
        response = client.get("/readyz")
    finally:
        release.set()
    assert response.status_code == 503
    assert "no answer" in response.json()["error"]["details"]["broker"]["detail"]
