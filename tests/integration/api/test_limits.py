"""Oversize bodies are 413, with and without Content-Length, and store nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config import Settings
from tests.integration.api.helpers import CAMPAIGN, assert_error, batch, stored

LIMIT = 4096


@pytest.fixture
def small_client(settings: Settings, db: str) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}))
    with TestClient(app) as client:
        yield client


def _big_batch() -> dict[str, Any]:
    return batch(*[{"parameters": {"x": 0.5}, "outcomes": {"y": 1.0}}] * 200)


def test_declared_oversize_body_is_413(small_client: TestClient,
                                       headers: dict[str, str]) -> None:
    response = small_client.post("/v1/campaigns", json={**CAMPAIGN, "name": "x" * LIMIT},
                                 headers=headers)
    assert "content-length" in response.request.headers
    error = assert_error(response, 413)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_body_bytes": LIMIT}
    assert stored()["campaigns"] == 0


def test_chunked_oversize_body_without_content_length_is_413(
        small_client: TestClient, headers: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(LIMIT // 64 + 2):
            yield b"x" * 64
        yield b'"}'

    response = small_client.post("/v1/campaigns", content=chunks(), headers={
        **headers, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413)
    assert stored()["campaigns"] == 0


def test_oversize_observation_batch_is_413_before_authentication(
        small_client: TestClient) -> None:
    response = small_client.post("/v1/campaigns/0b6c5f0e-0000-4000-8000-000000000000/"
                                 "observations", json=_big_batch())
    assert_error(response, 413)


def test_bodies_within_the_limit_pass(small_client: TestClient,
                                      headers: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "small", "problem": "branin"}'

    response = small_client.post("/v1/campaigns", content=chunks(), headers={
        **headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
