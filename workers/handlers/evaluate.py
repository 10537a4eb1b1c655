"""The ``evaluate`` job: run the campaign's simulator on suggestions and store what it measures.

This is how a ``simulator`` campaign closes its loop without a lab. The simulator runs outside
any transaction, one design at a time (progress per design; one design that the simulator
cannot evaluate becomes a *failed observation* with the reason instead of failing the batch).
All observations are then written in the job's fenced results transaction: a retried job (its
worker was killed mid-batch) evaluates again from scratch, and only the attempt holding the
lease stores, so each suggestion is observed exactly once.

A campaign with ``evaluator.rounds`` drives itself: the same transaction asks for the next
round (a suggest job) until the budget is spent or the best feasible objective stops improving
(:func:`models.design.stopping.stopped_improving`).
"""

from __future__ import annotations

import functools
import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.design.stopping import stopped_improving
from models.problems.base import Problem
from models.problems.registry import load_problem
from service.db.engine import session_scope
from service.db.tables import Campaign, Suggestion
from service.enums import JobKind, SuggestionStatus
from service.errors import Conflict, InvalidInput
from service.repositories.campaigns import best_feasible, campaign_spec, get_campaign
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch, ObservationCreate
from workers.runtime import CONTROL_ERRORS, JobContext, Writer

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 2000
#: Commits retried when a suggestion changes between the pending check and the write.
MAX_COMMIT_TRIES = 3


@dataclass(frozen=True)
class Evaluation:
    """The simulator's answer for one suggestion: outcomes, or the reason it failed."""

    suggestion_id: uuid.UUID
    parameters: dict[str, Any]
    outcomes: dict[str, float] | None
    failure_reason: str | None = None
    gradients: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_observation(self) -> ObservationCreate:
        if self.outcomes is None:
            return ObservationCreate(parameters=self.parameters, suggestion_id=self.suggestion_id,
                                     failed=True, failure_reason=self.failure_reason)
        return ObservationCreate(parameters=self.parameters, suggestion_id=self.suggestion_id,
                                 outcomes=self.outcomes, gradients=self.gradients)


def handle(ctx: JobContext) -> None:
    """Evaluate the job's still-pending suggestions and store one observation for each."""
    project_id, campaign_id = ctx.job.project_id, ctx.campaign_id
    wanted = _suggestion_ids(ctx.params)
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        spec = campaign_spec(campaign)
        problem_key, outcome_names = campaign.problem, spec.outcome_names()
        gradients = spec.evaluator.gradients
        todo = _pending(session, campaign_id, wanted)
    problem = load_problem(problem_key, spec.problem_options)
    evaluations = _simulate(ctx, problem, todo, outcome_names, gradients=gradients)
    _commit(ctx, functools.partial(_store, ctx, project_id=project_id, campaign_id=campaign_id,
                                   problem_key=problem_key, wanted=wanted,
                                   evaluations=evaluations))


def _simulate(ctx: JobContext, problem: Problem,
              todo: Sequence[tuple[uuid.UUID, dict[str, Any]]],
              outcome_names: Sequence[str], *, gradients: bool = False) -> list[Evaluation]:
    """Each design through the simulator, reporting progress (and checking the deadline and
    the lease) after each."""
    evaluations = []
    for index, (suggestion_id, parameters) in enumerate(todo):
        evaluations.append(evaluate_one(problem, suggestion_id, parameters, outcome_names,
                                        gradients=gradients))
        ctx.progress((index + 1) / len(todo), f"evaluated {index + 1} of {len(todo)} designs")
    return evaluations


def _commit(ctx: JobContext, write: Writer) -> None:
    """The fenced commit, tried again (a few times) when a lab answered or abandoned one of
    the suggestions between the pending check and the write."""
    for attempt in range(1, MAX_COMMIT_TRIES + 1):
        try:
            ctx.commit_results(write)
            return
        except (StaleDataError, Conflict) as exc:
            log.info("job %s: a suggestion changed under the commit (try %d): %s", ctx.job.id,
                     attempt, exc)
    raise Conflict(f"the suggestions kept changing; gave up after {MAX_COMMIT_TRIES} commits")


def evaluate_one(problem: Problem, suggestion_id: uuid.UUID, parameters: dict[str, Any],
                 outcome_names: Sequence[str], *, gradients: bool = False) -> Evaluation:
    """Run the simulator on one design (with the outcomes' derivatives when ``gradients``);
    its failure is the design's, not the job's."""
    slopes: Mapping[str, Any] = {}
    try:
        if gradients:
            values, slopes = problem.evaluate_with_gradients([parameters], outcome_names)[0]
        else:
            values = problem.evaluate([parameters])[0]
    except CONTROL_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - a plug-in may raise anything for one design
        log.info("simulator failed on suggestion %s: %s", suggestion_id, exc)
        return Evaluation(suggestion_id, parameters, None,
                          f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS])
    outcomes, reason = _checked_outcomes(values, outcome_names)
    if outcomes is None:
        return Evaluation(suggestion_id, parameters, None, reason)
    return Evaluation(suggestion_id, parameters, outcomes, reason,
                      _finite_gradients(slopes, outcomes))


def _finite_gradients(slopes: Mapping[str, Any], outcomes: Mapping[str, float]
                      ) -> dict[str, dict[str, float]]:
    """The derivatives of measured outcomes that are finite numbers: a derivative the
    simulator could not give (NaN at a kink of the design's geometry) is left out, the value
    it measured is kept."""
    out: dict[str, dict[str, float]] = {}
    for name, per in slopes.items():
        if name not in outcomes or not isinstance(per, Mapping):
            continue
        kept = {p: float(v) for p, v in per.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
                and math.isfinite(float(v))}
        if kept:
            out[name] = kept
    return out


def _checked_outcomes(values: Mapping[str, Any], outcome_names: Sequence[str]
                      ) -> tuple[dict[str, float] | None, str | None]:
    """The campaign's outcomes from the simulator's answer, or why they cannot be stored."""
    missing = [name for name in outcome_names if name not in values]
    if missing:
        return None, f"the simulator returned no value for {missing}"
    outcomes: dict[str, float] = {}
    for name in outcome_names:
        try:
            value = float(values[name])
        except (TypeError, ValueError):
            return None, f"the simulator returned a non-number for {name!r}: {values[name]!r}"
        if not math.isfinite(value):
            return None, f"the simulator returned {value} for {name!r}"
        outcomes[name] = value
    return outcomes, None


def _store(ctx: JobContext, session: Session, *, project_id: uuid.UUID,
           campaign_id: uuid.UUID, problem_key: str, wanted: Sequence[uuid.UUID],
           evaluations: Sequence[Evaluation]) -> dict[str, Any]:
    """Store the observations of the suggestions that are still pending (a lab may have
    abandoned or answered one meanwhile: that one is skipped, not double-counted).

    ``result["skipped"]`` lists the job's suggestions that were not pending any more, whether
    before the simulator ran or by the time of the commit."""
    campaign = get_campaign(session, project_id, campaign_id)
    still_pending = {sid for sid, _ in _pending(session, campaign.id,
                                                [e.suggestion_id for e in evaluations])}
    kept = [e for e in evaluations if e.suggestion_id in still_pending]
    if kept:
        batch = ObservationBatch(observations=[e.to_observation() for e in kept])
        add_observations(session, campaign, batch, posted_by=f"simulator:{problem_key}")
    result: dict[str, Any] = {
        "observed": len(kept), "failed": sum(e.outcomes is None for e in kept),
        "skipped": [str(sid) for sid in wanted if sid not in still_pending]}
    result.update(_next_round(ctx, session, campaign))
    return result


def _next_round(ctx: JobContext, session: Session, campaign: Campaign) -> dict[str, Any]:
    """For a self-driving simulator campaign (``evaluator.rounds``): ask for the next round,
    in this transaction, unless the round budget is spent or the best feasible objective
    stopped improving. Returns what the job's result should say about it."""
    spec = campaign_spec(campaign)
    evaluator = spec.evaluator
    if evaluator.rounds is None:
        return {}
    best = best_feasible(session, campaign.id, spec)
    history = [*ctx.params.get("best_history", []), best["value"] if best else None]
    round_index = int(ctx.params.get("round", 1))
    info: dict[str, Any] = {"round": round_index, "best_history": history}
    if round_index >= evaluator.rounds:
        return {**info, "loop": "round budget spent"}
    if stopped_improving(history, goal=spec.objectives[0].goal, patience=evaluator.patience,
                         min_improvement=evaluator.min_improvement):
        return {**info, "loop": f"converged: no improvement in {evaluator.patience} rounds"}
    params: dict[str, Any] = {"count": evaluator.batch_size, "round": round_index + 1,
                              "best_history": history}
    params.update({k: ctx.params[k] for k in ("tags", "strategy") if k in ctx.params})
    job = ctx.submit_followup(session, kind=JobKind.suggest, params=params,
                              strategy_kind=spec.strategy.kind)
    return {**info, "loop": "next round", "next_suggest_job_id": str(job.id)}


def _pending(session: Session, campaign_id: uuid.UUID, ids: Sequence[uuid.UUID]
             ) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """``(id, parameters)`` of the given suggestions that are still pending, in the job's order."""
    stmt = select(Suggestion.id, Suggestion.parameters).where(
        Suggestion.id.in_(ids), Suggestion.campaign_id == campaign_id,
        Suggestion.status == SuggestionStatus.pending)
    rows = {sid: parameters for sid, parameters in session.execute(stmt)}
    return [(sid, dict(rows[sid])) for sid in ids if sid in rows]


def _suggestion_ids(params: Mapping[str, Any]) -> list[uuid.UUID]:
    raw = params.get("suggestion_ids")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("an evaluate job needs a non-empty list of suggestion_ids",
                           field="suggestion_ids")
    try:
        return [uuid.UUID(str(value)) for value in raw]
    except ValueError as exc:
        raise InvalidInput(f"bad suggestion id: {exc}", field="suggestion_ids") from None
