"""Schema migrations, run from code (``designloop migrate``, the demo, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from service.config import get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database (default: the configured one) to ``revision``.

    A SQLite file's folder (e.g. a ``DESIGNLOOP_HOME`` that does not exist yet) is created
    first: SQLite creates the file, not the folders above it.
    """
    ensure_sqlite_folder(url or get_settings().resolved_database_url)
    command.upgrade(alembic_config(url), revision)


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (nothing for other databases, in-memory
    SQLite or a ``file:`` URI)."""
    parsed = make_url(url)
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or not database or database == ":memory:"
            or database.startswith("file:")):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
