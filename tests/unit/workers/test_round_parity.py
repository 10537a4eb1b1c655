"""Parity points from real strategy rounds: a sequence_design round stores its predicted
outcomes (``predictions["mean"]``) in the shape the parity plot reads, so a campaign's parity
picture has points once its designs are measured."""

from __future__ import annotations

import uuid

import pytest

from service.config import Settings
from service.db.engine import session_scope
from service.enums import JobKind
from service.plots import parity
from service.plots.data import parity_points
from service.repositories.campaigns import get_campaign
from tests.unit.workers.factories import job_row, make_campaign, make_job
from workers.handlers import evaluate, suggest
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(240)


def test_a_sequence_campaign_has_parity_points_after_a_measured_round(
        project_key: tuple[uuid.UUID, str], published: list[tuple[uuid.UUID, JobKind, str]],
        science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="sequence", evaluator="simulator",
                                strategy={"kind": "sequence_design"},
                                problem_options={"rows": 4, "target": 5})
    job_id = make_job(project_id, campaign_id, params={"count": 2})
    assert run_job(job_id, suggest.handle) is Outcome.succeeded, job_row(job_id).error
    (evaluate_job, kind, _queue), = published
    assert kind == JobKind.evaluate
    assert run_job(evaluate_job, evaluate.handle) is Outcome.succeeded

    with session_scope() as session:
        points = parity_points(session, get_campaign(session, project_id, campaign_id))
    # The round predicts the campaign's objective (the oracle's verdict, exact: no sd); the
    # simulator is the same oracle, so its measurements fall on the diagonal.
    assert len(points["target_gap"]) == 2
    for point in points["target_gap"]:
        assert point.sd is None and point.predicted == pytest.approx(point.observed)
    drawn = parity.render(points)
    assert drawn.startswith(b"\x89PNG") and drawn != parity.render({})
