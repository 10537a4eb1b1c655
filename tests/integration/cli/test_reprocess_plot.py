"""``designloop reprocess create/show/cancel/resume`` and ``designloop plot``: the commands
act as the key's project on the configured database, as the API does."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from service.cli.main import app
from service.db.engine import session_scope
from service.db.tables import Job, ModelVersion, ReprocessItem, ReprocessRun
from service.enums import JobStatus, ReprocessItemStatus, ReprocessStatus
from service.repositories.campaigns import get_campaign
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from tests.unit.workers.factories import make_campaign
from workers.handlers import reprocess, suggest
from workers.runtime import Outcome, run_job

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _run(run_id: uuid.UUID) -> tuple[ReprocessRun, list[ReprocessItem]]:
    with session_scope() as session:
        run = session.get(ReprocessRun, run_id)
        assert run is not None
        items = list(session.scalars(select(ReprocessItem).where(
            ReprocessItem.run_id == run_id).order_by(ReprocessItem.position)))
        session.expunge_all()
    return run, items


def test_reprocess_create_show_cancel_resume(db: str, project_key: tuple[uuid.UUID, str]
                                             ) -> None:
    project_id, key = project_key
    campaigns = [make_campaign(project_id, seed=s) for s in (1, 2)]
    with session_scope() as session:  # an old ensemble that reports its validation error
        session.add(ModelVersion(campaign_id=campaigns[0], number=1, kind="deep_ensemble",
                                 config={}, metrics={"val_rmse": {"y": 0.75}}))
    created = _invoke("reprocess", "create", "-c", str(campaigns[0]), "-c", str(campaigns[1]),
                      "--count", "2", "--max-in-flight", "1", "--key", key)
    match = re.search(r"reprocess run ([0-9a-f-]{36}): 2 campaign\(s\)", created)
    assert match, created
    run_id = uuid.UUID(match.group(1))

    shown = json.loads(_invoke("reprocess", "show", str(run_id), "--json", "--key", key))
    assert shown["status"] == "running" and shown["counts"]["waiting"] == 2

    cancelled = _invoke("reprocess", "cancel", str(run_id), "--key", key)
    assert "cancelled" in cancelled
    run, items = _run(run_id)
    assert run.status == ReprocessStatus.cancelled
    assert {i.status for i in items} == {ReprocessItemStatus.cancelled}
    again = runner.invoke(app, ["reprocess", "cancel", str(run_id), "--key", key])
    assert again.exit_code != 0  # not running any more

    resumed = _invoke("reprocess", "resume", str(run_id), "--key", key)
    assert f"reprocess run {run_id} resumed" in resumed
    run, items = _run(run_id)
    assert run.status == ReprocessStatus.running and run.job_id is not None
    # Do the workers' part here: passes and children until the run is done.
    for _ in range(10):
        assert run_job(run.job_id, reprocess.handle) is Outcome.succeeded
        run, items = _run(run_id)
        if run.status == ReprocessStatus.finished:
            break
        for item in items:
            if item.job_id is not None:
                with session_scope() as session:
                    child = session.get(Job, item.job_id)
                    queued = child is not None and child.status == JobStatus.queued
                if queued:
                    assert run_job(item.job_id, suggest.handle) is Outcome.succeeded
    assert run.status == ReprocessStatus.finished
    assert {i.status for i in items} == {ReprocessItemStatus.succeeded}

    table = _invoke("reprocess", "show", str(run_id), "--key", key)
    assert "finished" in table and "succeeded 2" in table
    assert "y: 0.75 -> - (val" in table  # the old model's validation RMSE, named
    report = json.loads(_invoke("reprocess", "show", str(run_id), "--json", "--key", key))
    first = report["items"][0]["report"]["model"]["error"]["y"]
    assert first["old_rmse"] == 0.75 and first["old_metric"] == "val_rmse"

    wrong = runner.invoke(app, ["reprocess", "show", str(uuid.uuid4()), "--key", key])
    assert wrong.exit_code != 0


def test_plot_writes_a_png(db: str, project_key: tuple[uuid.UUID, str], tmp_path: Path) -> None:
    project_id, key = project_key
    campaign_id = make_campaign(project_id, problem="branin")
    with session_scope() as session:
        add_observations(session, get_campaign(session, project_id, campaign_id),
                         ObservationBatch.model_validate({"observations": [
                             {"parameters": {"x1": x, "x2": 2.0 * x},
                              "outcomes": {"value": 10.0 - x, "constraint": -1.0}}
                             for x in (1.0, 2.0, 3.0)]}), posted_by="test")
    out = tmp_path / "convergence.png"
    written = _invoke("plot", str(campaign_id), "convergence", "-o", str(out), "--key", key)
    assert f"wrote {out}" in written
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 1000

    refused = runner.invoke(app, ["plot", str(uuid.uuid4()), "convergence", "-o",
                                  str(tmp_path / "none.png"), "--key", key])
    assert refused.exit_code != 0 and not (tmp_path / "none.png").exists()
