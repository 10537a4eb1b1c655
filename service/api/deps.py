"""Typed dependencies of the routes: settings, the request's session, the caller, pages.

The request's transaction: :data:`SessionDep` opens one session per request, commits it when
the route returns and rolls it back when the route raises. Its exit runs before the response is
sent (dependency scope ``"function"``), so a failed commit is the client's error response, never
a success for effects that were not stored. Routes that must act after the commit (publish a
job) commit explicitly first; the dependency's own commit is then a no-op.

The caller: every ``/v1`` route depends on :data:`AuthDep` (a ``Bearer`` API key) and reads
only its project's rows. Nested resources go through :data:`CampaignDep`, which answers 404 for
a campaign of another project before the route runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign
from service.errors import InvalidInput, Unauthorized
from service.repositories import campaigns as campaign_rows
from service.repositories.projects import authenticate

MAX_KEY_LENGTH = 200


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (see :func:`service.api.app.create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """The request's unit of work (see the module docstring)."""
    with session_scope(settings.resolved_database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the project a key belongs to, and which key (for ``posted_by``)."""

    project_id: uuid.UUID
    key_id: uuid.UUID
    key_prefix: str

    @property
    def label(self) -> str:
        return f"key:{self.key_prefix}"


_bearer = HTTPBearer(auto_error=False, description="A project API key: `Bearer dl_...`.")


def get_caller(session: SessionDep, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The caller behind the ``Authorization: Bearer`` key.

    Raises:
        Unauthorized: no key, or a key that is malformed, unknown or revoked (one answer for
            all of them, so the response does not tell which keys exist).
    """
    if credentials is None:
        raise Unauthorized("missing API key: send `Authorization: Bearer <key>`")
    key = credentials.credentials
    # A malformed key never reaches the database (PostgreSQL refuses NUL in a query).
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Unauthorized("invalid API key")
    row = authenticate(session, key)
    if row is None:
        raise Unauthorized("invalid API key")
    return Caller(project_id=row.project_id, key_id=row.id, key_prefix=row.prefix)


AuthDep = Annotated[Caller, Depends(get_caller)]


def get_project_id(caller: AuthDep) -> uuid.UUID:
    return caller.project_id


ProjectDep = Annotated[uuid.UUID, Depends(get_project_id)]


def get_owned_campaign(campaign_id: uuid.UUID, session: SessionDep,
                       project_id: ProjectDep) -> Campaign:
    """The campaign of the path, if it is the caller's; another project's is not found."""
    return campaign_rows.get_campaign(session, project_id, campaign_id)


CampaignDep = Annotated[Campaign, Depends(get_owned_campaign)]


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


def get_page(settings: SettingsDep,
             limit: Annotated[int, Query(ge=1, description="Items per page (at most the "
                                         "service's page_limit_max, 200 by default).")] = 50,
             cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_\-]+$",
                                                 description="`next_cursor` of the previous "
                                                 "page.")] = None) -> PageParams:
    if limit > settings.page_limit_max:
        raise InvalidInput(f"limit must be at most {settings.page_limit_max}",
                           field=["query", "limit"])
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(get_page)]
