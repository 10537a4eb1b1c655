"""Campaign rows: creation (with the problem's defaults resolved), reads and summaries.

Functions here flush and leave the commit to the caller (the route's session, the worker's
``session_scope``), so the API and the workers share them.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.problems.base import ProblemError
from models.problems.registry import (
    default_constraints,
    default_space,
    get_spec,
    validate_options,
)
from service.db.tables import Campaign, Observation, Suggestion
from service.enums import SuggestionStatus
from service.errors import InvalidInput, NotFound
from service.repositories.pagination import paginate
from service.schemas.campaign import CampaignCreate, CampaignSpec, CampaignSummary


def resolve_spec(request: CampaignCreate) -> CampaignSpec:
    """The stored definition: the request, with the problem plug-in's defaults filled in."""
    try:
        problem = get_spec(request.problem)
    except ProblemError as exc:
        raise InvalidInput(str(exc), field="problem") from exc
    try:
        options = validate_options(problem.key, request.problem_options)
        space = request.space.model_dump() if request.space else default_space(problem.key,
                                                                                options)
        constraints = ([c.model_dump() for c in request.constraints]
                       if request.constraints is not None
                       else default_constraints(problem.key, options))
    except ProblemError as exc:
        raise InvalidInput(str(exc), field="problem_options") from exc
    if problem.strategies is not None and request.strategy.kind not in problem.strategies:
        raise InvalidInput(f"problem {problem.key!r} offers the strategies "
                           f"{list(problem.strategies)}, not {request.strategy.kind!r}",
                           field=["strategy", "kind"])
    data: dict[str, Any] = {
        "space": space,
        "objectives": ([o.model_dump() for o in request.objectives]
                       if request.objectives is not None else problem.default_objectives),
        "constraints": constraints,
        "strategy": request.strategy.model_dump(),
        "evaluator": request.evaluator.model_dump(),
        "problem_options": options,
        "pending_ttl_s": request.pending_ttl_s,
        "metadata": request.metadata,
    }
    if data["space"] is None:
        raise InvalidInput(f"problem {problem.key!r} has no default space: give one",
                           field="space")
    if not data["objectives"]:
        raise InvalidInput("a campaign needs at least one objective", field="objectives")
    if request.evaluator.kind == "simulator" and not problem.has_simulator:
        raise InvalidInput(f"problem {problem.key!r} has no simulator", field="evaluator")
    if request.evaluator.gradients and not problem.simulator_gradients:
        raise InvalidInput(f"the simulator of problem {problem.key!r} gives no derivatives",
                           field=["evaluator", "gradients"])
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:  # a plug-in's defaults are broken: say which
        raise InvalidInput(f"problem {problem.key!r} defaults are invalid: {exc}",
                           field="problem") from exc


def create_campaign(session: Session, project_id: uuid.UUID, request: CampaignCreate) -> Campaign:
    spec = resolve_spec(request)
    campaign = Campaign(
        project_id=project_id,
        name=request.name,
        problem=request.problem,
        spec=spec.model_dump(mode="json"),
        seed=request.seed if request.seed is not None else secrets.randbelow(2**31 - 1),
        strategy_state={},
        suggestions_version=0,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, project_id: uuid.UUID, campaign_id: uuid.UUID,
                 *, for_update: bool = False) -> Campaign:
    """The campaign if it belongs to the project; another project's id is simply not found."""
    stmt = select(Campaign).where(Campaign.id == campaign_id, Campaign.project_id == project_id)
    if for_update:
        stmt = stmt.with_for_update()
    campaign = session.scalar(stmt)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def list_campaigns(session: Session, project_id: uuid.UUID, *, limit: int,
                   cursor: str | None, problem: str | None = None) -> tuple[list[Campaign],
                                                                            str | None]:
    stmt = select(Campaign).where(Campaign.project_id == project_id)
    if problem:
        stmt = stmt.where(Campaign.problem == problem)
    return paginate(session, stmt, Campaign, limit=limit, cursor=cursor)


def campaign_spec(campaign: Campaign) -> CampaignSpec:
    return CampaignSpec.model_validate(campaign.spec)


def summarize(session: Session, campaign: Campaign) -> CampaignSummary:
    """Counts and the best feasible observation so far (by the first objective)."""
    spec = campaign_spec(campaign)
    counts = session.execute(
        select(func.count(), func.count().filter(Observation.failed.is_(True)))
        .where(Observation.campaign_id == campaign.id)).one()
    pending = session.scalar(select(func.count()).select_from(Suggestion).where(
        Suggestion.campaign_id == campaign.id, Suggestion.status == SuggestionStatus.pending))
    observed, infeasible = _suggestion_outcomes(session, campaign.id, spec)
    return CampaignSummary(observations=counts[0], failed_observations=counts[1],
                           pending_suggestions=pending or 0,
                           best=best_feasible(session, campaign.id, spec),
                           observed_suggestions=observed, infeasible_suggestions=infeasible,
                           infeasible_share=infeasible / observed if observed else None)


def _suggestion_outcomes(session: Session, campaign_id: uuid.UUID,
                         spec: CampaignSpec) -> tuple[int, int]:
    """How many suggested designs were observed, and how many of those failed or broke an
    outcome constraint."""
    rows = session.execute(select(Observation.failed, Observation.outcomes).where(
        Observation.campaign_id == campaign_id, Observation.suggestion_id.is_not(None))).all()
    infeasible = sum(1 for failed, outcomes in rows if failed or not is_feasible(spec, outcomes))
    return len(rows), infeasible


def is_feasible(spec: CampaignSpec, outcomes: dict[str, Any]) -> bool:
    for c in spec.constraints:
        value = outcomes.get(c.name)
        if value is None:
            return False
        if (c.op == "<=" and value > c.threshold) or (c.op == ">=" and value < c.threshold):
            return False
    return True


def best_feasible(session: Session, campaign_id: uuid.UUID,
                  spec: CampaignSpec) -> dict[str, Any] | None:
    objective = spec.objectives[0]
    sign = 1.0 if objective.goal == "minimize" else -1.0
    best: Observation | None = None
    rows = session.scalars(select(Observation).where(Observation.campaign_id == campaign_id,
                                                     Observation.failed.is_(False)))
    for row in rows:
        value = row.outcomes.get(objective.name)
        if value is None or not is_feasible(spec, row.outcomes):
            continue
        if best is None or sign * value < sign * best.outcomes[objective.name]:
            best = row
    if best is None:
        return None
    return {"observation_id": str(best.id), "objective": objective.name,
            "value": best.outcomes[objective.name], "parameters": best.parameters}
