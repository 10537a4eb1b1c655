"""Suggestions: listing, abandoning, and the fenced write of a new batch.

Two jobs computing suggestions for one campaign at once must never both commit designs from
the same view of what is pending. :func:`store_suggestions` therefore bumps
``campaigns.suggestions_version`` with a compare-and-set; the loser's transaction rolls back
and its job recomputes from the new state. The partial unique index on pending design keys is
the last line of defence.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from models.json_safety import finite_json
from models.space.keys import design_key
from service.db.base import utcnow
from service.db.tables import Campaign, Observation, Suggestion
from service.enums import SuggestionStatus
from service.errors import Conflict, NotFound
from service.repositories.pagination import paginate

#: Statuses a lab may still answer (observe) or give back (abandon). A ``reprocessed``
#: suggestion (made by a reprocessing run, for review) is never handed out, but a lab that
#: adopts its design may post the result against it.
OPEN_STATUSES = (SuggestionStatus.pending, SuggestionStatus.stale, SuggestionStatus.reprocessed)


class SuggestionRace(Conflict):
    """Another writer changed the campaign's pending set since this job read it."""


def list_suggestions(session: Session, campaign_id: uuid.UUID, *, limit: int, cursor: str | None,
                     status: SuggestionStatus | None = None) -> tuple[list[Suggestion],
                                                                      str | None]:
    stmt = select(Suggestion).where(Suggestion.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(Suggestion.status == status)
    return paginate(session, stmt, Suggestion, limit=limit, cursor=cursor)


def get_suggestion(session: Session, campaign_id: uuid.UUID, suggestion_id: uuid.UUID
                   ) -> Suggestion:
    row = session.scalar(select(Suggestion).where(Suggestion.id == suggestion_id,
                                                  Suggestion.campaign_id == campaign_id))
    if row is None:
        raise NotFound("suggestion", suggestion_id)
    return row


def abandon(session: Session, suggestion: Suggestion) -> Suggestion:
    """Give a pending, stale or reprocessed suggestion back (it stops counting as in flight,
    or, reprocessed, is set aside after review)."""
    if suggestion.status not in OPEN_STATUSES:
        raise Conflict(f"suggestion {suggestion.id} is {suggestion.status.value}, not pending")
    suggestion.status = SuggestionStatus.abandoned
    session.flush()
    return suggestion


def mark_stale(session: Session, campaign_id: uuid.UUID, ttl_s: float | None) -> int:
    """Pending suggestions older than ``ttl_s`` seconds become stale; how many did.

    A stale design no longer blocks the space (the partial unique index covers pending rows
    only) and is no longer passed to the models as in flight; a late result for it is still
    accepted as an observation.
    """
    if ttl_s is None:
        return 0
    cutoff = utcnow() - dt.timedelta(seconds=ttl_s)
    rows = session.scalars(select(Suggestion).where(
        Suggestion.campaign_id == campaign_id, Suggestion.status == SuggestionStatus.pending,
        Suggestion.created_at < cutoff)).all()
    for row in rows:
        row.status = SuggestionStatus.stale
    session.flush()
    return len(rows)


def pending_for_client(session: Session, campaign_id: uuid.UUID, client_id: str
                       ) -> list[Suggestion]:
    """The client's still-pending suggestions, oldest first."""
    return list(session.scalars(select(Suggestion).where(
        Suggestion.campaign_id == campaign_id, Suggestion.client_id == client_id,
        Suggestion.status == SuggestionStatus.pending).order_by(Suggestion.created_at,
                                                                 Suggestion.id)))


def pending_designs(session: Session, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    """Parameters of the designs in flight (pending, not stale)."""
    return [dict(p) for p in session.scalars(select(Suggestion.parameters).where(
        Suggestion.campaign_id == campaign_id, Suggestion.status == SuggestionStatus.pending))]


def taken_design_keys(session: Session, campaign_id: uuid.UUID) -> set[str]:
    """Keys of designs that must not be suggested again: pending ones and observed ones."""
    pending = session.scalars(select(Suggestion.design_key).where(
        Suggestion.campaign_id == campaign_id, Suggestion.status == SuggestionStatus.pending))
    observed = session.scalars(select(Observation.parameters).where(
        Observation.campaign_id == campaign_id))
    return set(pending) | {design_key(p) for p in observed}


def store_suggestions(session: Session, campaign: Campaign, designs: Sequence[dict[str, Any]], *,
                      job_id: uuid.UUID | None, strategy: str, read_version: int,
                      strategy_state: dict[str, Any],
                      predictions: Sequence[dict[str, Any]] | None = None,
                      model_version_id: uuid.UUID | None = None,
                      client_id: str | None = None, live: bool = True) -> list[Suggestion]:
    """Store a batch computed from the pending set at ``read_version``.

    With ``live=False`` (a reprocessing run) the batch is stored beside the live loop, with
    status ``reprocessed``: it changes neither the pending set (so no compare-and-set and no
    version bump) nor the campaign's strategy state, so the campaign's next live round is what
    it would have been without the run.

    Raises:
        SuggestionRace: the campaign's pending set changed since ``read_version``.
    """
    if live:
        bumped = session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id, Campaign.suggestions_version == read_version)
            .values(suggestions_version=read_version + 1, strategy_state=strategy_state)
            .execution_options(synchronize_session=False))
        if cast("CursorResult[Any]", bumped).rowcount != 1:
            raise SuggestionRace(
                f"campaign {campaign.id} changed while suggestions were computed")
    status = SuggestionStatus.pending if live else SuggestionStatus.reprocessed
    rows = [Suggestion(campaign_id=campaign.id, job_id=job_id, parameters=dict(design),
                       design_key=design_key(design), strategy=strategy, status=status,
                       # JSONB has no NaN/inf: a strategy's undefined number is stored as null
                       predictions=finite_json(dict(predictions[i]))[0] if predictions else {},
                       model_version_id=model_version_id, client_id=client_id if live else None)
            for i, design in enumerate(designs)]
    session.add_all(rows)
    session.flush()
    return rows
