"""Shared fixtures: a real migrated database and a broker, chosen by ``DESIGNLOOP_TEST_BACKEND``.

* ``embedded`` (default): a SQLite file and the filesystem broker, in a temporary directory;
* ``postgres``: a fresh database on the PostgreSQL at ``DESIGNLOOP_TEST_PG`` (default
  ``127.0.0.1:5432``, user postgres) and Redis at ``DESIGNLOOP_TEST_REDIS`` (default
  ``redis://127.0.0.1:6379/11``).

Tests that stop or kill a server start their own on a spare port (see ``tests/servers.py``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.config import Settings, override_settings
from service.db.base import Base
from service.db.engine import dispose_engines, session_scope
from service.migrate import upgrade as migrate

BACKEND = os.environ.get("DESIGNLOOP_TEST_BACKEND", "embedded")
PG = os.environ.get("DESIGNLOOP_TEST_PG", "postgres@127.0.0.1:5432")
REDIS = os.environ.get("DESIGNLOOP_TEST_REDIS", "redis://127.0.0.1:6379/11")

# Short job-timing contract for tests: hard limit < visibility timeout <= reaper thresholds.
FAST_TIMINGS: dict[str, float] = {
    "job_soft_time_limit_s": 20.0, "job_time_limit_s": 25.0, "broker_visibility_timeout_s": 30.0,
    "heartbeat_interval_s": 0.5, "lease_timeout_s": 30.0, "republish_after_s": 30.0,
    "reaper_interval_s": 0.5}


def create_pg_database(prefix: str = "designloop_test") -> tuple[str, str]:
    """A new empty PostgreSQL database: its SQLAlchemy URL, and its name (for dropping)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"postgresql+psycopg://{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://{PG}/{name}", name


def drop_pg_database(name: str) -> None:
    admin = create_engine(f"postgresql+psycopg://{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("designloop-home")


@pytest.fixture(scope="session")
def database_url(home: Path) -> Iterator[str]:
    """A database migrated to head with Alembic (the tests run against the real schema)."""
    if BACKEND == "postgres":
        url, name = create_pg_database()
        migrate(url)
        yield url
        dispose_engines()
        drop_pg_database(name)
    else:
        url = f"sqlite:///{home / 'designloop.db'}"
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str | None]:
    if BACKEND == "postgres":
        import redis

        client = redis.Redis.from_url(REDIS)
        client.flushdb()
        yield REDIS
        client.flushdb()
        client.close()
    else:
        yield None  # the filesystem broker under `home`


@pytest.fixture(scope="session")
def settings(home: Path, database_url: str, broker_url: str | None) -> Iterator[Settings]:
    """Process settings for the whole test session (also exported to worker subprocesses)."""
    s = Settings.model_validate({"home": home, "database_url": database_url,
                                "broker_url": broker_url, **FAST_TIMINGS})
    override_settings(s)
    yield s
    override_settings(None)


def settings_env(s: Settings) -> dict[str, str]:
    """``DESIGNLOOP_*`` variables that make a subprocess use the same settings."""
    env = {f"DESIGNLOOP_{k.upper()}": str(v) for k, v in s.model_dump().items() if v is not None}
    return env


#: Tries of the between-tests wipe: a worker or API process of the previous test may still be
#: finishing a transaction (a reaper pass, a last job), and PostgreSQL may pick the TRUNCATE as
#: the victim of the resulting deadlock; it is then simply tried again.
TRUNCATE_TRIES = 5


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        for attempt in range(1, TRUNCATE_TRIES + 1):
            try:
                _wipe(engine)
                return
            except OperationalError as exc:
                if attempt == TRUNCATE_TRIES or not _is_lock_conflict(exc):
                    raise
                time.sleep(0.2 * attempt)
    finally:
        engine.dispose()


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def _is_lock_conflict(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return "deadlock" in message or "lock timeout" in message or "database is locked" in message


@pytest.fixture
def db(settings: Settings) -> Iterator[str]:
    """An empty migrated database for this test; yields its URL."""
    truncate_all(settings.resolved_database_url)
    yield settings.resolved_database_url


@pytest.fixture
def session(db: str) -> Iterator[Session]:
    with session_scope() as s:
        yield s


@pytest.fixture
def project_key(db: str) -> tuple[uuid.UUID, str]:
    """A project and a clear API key for it."""
    from service.repositories.projects import create_api_key, create_project

    with session_scope() as s:
        project = create_project(s, f"lab-{uuid.uuid4().hex[:8]}")
        _, key = create_api_key(s, project.id)
        return project.id, key
