"""Rows the worker tests start from: a campaign and its jobs, created through the repositories."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update

from service.db.base import utcnow
from service.db.engine import session_scope
from service.db.tables import Campaign, Job
from service.enums import JobKind
from service.jobs import submit
from service.repositories.campaigns import create_campaign
from service.schemas.campaign import CampaignCreate

#: A space with one parameter of each scalar kind, for bound checks.
MIXED_SPACE: dict[str, Any] = {"parameters": [
    {"type": "continuous", "name": "x", "lower": -2.0, "upper": 3.0},
    {"type": "continuous", "name": "rate", "lower": 1e-3, "upper": 10.0, "log_scale": True},
    {"type": "integer", "name": "n", "lower": 1, "upper": 8},
    {"type": "categorical", "name": "solvent", "choices": ["water", "ethanol", "dmso"]},
]}


def make_campaign(project_id: uuid.UUID, *, problem: str = "custom",
                  space: dict[str, Any] | None = None, evaluator: str = "lab",
                  seed: int = 7, **extra: Any) -> uuid.UUID:
    """A campaign of ``problem`` (its default space and outcomes unless ``space`` is given)."""
    body: dict[str, Any] = {"name": f"c-{uuid.uuid4().hex[:6]}", "problem": problem,
                            "evaluator": {"kind": evaluator}, "seed": seed, **extra}
    if space is not None:
        body["space"] = space
    if problem == "custom":
        body.setdefault("objectives", [{"name": "y", "goal": "minimize"}])
        body.setdefault("space", MIXED_SPACE)
    with session_scope() as session:
        return create_campaign(session, project_id, CampaignCreate.model_validate(body)).id


def make_job(project_id: uuid.UUID, campaign_id: uuid.UUID | None, *,
             kind: JobKind = JobKind.suggest, params: dict[str, Any] | None = None,
             max_attempts: int | None = None) -> uuid.UUID:
    """A queued job row (not published)."""
    with session_scope() as session:
        job = submit(session, project_id=project_id, kind=kind, campaign_id=campaign_id,
                     params=params if params is not None else {"count": 4})
        if max_attempts is not None:
            job.max_attempts = max_attempts
        return job.id


def job_row(job_id: uuid.UUID) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def campaign_row(campaign_id: uuid.UUID) -> Campaign:
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        session.expunge(campaign)
        return campaign


def age_heartbeat(job_id: uuid.UUID, seconds: float) -> None:
    """Pretend the job's worker last heartbeated ``seconds`` ago."""
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            heartbeat_at=utcnow() - dt.timedelta(seconds=seconds)))


def age_publication(job_id: uuid.UUID, seconds: float, *, created_too: bool = True) -> None:
    """Pretend the job was published (and created) ``seconds`` ago."""
    then = utcnow() - dt.timedelta(seconds=seconds)
    values: dict[str, Any] = {"published_at": then}
    if created_too:
        values["created_at"] = then
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


#: A bayesian strategy with capped effort (GP fits, Monte Carlo samples, restarts), for tests
#: of the service's bookkeeping and guarantees rather than of the optimum found.
FAST_BAYESIAN: dict[str, Any] = {"kind": "bayesian", "options": {"initial_points": 4, "config": {
    "gp": {"max_iterations": 60, "warm_max_iterations": 20, "max_attempts": 1},
    "acquisition": {"mc_samples": 32},
    "optimizer": {"num_restarts": 2, "raw_samples": 32, "max_iterations": 20,
                  "max_alternating": 2, "pool_size": 256},
    "quality": False}}}
