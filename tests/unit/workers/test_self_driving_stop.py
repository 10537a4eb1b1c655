"""The self-driving simulator loop stops early once the simulated objective stops improving
(``evaluator.patience`` / ``min_improvement``), before its round budget: run through the runner
on a real database (no broker), the same job path as the round-budget test in
``test_strategies.py``."""

from __future__ import annotations

import math
import uuid

import pytest
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.tables import Job
from service.enums import JobKind, JobStatus
from service.repositories.campaigns import get_campaign, summarize
from tests.unit.workers.factories import job_row, make_campaign, make_job
from workers.handlers import evaluate, suggest
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(120)

BRANIN_MIN = 0.397887
#: A box of half-width 1e-3 around Branin's feasible minimiser (pi, 2.275): every design in it
#: is within ~1e-4 of the optimum, so no round after the first can improve by min_improvement.
TINY_BOX = {"parameters": [
    {"type": "continuous", "name": "x1", "lower": math.pi - 1e-3, "upper": math.pi + 1e-3},
    {"type": "continuous", "name": "x2", "lower": 2.274, "upper": 2.276}]}


def test_a_self_driving_campaign_stops_when_its_objective_stops_improving(
        project_key: tuple[uuid.UUID, str], published: list[tuple[uuid.UUID, JobKind, str]]
) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator",
                                space=TINY_BOX)
    with session_scope() as session:  # a budget of 8 rounds, patience 2
        campaign = get_campaign(session, project_id, campaign_id)
        campaign.spec = {**campaign.spec, "evaluator": {
            **campaign.spec["evaluator"], "rounds": 8, "batch_size": 2, "patience": 2,
            "min_improvement": 1e-3}}
    handlers = {JobKind.suggest: suggest.handle, JobKind.evaluate: evaluate.handle}
    assert run_job(make_job(project_id, campaign_id, params={"count": 2}),
                   suggest.handle) is Outcome.succeeded
    ran = [JobKind.suggest]
    while published:
        job_id, kind, _queue = published.pop(0)
        assert run_job(job_id, handlers[kind]) is Outcome.succeeded, (kind, job_row(job_id).error)
        ran.append(kind)

    # Round 1 sets the best; rounds 2 and 3 cannot improve on it: stop after round 3 of 8.
    assert ran == [JobKind.suggest, JobKind.evaluate] * 3
    with session_scope() as session:
        jobs = list(session.scalars(select(Job).where(Job.campaign_id == campaign_id,
                                                      Job.kind == JobKind.evaluate)
                                    .order_by(Job.created_at)))
        summary = summarize(session, get_campaign(session, project_id, campaign_id))
    assert all(j.status == JobStatus.succeeded for j in jobs)
    results = [j.result for j in jobs]
    assert [r["loop"] for r in results if r] == ["next round", "next round",
                                                "converged: no improvement in 2 rounds"]
    last = results[-1]
    assert last is not None and last["round"] == 3 and "next_suggest_job_id" not in last
    history = last["best_history"]
    assert len(history) == 3 and all(v == pytest.approx(BRANIN_MIN, abs=1e-3) for v in history)
    assert history == sorted(history, reverse=True)  # the best never gets worse
    assert summary.observations == 6 and summary.observed_suggestions == 6
