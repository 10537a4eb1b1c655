"""Suggestions: ask for new designs (a job), list them, give a pending one back."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from service.api.deps import CampaignDep, PageDep, SessionDep, SettingsDep
from service.api.routes.common import ERROR_RESPONSES
from service.enums import JobKind, SuggestionStatus
from service.errors import InvalidInput
from service.jobs import publish_jobs, submit
from service.repositories import suggestions as suggestion_rows
from service.repositories.campaigns import campaign_spec
from service.schemas.base import Page
from service.schemas.job import JobRead
from service.schemas.suggestion import SuggestionRead, SuggestionRequest

router = APIRouter(prefix="/v1/campaigns/{campaign_id}/suggestions", tags=["suggestions"],
                   responses=ERROR_RESPONSES)


@router.post("", status_code=202)
def request_suggestions(body: SuggestionRequest, campaign: CampaignDep, session: SessionDep,
                        settings: SettingsDep, response: Response) -> JobRead:
    """Queue a job that proposes ``count`` new designs; poll the job at ``Location``.

    With a ``client_id``, the client's still-pending suggestions come first in the job's
    result and only the rest are computed.

    The job row is committed before its id is published: a worker must never receive an id it
    cannot read yet. A failed publish still answers 202 (the reaper publishes it again).
    """
    if body.count > settings.max_suggestion_count:
        raise InvalidInput(f"count must be at most {settings.max_suggestion_count}",
                           field=["body", "count"])
    params: dict[str, Any] = {"count": body.count}
    if body.client_id is not None:
        params["client_id"] = body.client_id
    job = submit(session, project_id=campaign.project_id, kind=JobKind.suggest,
                 campaign_id=campaign.id, params=params,
                 strategy_kind=campaign_spec(campaign).strategy.kind)
    read = JobRead.model_validate(job)
    session.commit()
    publish_jobs([(job.id, job.kind, job.queue)])
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return read


@router.get("")
def list_suggestions(campaign: CampaignDep, session: SessionDep, page: PageDep,
                     status: Annotated[SuggestionStatus | None, Query()] = None
                     ) -> Page[SuggestionRead]:
    rows, next_cursor = suggestion_rows.list_suggestions(
        session, campaign.id, limit=page.limit, cursor=page.cursor, status=status)
    return Page[SuggestionRead](items=[SuggestionRead.model_validate(r) for r in rows],
                                next_cursor=next_cursor)


@router.get("/{suggestion_id}")
def read_suggestion(suggestion_id: uuid.UUID, campaign: CampaignDep,
                    session: SessionDep) -> SuggestionRead:
    """One suggestion: its design, status, predictions and the model version behind them."""
    return SuggestionRead.model_validate(
        suggestion_rows.get_suggestion(session, campaign.id, suggestion_id))


@router.post("/{suggestion_id}/abandon", responses={
    409: {"description": "The suggestion is not pending."}})
def abandon_suggestion(suggestion_id: uuid.UUID, campaign: CampaignDep,
                       session: SessionDep) -> SuggestionRead:
    """Give a pending (or stale, or reprocessed) suggestion back: it stops counting as in
    flight (a reprocessed one: set aside after review)."""
    row = suggestion_rows.get_suggestion(session, campaign.id, suggestion_id)
    return SuggestionRead.model_validate(suggestion_rows.abandon(session, row))
