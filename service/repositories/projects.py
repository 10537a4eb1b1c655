"""Projects (tenants) and their API keys.

A key is ``dl_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole key is
compared in constant time. The clear key exists only in the return value of
:func:`create_api_key`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.tables import ApiKey, Project
from service.errors import Conflict

KEY_PREFIX = "dl"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_project(session: Session, name: str) -> Project:
    project = Project(name=name)
    session.add(project)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a project named {name!r} exists already") from exc
    return project


def get_project_by_name(session: Session, name: str) -> Project | None:
    return session.scalar(select(Project).where(Project.name == name))


def create_api_key(session: Session, project_id: uuid.UUID, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the project: the row, and the clear key (shown once, never stored)."""
    prefix = secrets.token_hex(6)
    clear = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(project_id=project_id, prefix=prefix, secret_hash=_hash(clear), label=label)
    session.add(row)
    session.flush()
    return row, clear


def authenticate(session: Session, clear: str) -> ApiKey | None:
    """The live key row for ``clear``, or ``None`` (unknown, malformed or revoked)."""
    parts = clear.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.secret_hash, _hash(clear)) else None
