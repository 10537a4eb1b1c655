"""The client runs on a lab's computer: it imports neither torch nor the service's database
or web stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import service.client, service.client.loop, service.client.insilico
heavy = sorted({m.split(".")[0] for m in sys.modules} & {
    "torch", "botorch", "gpytorch", "sqlalchemy", "fastapi", "celery", "models", "workers"})
print(heavy)
"""


def test_the_client_imports_no_heavy_package() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[4], timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout
