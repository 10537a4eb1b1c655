"""The ``suggest`` job: propose ``params["count"]`` new designs for a campaign.

Two suggest jobs on one campaign may run at once (two clients asking together). Each reads the
campaign's pending and observed designs and its ``suggestions_version``, computes outside any
transaction, and stores through :func:`store_suggestions`, whose compare-and-set on the version
lets exactly one of them commit from a given state; the other recomputes from the new state
(excluding the designs just committed). The partial unique index on pending design keys backs
this up: a violation is treated as the same race.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from models.design.space_filling import SpaceFillingResult, space_filling_designs
from models.space.space import Space
from service.db.engine import session_scope
from service.enums import JobKind
from service.errors import Conflict, InvalidInput
from service.repositories.campaigns import get_campaign
from service.repositories.suggestions import (
    SuggestionRace,
    store_suggestions,
    taken_design_keys,
)
from workers.runtime import JobContext

log = logging.getLogger(__name__)

#: Recomputations after losing the race to a concurrent writer before the job gives up.
MAX_RACE_RETRIES = 5
STRATEGY = "space_filling"


@dataclass(frozen=True)
class CampaignState:
    """What a round of suggestions is computed from, read in one transaction."""

    project_id: uuid.UUID
    campaign_id: uuid.UUID
    space: dict[str, Any]
    seed: int
    strategy_kind: str
    strategy_state: dict[str, Any]
    evaluator: str
    version: int
    taken: frozenset[str]

    @property
    def sobol_skip(self) -> int:
        return int(self.strategy_state.get("sobol_skip", 0))


def handle(ctx: JobContext) -> None:
    """Compute and store the designs; on a lost race, recompute from the fresh state."""
    count = _count(ctx.params)
    for attempt in range(1, MAX_RACE_RETRIES + 1):
        state = read_state(ctx.job.project_id, _campaign_id(ctx))
        if state.strategy_kind != STRATEGY:
            raise InvalidInput(f"strategy {state.strategy_kind!r} is not available yet",
                               field="strategy")
        ctx.progress(0.1, f"computing {count} designs")
        result = space_filling_designs(Space.from_dict(state.space), count, seed=state.seed,
                                       skip=state.sobol_skip, exclude=state.taken)
        ctx.progress(0.8, "storing designs")
        try:
            ctx.commit_results(functools.partial(_store, ctx, state=state, result=result))
            return
        except (SuggestionRace, sa_exc.IntegrityError) as exc:
            log.info("job %s: lost the race on campaign %s (try %d): %s", ctx.job.id,
                     state.campaign_id, attempt, type(exc).__name__)
    raise Conflict(f"the campaign's pending designs kept changing; gave up after "
                   f"{MAX_RACE_RETRIES} recomputations")


def read_state(project_id: uuid.UUID, campaign_id: uuid.UUID) -> CampaignState:
    """The campaign's definition, strategy position and taken designs, all as of one read."""
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        spec = campaign.spec
        return CampaignState(
            project_id=project_id, campaign_id=campaign.id, space=spec["space"],
            seed=campaign.seed, strategy_kind=spec["strategy"]["kind"],
            strategy_state=dict(campaign.strategy_state or {}),
            evaluator=spec["evaluator"]["kind"], version=campaign.suggestions_version,
            taken=frozenset(taken_design_keys(session, campaign.id)))


def _store(ctx: JobContext, session: Session, *, state: CampaignState,
           result: SpaceFillingResult) -> dict[str, Any]:
    """Write the batch (compare-and-set on the version read) and, for a simulator campaign,
    the evaluate job that closes the loop, in the results transaction."""
    campaign = get_campaign(session, state.project_id, state.campaign_id)
    rows = store_suggestions(
        session, campaign, result.designs, job_id=ctx.job.id, strategy=STRATEGY,
        read_version=state.version,
        strategy_state={**state.strategy_state, "sobol_skip": result.next_skip})
    ids = [str(row.id) for row in rows]
    out: dict[str, Any] = {"suggestion_ids": ids, "count": len(ids),
                           "acceptance_rate": result.acceptance_rate}
    if state.evaluator == "simulator" and ids:
        job = ctx.submit_followup(session, kind=JobKind.evaluate, params={"suggestion_ids": ids})
        out["evaluate_job_id"] = str(job.id)
    return out


def _count(params: dict[str, Any]) -> int:
    count = params.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise InvalidInput(f"count must be a positive integer, got {count!r}", field="count")
    return count


def _campaign_id(ctx: JobContext) -> uuid.UUID:
    if ctx.job.campaign_id is None:
        raise InvalidInput("a suggest job needs a campaign", field="campaign_id")
    return ctx.job.campaign_id
