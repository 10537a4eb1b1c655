"""The ``suggest`` job: propose ``params["count"]`` new designs for a campaign.

The job reads the campaign into a :class:`models.design.rounds.RoundRequest`, calls the
campaign's strategy (``models.design.rounds.STRATEGIES``) outside any transaction, and stores
its :class:`~models.design.rounds.RoundResult`: the model it trained as a new model version,
the designs as suggestions carrying their predictions and that version, the strategy's state on
the campaign, and, for a simulator campaign, the evaluate job that closes the loop.

Two suggest jobs on one campaign may run at once (two clients asking together). Each reads the
campaign's pending and observed designs and its ``suggestions_version``, computes, and stores
through :func:`store_suggestions`, whose compare-and-set on the version lets exactly one of
them commit from a given state; the other recomputes from the new state (the designs just
committed are then pending for it). The partial unique index on pending design keys, and the
unique model-version number, back this up: a violation is treated as the same race.

Params: ``count`` (required); ``client_id`` (the asking client: its still-pending suggestions
are returned first and only the rest are computed); ``strategy`` (``{"kind", "options"}``, to
run another strategy than the campaign's, e.g. when reprocessing); ``round`` and
``best_history`` (the self-driving loop of a simulator campaign, see
:mod:`workers.handlers.evaluate`); ``tags`` (JSON merged into each suggestion's predictions
and the model version's config, e.g. a reprocessing run id); ``close_loop`` (default true:
a simulator campaign's new suggestions are evaluated; reprocessing sets it false); ``live``
(default true; reprocessing sets it false: the designs are stored with status ``reprocessed``
beside the live loop, so they are not in flight, not handed to a client, not counted as
pending, and the campaign's strategy state is left as it was; no evaluate job follows).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from models.design.rounds import STRATEGY_MODELS, RoundRequest, RoundResult, load_strategy
from models.problems.registry import get_spec, load_problem
from models.space.keys import design_key
from models.space.space import Space
from service.db.engine import session_scope
from service.enums import JobKind
from service.errors import Conflict, InvalidInput
from service.repositories.campaigns import campaign_spec, get_campaign
from service.repositories.model_versions import create_model_version, latest_weights
from service.repositories.observations import observation_payloads
from service.repositories.suggestions import (
    SuggestionRace,
    mark_stale,
    pending_designs,
    pending_for_client,
    store_suggestions,
    taken_design_keys,
)
from service.schemas.campaign import CampaignSpec
from workers.runtime import JobContext

log = logging.getLogger(__name__)

#: Recomputations after losing the race to a concurrent writer before the job gives up.
MAX_RACE_RETRIES = 5


@dataclass(frozen=True)
class CampaignState:
    """What a round of suggestions is computed from, read in one transaction."""

    project_id: uuid.UUID
    campaign_id: uuid.UUID
    problem: str
    spec: CampaignSpec
    seed: int
    strategy_kind: str
    strategy_options: dict[str, Any]
    strategy_state: dict[str, Any]
    version: int
    observations: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    taken: frozenset[str]
    reused: list[uuid.UUID]
    previous_model: bytes | None
    previous_config: dict[str, Any]

    @property
    def evaluator(self) -> str:
        return self.spec.evaluator.kind


def handle(ctx: JobContext) -> None:
    """Compute and store the designs; on a lost race, recompute from the fresh state."""
    count = _count(ctx.params)
    for attempt in range(1, MAX_RACE_RETRIES + 1):
        state = read_state(ctx.job.project_id, ctx.campaign_id, ctx.params)
        wanted = count - len(state.reused)
        result = _compute(ctx, state, wanted) if wanted > 0 else RoundResult(designs=[])
        ctx.progress(0.9, "storing designs")
        try:
            ctx.commit_results(functools.partial(_store, ctx, state=state, result=result,
                                                 count=count))
            return
        except (SuggestionRace, sa_exc.IntegrityError) as exc:
            log.info("job %s: lost the race on campaign %s (try %d): %s", ctx.job.id,
                     state.campaign_id, attempt, type(exc).__name__)
    raise Conflict(f"the campaign's pending designs kept changing; gave up after "
                   f"{MAX_RACE_RETRIES} recomputations")


def read_state(project_id: uuid.UUID, campaign_id: uuid.UUID,
               params: dict[str, Any]) -> CampaignState:
    """The campaign's definition, strategy position, data and taken designs, as of one read.

    Pending suggestions past the campaign's TTL are marked stale first (in this transaction), so
    they neither block the space nor count as in flight.
    """
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        spec = campaign_spec(campaign)
        mark_stale(session, campaign.id, spec.pending_ttl_s)
        kind, options = _strategy(spec, params)
        client_id = params.get("client_id")
        reused = ([row.id for row in pending_for_client(session, campaign.id, client_id)]
                  if client_id and params.get("live", True) else [])
        previous = latest_weights(session, campaign.id,
                                  strategy=STRATEGY_MODELS.get(kind, kind))
        return CampaignState(
            project_id=project_id, campaign_id=campaign.id, problem=campaign.problem,
            spec=spec, seed=campaign.seed, strategy_kind=kind, strategy_options=options,
            strategy_state=dict(campaign.strategy_state or {}),
            version=campaign.suggestions_version,
            observations=observation_payloads(session, campaign.id),
            pending=pending_designs(session, campaign.id),
            taken=frozenset(taken_design_keys(session, campaign.id)), reused=reused,
            previous_model=previous[1] if previous else None,
            previous_config=previous[2] if previous else {})


def _compute(ctx: JobContext, state: CampaignState, count: int) -> RoundResult:
    """Run the strategy on the state (no transaction open)."""
    ctx.progress(0.05, f"{state.strategy_kind}: computing {count} designs")
    request = RoundRequest(
        space=Space.from_dict(state.spec.space.model_dump()), observations=state.observations,
        pending=state.pending, taken=state.taken,
        objectives=[o.model_dump() for o in state.spec.objectives],
        constraints=[c.model_dump() for c in state.spec.constraints], count=count,
        options=state.strategy_options, seed=state.seed, state=state.strategy_state,
        previous_model=state.previous_model, previous_config=state.previous_config,
        problem=_problem(state),
        progress=lambda fraction, message: ctx.progress(0.05 + 0.8 * fraction, message))
    result = load_strategy(state.strategy_kind)(request)
    return replace(result, designs=_new_designs(result, state))


def _new_designs(result: RoundResult, state: CampaignState) -> list[Any]:
    """The result's designs minus any the campaign already holds or repeats (a strategy's
    slip must not become a duplicate pending row)."""
    seen = set(state.taken)
    kept = []
    for design in result.designs:
        key = design_key(design.parameters)
        if key not in seen:
            seen.add(key)
            kept.append(design)
    return kept


def _store(ctx: JobContext, session: Session, *, state: CampaignState, result: RoundResult,
           count: int) -> dict[str, Any]:
    """Write the model version, the batch (compare-and-set on the version read) and, for a
    simulator campaign, the evaluate job that closes the loop, in the results transaction."""
    campaign = get_campaign(session, state.project_id, state.campaign_id)
    tags = dict(ctx.params.get("tags") or {})
    live = bool(ctx.params.get("live", True))
    version = None
    if result.model is not None:
        version = create_model_version(
            session, campaign.id, kind=result.model.kind,
            config={**result.model.config, "strategy": state.strategy_kind, **tags},
            metrics=result.model.metrics, weights=result.model.weights, job_id=ctx.job.id)
    rows = store_suggestions(
        session, campaign, [d.parameters for d in result.designs], job_id=ctx.job.id,
        strategy=state.strategy_kind, read_version=state.version,
        strategy_state=result.state or state.strategy_state,
        predictions=[{**d.predictions, **tags} for d in result.designs],
        model_version_id=version.id if version else None,
        client_id=ctx.params.get("client_id") if live else None, live=live)
    reused = [str(i) for i in state.reused[:count]]
    new = [str(row.id) for row in rows]
    out: dict[str, Any] = {"suggestion_ids": reused + new, "count": len(reused) + len(new),
                           "reused": reused, "strategy": state.strategy_kind, **result.info}
    if version is not None:
        out["model_version_id"] = str(version.id)
    if (state.evaluator == "simulator" and new and live
            and ctx.params.get("close_loop", True)):
        params = {"suggestion_ids": new, **_loop_params(ctx.params)}
        job = ctx.submit_followup(session, kind=JobKind.evaluate, params=params)
        out["evaluate_job_id"] = str(job.id)
    return out


def _strategy(spec: CampaignSpec, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The strategy to run: the job's override (reprocessing), else the campaign's."""
    override = params.get("strategy")
    if override:
        return str(override["kind"]), dict(override.get("options") or {})
    return spec.strategy.kind, dict(spec.strategy.options)


def _problem(state: CampaignState) -> Any:
    """The problem implementation when the problem has one (a simulator, physics)."""
    if get_spec(state.problem).implementation is None:
        return None
    return load_problem(state.problem, state.spec.problem_options)


def _loop_params(params: dict[str, Any]) -> dict[str, Any]:
    """What the evaluate job needs to ask for the next round of a self-driving campaign."""
    return {k: params[k] for k in ("round", "best_history", "tags", "strategy") if k in params}


def _count(params: dict[str, Any]) -> int:
    count = params.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise InvalidInput(f"count must be a positive integer, got {count!r}", field="count")
    return count
