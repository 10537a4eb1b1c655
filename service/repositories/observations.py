"""Observations: validated against the campaign as a whole batch, then stored together.

All-or-nothing: every design and outcome of the batch is checked before the first row is
added, so a bad row stores nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Campaign, Observation, Suggestion
from service.enums import SuggestionStatus
from service.errors import Conflict, InvalidInput
from service.repositories.campaigns import campaign_spec
from service.repositories.pagination import paginate
from service.repositories.suggestions import OPEN_STATUSES
from service.schemas.observation import ObservationBatch
from service.schemas.space import ContinuousParameter, design_errors


def _check_batch(session: Session, campaign: Campaign, batch: ObservationBatch
                 ) -> dict[uuid.UUID, Suggestion]:
    spec = campaign_spec(campaign)
    outcome_names = set(spec.outcome_names())
    continuous = {p.name for p in spec.space.parameters if isinstance(p, ContinuousParameter)}
    suggestion_ids = {o.suggestion_id for o in batch.observations if o.suggestion_id}
    suggestions = {s.id: s for s in session.scalars(select(Suggestion).where(
        Suggestion.id.in_(suggestion_ids), Suggestion.campaign_id == campaign.id))}
    seen: set[uuid.UUID] = set()
    for i, obs in enumerate(batch.observations):
        base: list[str | int] = ["observations", i]
        for path, message in design_errors(spec.space, obs.parameters):
            raise InvalidInput(f"parameters.{'.'.join(path)}: {message}",
                               field=[*base, "parameters", *path])
        for name in obs.outcomes:
            if name not in outcome_names:
                raise InvalidInput(f"unknown outcome {name!r}; this campaign measures "
                                   f"{sorted(outcome_names)}", field=[*base, "outcomes", name])
        for name, slopes in obs.gradients.items():
            for parameter in slopes:
                if parameter not in continuous:
                    raise InvalidInput(
                        f"a gradient must be w.r.t. a continuous parameter; {parameter!r} is "
                        f"not one of {sorted(continuous)}",
                        field=[*base, "gradients", name, parameter])
        if not obs.failed:
            missing = sorted(outcome_names - set(obs.outcomes))
            if missing:
                raise InvalidInput(f"outcomes {missing} are missing",
                                   field=[*base, "outcomes", missing[0]])
        if obs.suggestion_id is not None:
            suggestion = suggestions.get(obs.suggestion_id)
            if suggestion is None:
                raise InvalidInput("no such suggestion in this campaign",
                                   field=[*base, "suggestion_id"])
            if obs.suggestion_id in seen:
                raise InvalidInput("this batch answers the suggestion twice",
                                   field=[*base, "suggestion_id"])
            if suggestion.status not in OPEN_STATUSES:
                raise Conflict(f"suggestion {obs.suggestion_id} is {suggestion.status.value}, "
                               "not pending", details={"loc": [*base, "suggestion_id"]})
            seen.add(obs.suggestion_id)
    return suggestions


def add_observations(session: Session, campaign: Campaign, batch: ObservationBatch,
                     *, posted_by: str) -> list[Observation]:
    """Store the batch and mark the suggestions it answers as observed."""
    suggestions = _check_batch(session, campaign, batch)
    rows = []
    for obs in batch.observations:
        row = Observation(campaign_id=campaign.id, suggestion_id=obs.suggestion_id,
                          parameters=obs.parameters, outcomes=obs.outcomes,
                          noise_sd=obs.noise_sd, gradients=obs.gradients, failed=obs.failed,
                          failure_reason=obs.failure_reason, posted_by=posted_by)
        session.add(row)
        rows.append(row)
        if obs.suggestion_id is not None:
            suggestions[obs.suggestion_id].status = SuggestionStatus.observed
    # The suggestion rows carry a version column: a concurrent abandon or observe of the same
    # suggestion makes this flush raise StaleDataError (answered 409) instead of double-counting.
    session.flush()
    return rows


def list_observations(session: Session, campaign_id: uuid.UUID, *, limit: int,
                      cursor: str | None) -> tuple[list[Observation], str | None]:
    stmt = select(Observation).where(Observation.campaign_id == campaign_id)
    return paginate(session, stmt, Observation, limit=limit, cursor=cursor)


def all_observations(session: Session, campaign_id: uuid.UUID) -> list[Observation]:
    return list(session.scalars(select(Observation).where(Observation.campaign_id == campaign_id)
                                .order_by(Observation.created_at, Observation.id)))


def observation_payloads(session: Session, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every observation of the campaign in the API's JSON shape, oldest first: what the
    science (``models``) reads."""
    return [{"parameters": dict(row.parameters), "outcomes": dict(row.outcomes),
             "noise_sd": dict(row.noise_sd or {}), "gradients": dict(row.gradients or {}),
             "failed": bool(row.failed),
             "failure_reason": row.failure_reason}
            for row in all_observations(session, campaign_id)]
