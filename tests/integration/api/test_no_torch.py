"""The API process never imports torch: not at start-up, not serving requests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from service.config import Settings
from tests.conftest import settings_env

SCRIPT = """
import os, sys
from fastapi.testclient import TestClient
from service.api.app import create_app

auth = {"Authorization": "Bearer " + os.environ["API_KEY"]}
with TestClient(create_app()) as client:
    assert client.get("/healthz").status_code == 200
    created = client.post("/v1/campaigns", json={"name": "b", "problem": "branin"},
                          headers=auth)
    assert created.status_code == 201, created.text
    url = "/v1/campaigns/" + created.json()["id"]
    assert client.get(url, headers=auth).status_code == 200
    assert client.post(url + "/observations", headers=auth, json={"observations": [
        {"parameters": {"x1": 1.0, "x2": 2.0}, "outcomes": {"value": 3.0,
                                                           "constraint": -1.0}}]}
                       ).status_code == 201
    assert client.post(url + "/suggestions", json={"count": 2},
                       headers=auth).status_code == 202
    assert client.get(url + "/export", headers=auth).status_code == 200
    client.get("/readyz")
print("TORCH LOADED" if "torch" in sys.modules else "NO TORCH")
"""


def test_the_api_never_imports_torch(settings: Settings, project_key: tuple[uuid.UUID, str],
                                     tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    # The test's database, but a broker of its own: no worker runs here to take the message.
    env = {**os.environ, **settings_env(settings), "API_KEY": project_key[1],
           "DESIGNLOOP_HOME": str(tmp_path), "DESIGNLOOP_BROKER_URL": "filesystem://"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "NO TORCH", result.stdout
