"""The ``train`` job: fit a model version of the campaign now (``params["kind"]``,
``params["options"]``) and store it with its metrics.

The trainer (``models.training.TRAINERS``) runs outside any transaction and reports progress
through the job; the version is written in the fenced results transaction, so a retried job
never stores two versions for one request.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from models.design.rounds import TrainedModel
from models.problems.registry import get_spec, load_problem
from models.space.space import Space
from models.training import TrainRequest, load_trainer
from service.db.engine import session_scope
from service.errors import InvalidInput
from service.plots.cache import store_model_png
from service.repositories.campaigns import campaign_spec, get_campaign
from service.repositories.model_versions import create_model_version, latest_weights
from service.repositories.observations import observation_payloads
from workers.runtime import JobContext

#: Model versions made by this job carry this in ``config["strategy"]``: the warm start of a
#: train job is the previous train job's version of the same kind.
SOURCE = "train"


def handle(ctx: JobContext) -> None:
    kind, options = _kind(ctx.params), ctx.params.get("options") or {}
    campaign_id = ctx.campaign_id
    with session_scope() as session:
        campaign = get_campaign(session, ctx.job.project_id, campaign_id)
        spec = campaign_spec(campaign)
        previous = latest_weights(session, campaign.id, strategy=f"{SOURCE}:{kind}")
        observations = observation_payloads(session, campaign.id)
        problem_key, seed = campaign.problem, campaign.seed
    problem = (load_problem(problem_key, spec.problem_options)
               if get_spec(problem_key).implementation else None)
    request = TrainRequest(
        space=Space.from_dict(spec.space.model_dump()), observations=observations,
        objectives=[o.model_dump() for o in spec.objectives],
        constraints=[c.model_dump() for c in spec.constraints], options=options, seed=seed,
        previous_model=previous[1] if previous else None, problem=problem,
        progress=lambda fraction, message: ctx.progress(0.9 * fraction, message))
    model = load_trainer(kind)(request)
    ctx.progress(0.95, "storing the model version")
    ctx.commit_results(lambda session: _store(ctx, session, campaign_id, kind, model))


def _store(ctx: JobContext, session: Session, campaign_id: uuid.UUID, kind: str,
           model: TrainedModel) -> dict[str, Any]:
    campaign = get_campaign(session, ctx.job.project_id, campaign_id)
    version = create_model_version(
        session, campaign.id, kind=model.kind,
        config={**model.config, "strategy": f"{SOURCE}:{kind}"}, metrics=model.metrics,
        weights=model.weights, job_id=ctx.job.id)
    if model.figure is not None:
        store_model_png(session, campaign.id, version, model.figure)
    return {"model_version_id": str(version.id), "number": version.number, "kind": model.kind,
            "picture": model.figure is not None}


def _kind(params: dict[str, Any]) -> str:
    kind = params.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InvalidInput(f"a train job needs a model kind, got {kind!r}", field="kind")
    return kind
