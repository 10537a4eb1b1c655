"""The migrations are the schema: ``upgrade head`` on an empty database equals the ORM
metadata (an autogenerate diff is empty) and ``downgrade base`` removes everything, on
PostgreSQL and on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session

from models.space.keys import design_key
from service.db.base import Base
from service.db.tables import Campaign, Suggestion
from service.enums import SuggestionStatus
from service.migrate import downgrade, upgrade
from service.repositories.campaigns import create_campaign
from service.repositories.projects import create_project
from service.schemas.campaign import CampaignCreate
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url, name = create_pg_database("designloop_migration")
    yield url
    drop_pg_database(name)


def test_upgrade_head_matches_the_tables_and_downgrade_removes_them(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            assert compare_metadata(context, Base.metadata) == []
        downgrade(empty_database, "base")
        with engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade(empty_database)  # and back up again: the chain is repeatable
        with engine.connect() as conn:
            assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_0004_moves_pending_reprocess_suggestions_out_of_the_live_loop(
        empty_database: str) -> None:
    """Before 0004 a reprocessing run's suggestions were ordinary pending rows (tagged with the
    run in their predictions): the upgrade makes them ``reprocessed``, the downgrade ``stale``
    (not in flight either); other rows keep their status."""
    upgrade(empty_database, "0003")
    engine = create_engine(empty_database)
    try:
        with Session(engine) as session:
            campaign = _one_campaign(session)
            rows = {name: Suggestion(campaign_id=campaign.id, parameters={"x": x},
                                     design_key=design_key({"x": x}), strategy="space_filling",
                                     status=status, predictions=predictions)
                    for name, x, status, predictions in [
                        ("tagged", 0.1, SuggestionStatus.pending, {"reprocess_run": "r"}),
                        ("live", 0.2, SuggestionStatus.pending, {"mean": {"y": 1.0}}),
                        ("answered", 0.3, SuggestionStatus.observed, {"reprocess_run": "r"})]}
            session.add_all(rows.values())
            session.commit()
            ids = {name: row.id for name, row in rows.items()}

        def statuses() -> dict[str, str]:
            with engine.connect() as conn:
                found = dict(conn.execute(text("SELECT id, status FROM suggestions")).all())
            return {name: found[_stored_id(engine, i)] for name, i in ids.items()}

        upgrade(empty_database)
        assert statuses() == {"tagged": "reprocessed", "live": "pending", "answered": "observed"}
        downgrade(empty_database, "0003")
        assert statuses() == {"tagged": "stale", "live": "pending", "answered": "observed"}
    finally:
        engine.dispose()


def test_0005_gives_earlier_observations_no_gradients(empty_database: str) -> None:
    """Observations stored before 0005 read back with ``gradients == {}``; a downgrade drops
    the column and keeps the rows."""
    upgrade(empty_database, "0004")
    engine = create_engine(empty_database)
    try:
        with Session(engine) as session:
            campaign = _one_campaign(session)
            session.commit()
            campaign_id = _stored_id(engine, campaign.id)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO observations (id, campaign_id, parameters, outcomes, noise_sd, "
                "failed, posted_by, created_at) VALUES (:id, :campaign, '{\"x\": 0.5}', "
                "'{\"y\": 1.0}', '{}', false, 'key:old', CURRENT_TIMESTAMP)"),
                {"id": _stored_id(engine, uuid.uuid4()), "campaign": campaign_id})
        upgrade(empty_database)
        with engine.connect() as conn:
            (gradients,) = conn.execute(text("SELECT gradients FROM observations")).one()
        assert gradients in ({}, "{}")  # JSONB decoded on PostgreSQL, text on SQLite
        downgrade(empty_database, "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM observations")).scalar() == 1
    finally:
        engine.dispose()


def _one_campaign(session: Session) -> Campaign:
    """A campaign of one continuous parameter, in a new project (at an older revision too:
    only columns every revision has)."""
    project = create_project(session, "migrating")
    return create_campaign(session, project.id, CampaignCreate.model_validate({
        "name": "c", "objectives": [{"name": "y", "goal": "minimize"}],
        "space": {"parameters": [{"type": "continuous", "name": "x", "lower": 0, "upper": 1}]}}))


def _stored_id(engine: Engine, value: uuid.UUID) -> object:
    """How a UUID comes back from a raw query on this database (text on SQLite)."""
    return value if engine.dialect.name == "postgresql" else value.hex
