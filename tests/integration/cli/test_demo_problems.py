"""``designloop demo`` on the problems the README names besides Branin: the nanoparticle lab
(the default, with the gap to its documented reference optimum per round) and the texture
digital twin (``--strategy inverse_design``, with light strategy and problem options)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign, Job, ModelVersion, Observation
from service.enums import JobStatus
from tests.conftest import settings_env
from tests.integration.cli.test_demo import SCIENCE_TIMINGS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

NANOPARTICLE_REFERENCE = 45.9782  # NanoparticleProblem.reference_optimum().value, 4 decimals
#: Small optimiser effort: the test is about the demo, not the optimum.
FAST_BO = {"initial_points": 4, "config": {
    "optimizer": {"num_restarts": 2, "raw_samples": 64, "max_iterations": 20}}}
#: A tiny ensemble and design effort (as in the workers' texture loop test), a coarse grid.
LIGHT_ENSEMBLE = {"initial_points": 4, "members": 2, "width": 16, "epochs": 100, "starts": 8,
                  "inner_iterations": 20, "outer_iterations": 2}
COARSE_GRID = {"grid": {"nx": 21, "nz": 11}}


def _run_demo(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(settings), **SCIENCE_TIMINGS, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "service.cli.main", "demo", *args], env=env,
                          capture_output=True, text=True, timeout=200, check=False)


def _round_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"round \d+: ", line)]


def test_nanoparticle_demo_shows_the_gap_to_the_reference_optimum_per_round(
        db: str, settings: Settings) -> None:
    done = _run_demo(settings, "--problem", "nanoparticle", "--rounds", "2", "--batch", "4",
                     "--options", json.dumps(FAST_BO))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"reference optimum: t_cell_activation = {NANOPARTICLE_REFERENCE}" in out
    lines = _round_lines(out)
    assert [line.split(":")[0] for line in lines] == ["round 1", "round 2"]
    gaps = []
    for line, observations in zip(lines, (4, 8), strict=True):
        found = re.search(r"(\d+) observations, best feasible t_cell_activation = (\S+), "
                          r"gap to reference (\S+) \(", line)
        assert found is not None, line
        assert int(found[1]) == observations
        best, gap = float(found[2]), float(found[3])
        # The printed gap is the reference minus the best measured value (3 significant
        # digits), and the best never gets worse.
        assert gap == pytest.approx(NANOPARTICLE_REFERENCE - best, rel=5e-3, abs=0.05)
        gaps.append(gap)
    assert gaps[1] <= gaps[0]
    assert "┃ gap" in out or " gap " in out  # the summary table has the gap column
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 8
        assert s.scalar(select(func.count()).select_from(ModelVersion)) == 1  # round 2: BO
        options = s.scalar(select(Campaign.spec))["strategy"]["options"]  # type: ignore[index]
        assert set(s.scalars(select(Job.status))) == {JobStatus.succeeded}
    assert options == FAST_BO


def test_texture_demo_runs_inverse_design_with_light_options(
        db: str, settings: Settings) -> None:
    done = _run_demo(settings, "--problem", "texture", "--strategy", "inverse_design",
                     "--rounds", "2", "--batch", "4", "--options", json.dumps(LIGHT_ENSEMBLE),
                     "--problem-options", json.dumps(COARSE_GRID), "--round-timeout", "180")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "no documented reference optimum for 'texture'" in out
    assert "a round may take up to 180 s" in out
    lines = _round_lines(out)
    assert len(lines) == 2 and all("best feasible friction = " in line for line in lines)
    assert "gap" not in "".join(lines)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 8
        (version,) = s.scalars(select(ModelVersion))  # round 2 trained the ensemble
        kind, ensemble = version.kind, version.config["ensemble"]
        spec = s.scalar(select(Campaign.spec))
        assert set(s.scalars(select(Job.status))) == {JobStatus.succeeded}
    assert kind == "deep_ensemble" and (ensemble["members"], ensemble["width"]) == (2, 16)
    assert spec is not None and spec["strategy"]["options"] == LIGHT_ENSEMBLE
    assert spec["problem_options"]["grid"] == COARSE_GRID["grid"]


def test_demo_refuses_options_that_are_not_a_json_object(db: str, settings: Settings) -> None:
    done = _run_demo(settings, "--problem", "branin", "--rounds", "1", "--options", "[1, 2]")
    assert done.returncode != 0
    assert "must be a JSON object" in done.stdout + done.stderr
