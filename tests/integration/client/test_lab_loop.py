"""The closed loop of a lab through the client, against a real API and a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.space.keys import design_key
from service.cli.main import app
from service.client import Client
from service.client.insilico import BraninLab
from service.client.loop import closed_loop
from service.enums import SuggestionStatus
from tests.integration.client.conftest import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lab_robot.py"


def test_closed_loop_for_several_rounds(client: Client, worker: object) -> None:
    campaign = client.create_campaign(name="robot", problem="branin", seed=3)
    reports = list(closed_loop(campaign, BraninLab(noise_sd=0.01, failure_rate=0.25, seed=1),
                               rounds=3, batch=4))

    assert [r.number for r in reports] == [1, 2, 3]
    assert all(len(r.suggestions) == len(r.observations) == 4 for r in reports)
    observations = list(campaign.observations())
    assert len(observations) == 12
    keys = [design_key(o.parameters) for o in observations]
    assert len(set(keys)) == 12  # never the same design twice
    answered = [o.suggestion_id for o in observations]
    assert set(answered) == {s.id for r in reports for s in r.suggestions}
    assert {s.status for s in campaign.suggestions()} == {SuggestionStatus.observed}
    summary = campaign.refresh().summary
    assert summary is not None
    assert (summary.observations, summary.pending_suggestions) == (12, 0)
    assert summary.failed_observations == sum(r.failed for r in reports)


def _run_example(url: str, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``examples/lab_robot.py`` in a fresh interpreter, reporting whether torch was loaded."""
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['lab_robot.py', *{['--url', url, '--key', key, *args]!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print('TORCH LOADED' if 'torch' in sys.modules else 'NO TORCH')\n"
        "sys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESIGNLOOP_")}
    return subprocess.run([sys.executable, "-c", script], cwd=EXAMPLE.parents[1], env=env,
                          capture_output=True, text=True, timeout=90, check=False)


def test_the_lab_robot_example_runs_and_resumes(api_server: ApiServer, client: Client,
                                                api_key: str, worker: object) -> None:
    first = _run_example(api_server.url, api_key, "--rounds", "2", "--batch", "3",
                         "--no-progress")
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.strip().splitlines()[-1] == "NO TORCH"
    assert "6 observations" in first.stdout

    again = _run_example(api_server.url, api_key, "--rounds", "1", "--batch", "3",
                         "--no-progress")  # the same campaign, found by name, goes on
    assert again.returncode == 0, again.stdout + again.stderr
    (campaign,) = client.campaigns()
    observations = list(campaign.observations())
    assert len(observations) == 9
    assert len({design_key(o.parameters) for o in observations}) == 9
    summary = campaign.refresh().summary  # lists carry no summary; one campaign does
    assert summary is not None and summary.pending_suggestions == 0


def test_designloop_lab_run(api_server: ApiServer, client: Client, api_key: str,
                            worker: object) -> None:
    result = CliRunner().invoke(app, [
        "lab", "run", "--url", api_server.url, "--key", api_key, "--name", "cli-robot",
        "--rounds", "2", "--batch", "2", "--failure-rate", "0.5", "--seed", "4",
        "--no-progress"])
    assert result.exit_code == 0, result.output
    (campaign,) = client.campaigns()
    assert campaign.name == "cli-robot" and campaign.data.problem == "branin"
    observations = list(campaign.observations())
    assert len(observations) == 4 and any(o.failed for o in observations)
    assert all(o.suggestion_id is not None for o in observations)


def test_designloop_lab_reports_api_errors(api_server: ApiServer, api_key: str) -> None:
    result = CliRunner().invoke(app, ["lab", "run", "--url", api_server.url, "--key", api_key,
                                      "--campaign", str(uuid.uuid4()), "--rounds", "1"])
    assert result.exit_code == 1
    assert "not_found" in result.output
