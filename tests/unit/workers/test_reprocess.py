"""Reprocessing runs driven pass by pass through the runner on a real database (no broker):
many small campaigns with a broken one among them under the in-flight bound, and results kept
beside the live loop (not pending, not handed out, the strategy's position untouched)."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, update

from models.problems.branin.problem import BraninProblem
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Campaign, Job, ModelVersion, ReprocessItem, ReprocessRun, Suggestion
from service.enums import JobKind, JobStatus, ReprocessItemStatus, ReprocessStatus, SuggestionStatus
from service.jobs import submit
from service.repositories import reprocess as reprocess_rows
from service.repositories.campaigns import get_campaign, summarize
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from service.schemas.reprocess import ReprocessCreate
from tests.unit.workers.factories import campaign_row, job_row, make_campaign
from workers.handlers import reprocess, suggest
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(240)

Sent = list[tuple[uuid.UUID, JobKind, str]]


@pytest.fixture
def sent(published: Sent, monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Every job published, by the runner or by a pass (which publishes its children itself)."""
    monkeypatch.setattr(reprocess, "publish_jobs", lambda jobs: published.extend(jobs))
    return published


def _start(project_id: uuid.UUID, body: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    """What ``POST /v1/reprocess`` does (without publishing): the run and its parent job."""
    with session_scope() as session:
        run, job = reprocess_rows.create_run(session, project_id,
                                             ReprocessCreate.model_validate(body),
                                             max_in_flight=4, max_count=100)
        return run.id, job.id


def _in_flight(run_id: uuid.UUID) -> tuple[int, int]:
    """Scheduled items, and child suggest jobs not final, of the run."""
    with session_scope() as session:
        scheduled = session.scalar(select(func.count()).select_from(ReprocessItem).where(
            ReprocessItem.run_id == run_id,
            ReprocessItem.status == ReprocessItemStatus.scheduled)) or 0
        live = session.scalar(select(func.count()).select_from(Job).join(
            ReprocessItem, ReprocessItem.job_id == Job.id).where(
            ReprocessItem.run_id == run_id,
            Job.status.in_([JobStatus.queued, JobStatus.running]))) or 0
    return scheduled, live


def _drive(run_id: uuid.UUID, parent_id: uuid.UUID, sent: Sent, *, bound: int,
           seed: int = 0) -> list[ReprocessItem]:
    """Run passes and children in a shuffled order until the run finishes, checking after
    every step that no more than ``bound`` children are ever in flight."""
    rng = random.Random(seed)
    queued: list[uuid.UUID] = []
    peak = 0
    for _ in range(200):
        assert run_job(parent_id, reprocess.handle) is Outcome.succeeded
        queued += [job_id for job_id, kind, _ in sent if kind == JobKind.suggest
                   and job_id not in queued]
        sent.clear()
        scheduled, live = _in_flight(run_id)
        peak = max(peak, scheduled, live)
        assert scheduled <= bound and live <= bound
        with session_scope() as session:
            run = session.get(ReprocessRun, run_id)
            assert run is not None
            if run.status == ReprocessStatus.finished:
                items = reprocess_rows.run_items(session, run_id)
                session.expunge_all()
                assert peak == bound  # the bound was reached, and never passed
                return items
        # Finish a random share of the children in flight (at least one), then the next pass.
        waiting = [j for j in queued if not job_row(j).status.is_final]
        rng.shuffle(waiting)
        for job_id in waiting[:rng.randint(1, len(waiting))]:
            run_job(job_id, suggest.handle)
            scheduled, live = _in_flight(run_id)
            assert scheduled <= bound and live <= bound
    raise AssertionError("the run did not finish in 200 passes")


def test_fifteen_campaigns_one_broken_never_exceed_the_in_flight_bound(
        project_key: tuple[uuid.UUID, str], sent: Sent) -> None:
    project_id, _ = project_key
    campaigns = [make_campaign(project_id, seed=s) for s in range(15)]
    broken = campaigns[6]
    with session_scope() as session:  # its plug-in is gone: its child fails
        session.execute(update(Campaign).where(Campaign.id == broken).values(problem="gone"))
    run_id, parent_id = _start(project_id, {"campaign_ids": [str(c) for c in campaigns],
                                            "count": 2, "max_in_flight": 3})
    items = _drive(run_id, parent_id, sent, bound=3, seed=11)

    by_campaign = {item.campaign_id: item for item in items}
    assert by_campaign[broken].status == ReprocessItemStatus.failed
    assert "gone" in by_campaign[broken].error["message"]
    assert {by_campaign[c].status for c in campaigns if c != broken} == {
        ReprocessItemStatus.succeeded}
    parent = job_row(parent_id)
    assert parent.status == JobStatus.succeeded and parent.progress == 1.0
    assert parent.result == {"run_id": str(run_id), "waiting": 0, "scheduled": 0,
                             "succeeded": 14, "failed": 1, "cancelled": 0}
    for campaign_id in campaigns:
        if campaign_id != broken:
            assert by_campaign[campaign_id].report["suggestions"]["new"] == 2


def _suggest(project_id: uuid.UUID, campaign_id: uuid.UUID, count: int,
             **params: Any) -> dict[str, Any]:
    with session_scope() as session:
        job_id = submit(session, project_id=project_id, kind=JobKind.suggest,
                        campaign_id=campaign_id, params={"count": count, **params}).id
    assert run_job(job_id, suggest.handle) is Outcome.succeeded, job_row(job_id).error
    result = job_row(job_id).result
    assert result is not None
    return result


def _designs(ids: list[str]) -> list[dict[str, Any]]:
    with session_scope() as session:
        found = {str(r.id): dict(r.parameters) for r in session.scalars(
            select(Suggestion).where(Suggestion.id.in_([uuid.UUID(i) for i in ids])))}
    return [found[i] for i in ids]


def _pending_count(project_id: uuid.UUID, campaign_id: uuid.UUID) -> int:
    with session_scope() as session:
        return summarize(session, get_campaign(session, project_id, campaign_id)
                         ).pending_suggestions


def test_reprocessed_suggestions_stay_beside_the_live_loop(
        project_key: tuple[uuid.UUID, str], sent: Sent) -> None:
    project_id, _ = project_key
    # Two identical campaigns (same space, same seed), one lab round pending in each.
    live, twin = make_campaign(project_id, seed=3), make_campaign(project_id, seed=3)
    first = _suggest(project_id, live, 2, client_id="robot-1")
    assert _designs(first["suggestion_ids"]) == _designs(
        _suggest(project_id, twin, 2, client_id="robot-1")["suggestion_ids"])
    state_before = campaign_row(live).strategy_state
    assert _pending_count(project_id, live) == 2

    run_id, parent_id = _start(project_id, {"campaign_ids": [str(live)], "count": 3})
    items = _drive(run_id, parent_id, sent, bound=1)
    assert [i.status for i in items] == [ReprocessItemStatus.succeeded]
    with session_scope() as session:
        tagged = list(session.scalars(select(Suggestion).where(
            Suggestion.campaign_id == live, Suggestion.status == SuggestionStatus.reprocessed)))
        session.expunge_all()
    assert len(tagged) == 3
    assert all(s.predictions["reprocess_run"] == str(run_id) and s.client_id is None
               for s in tagged)

    # The live loop is as if the run had not happened: same pending count, same strategy
    # position, a client gets only its own pending designs back, and the next round is the
    # twin's next round (the run's designs neither block the space nor count as in flight).
    assert _pending_count(project_id, live) == 2
    assert campaign_row(live).strategy_state == state_before
    again = _suggest(project_id, live, 2, client_id="robot-1")
    assert again["suggestion_ids"] == first["suggestion_ids"]
    other = _suggest(project_id, live, 3, client_id="robot-2")
    assert other["reused"] == [] and not set(other["suggestion_ids"]) & {
        str(s.id) for s in tagged}
    assert _designs(other["suggestion_ids"]) == _designs(
        _suggest(project_id, twin, 3, client_id="robot-2")["suggestion_ids"])
    assert _pending_count(project_id, live) == 5
    with session_scope() as session:
        statuses = set(session.scalars(select(Suggestion.status).where(
            Suggestion.id.in_([s.id for s in tagged]))))
    assert statuses == {SuggestionStatus.reprocessed}


#: A small inverse-design round (the test checks the report's wiring, not the designs).
FAST_INVERSE: dict[str, Any] = {"initial_points": 6, "members": 2, "width": 16, "epochs": 100,
                                "starts": 8, "inner_iterations": 20, "outer_iterations": 2}


def _branin_history(project_id: uuid.UUID, campaign_id: uuid.UUID, n: int) -> None:
    points = [{"x1": -5 + 15 * ((i * 0.618) % 1), "x2": 15 * ((i * 0.382 + 0.1) % 1)}
              for i in range(n)]
    batch = ObservationBatch.model_validate({"observations": [
        {"parameters": p, "outcomes": v}
        for p, v in zip(points, BraninProblem().evaluate(points), strict=True)]})
    with session_scope() as session:
        add_observations(session, get_campaign(session, project_id, campaign_id), batch,
                         posted_by="test")


def test_the_report_compares_deep_ensembles_by_their_validation_error(
        project_key: tuple[uuid.UUID, str], sent: Sent, science_timings: Settings) -> None:
    """An inverse-design campaign: its models report no leave-one-out error, so the report
    falls back to each version's held-out validation RMSE and says so."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin",
                                strategy={"kind": "inverse_design", "options": FAST_INVERSE})
    _branin_history(project_id, campaign_id, 10)
    with session_scope() as session:  # the old version, as the train job stores an ensemble
        session.add(ModelVersion(campaign_id=campaign_id, number=1, kind="deep_ensemble",
                                 config={"outputs": ["value", "constraint"]},
                                 metrics={"val_rmse": [1e6, 2e6], "train_rmse": [1.0, 1.0]}))
    run_id, parent_id = _start(project_id, {"campaign_ids": [str(campaign_id)], "count": 2})
    (item,) = _drive(run_id, parent_id, sent, bound=1)
    assert item.status == ReprocessItemStatus.succeeded, item.error
    model = item.report["model"]
    assert model["old_version"]["number"] == 1
    assert model["new_version"]["kind"] == "deep_ensemble"
    assert set(model["error"]) == {"value", "constraint"}
    for name, old in (("value", 1e6), ("constraint", 2e6)):
        entry = model["error"][name]
        assert entry["old_metric"] == entry["new_metric"] == "val_rmse"
        assert entry["old_rmse"] == old and 0 < entry["new_rmse"] < old
        assert entry["change"] == pytest.approx(entry["new_rmse"] - old)


@pytest.mark.parametrize(("metrics", "config", "expected"), [
    ({"quality": {"y": {"rmse": 0.5, "nlpd": 1.0}}, "val_rmse": {"y": 9.0}}, {},
     ({"y": 0.5}, "loo_rmse")),
    ({"val_rmse": {"y": 0.25, "z": None}, "train_rmse": {"y": 0.1}}, {},
     ({"y": 0.25}, "val_rmse")),
    ({"val_rmse": [0.5, 0.75]}, {"outputs": ["y", "z"]}, ({"y": 0.5, "z": 0.75}, "val_rmse")),
    ({"val_rmse": None, "train_rmse": {"y": 0.1}}, {}, ({}, None)),
    ({"held_out_bce": 0.3}, {}, ({}, None)),
])
def test_model_error_reads_loo_then_validation_rmse(
        metrics: dict[str, Any], config: dict[str, Any],
        expected: tuple[dict[str, float], str | None]) -> None:
    row = ModelVersion(number=1, kind="k", metrics=metrics, config=config)
    assert reprocess_rows.model_error(row) == expected
