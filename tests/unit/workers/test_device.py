"""Device selection: chosen in the process that runs the job, from the configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from workers.device import DeviceUnavailableError, select_device


@pytest.mark.parametrize(("preference", "cuda", "expected"), [
    ("cpu", True, "cpu"),
    ("cpu", False, "cpu"),
    ("auto", True, "cuda"),
    ("auto", False, "cpu"),
    ("cuda", True, "cuda"),
])
def test_select_device(monkeypatch: pytest.MonkeyPatch, preference: str, cuda: bool,
                       expected: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert select_device(preference).type == expected  # type: ignore[arg-type]


def test_cuda_demanded_without_a_gpu_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError, match="DESIGNLOOP_DEVICE=cuda"):
        select_device("cuda")


def test_cpu_never_asks_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden() -> bool:
        raise AssertionError("cuda queried")

    monkeypatch.setattr(torch.cuda, "is_available", forbidden)
    assert select_device("cpu").type == "cpu"


@pytest.mark.timeout(120)
def test_importing_the_worker_touches_no_cuda_database_or_broker() -> None:
    """The parent of a prefork pool must not have initialised CUDA or opened a connection:
    its children inherit both across fork."""
    code = (
        "import sys, torch, workers.app, workers.tasks\n"
        "import service.db.engine as e\n"
        "assert not torch.cuda.is_initialized(), 'cuda initialised at import'\n"
        "assert not e._engines, 'database engine created at import'\n"
        "assert not workers.app.app.configured, 'celery configured at import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=110, check=False)
    assert done.returncode == 0, done.stderr
