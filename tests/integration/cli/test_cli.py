"""The command line: a project key printed once and stored hashed; campaign commands act as
the key's project and refuse what the API refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from typer.testing import CliRunner

from service.cli.main import app
from service.db.engine import session_scope
from service.db.tables import ApiKey, Observation

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_project_create_prints_a_key_that_is_stored_only_as_a_hash(db: str) -> None:
    result = runner.invoke(app, ["project", "create", "cli-lab"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("dl_")
    with session_scope() as s:
        rows = list(s.scalars(select(ApiKey)))
    assert len(rows) == 1
    assert key not in rows[0].secret_hash and rows[0].prefix in key
    again = runner.invoke(app, ["project", "create", "cli-lab"])
    assert again.exit_code != 0


def test_campaign_create_show_observe(db: str, tmp_path: Path,
                                      project_key: tuple[object, str]) -> None:
    _, key = project_key
    spec = tmp_path / "campaign.json"
    spec.write_text(json.dumps({
        "name": "cli", "space": {"parameters": [
            {"type": "continuous", "name": "x", "lower": 0, "upper": 1}]},
        "objectives": [{"name": "y", "goal": "maximize"}]}))
    created = runner.invoke(app, ["campaign", "create", str(spec), "--key", key])
    assert created.exit_code == 0, created.output
    campaign_id = created.output.split()[-1]

    results = tmp_path / "obs.json"
    results.write_text(json.dumps({"observations": [
        {"parameters": {"x": 0.25}, "outcomes": {"y": 1.5}}]}))
    observed = runner.invoke(app, ["observe", campaign_id, str(results), "--key", key])
    assert observed.exit_code == 0, observed.output

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"observations": [
        {"parameters": {"x": 0.5}, "outcomes": {"y": 1.0}},
        {"parameters": {"x": 7.0}, "outcomes": {"y": 1.0}}]}))
    refused = runner.invoke(app, ["observe", campaign_id, str(bad), "--key", key])
    assert refused.exit_code != 0
    with session_scope() as s:
        assert len(list(s.scalars(select(Observation)))) == 1  # the bad batch stored nothing

    shown = runner.invoke(app, ["campaign", "show", campaign_id, "--key", key])
    assert shown.exit_code == 0, shown.output
    assert '"observations": 1' in shown.output

    wrong = runner.invoke(app, ["campaign", "list", "--key", "dl_nope_nope"])
    assert wrong.exit_code != 0


def test_migrate_creates_a_home_that_does_not_exist_yet(db: str, tmp_path: Path) -> None:
    """``designloop migrate`` on a fresh machine: the default SQLite file lives under
    ``DESIGNLOOP_HOME``, whose folders are created first."""
    from service.config import Settings, get_settings, override_settings

    home = tmp_path / "not" / "there" / "yet"
    before = get_settings()
    override_settings(Settings.model_validate({**before.model_dump(), "home": home,
                                               "database_url": None}))
    try:
        result = runner.invoke(app, ["migrate"])
        again = runner.invoke(app, ["migrate"])  # already at head: nothing to do, no error
    finally:
        override_settings(before)
    assert result.exit_code == 0, result.output
    assert again.exit_code == 0, again.output
    database = home / "designloop.db"
    assert database.is_file() and "database at head" in result.output
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert {"campaigns", "suggestions", "alembic_version"} <= tables
