"""Suggest and evaluate through a real Celery worker: the loop, and two clients at once."""

from __future__ import annotations

import math
import threading
import uuid
from collections import Counter

import pytest

from service.enums import JobKind, JobStatus, SuggestionStatus
from tests.integration.workers.conftest import StartWorker
from tests.integration.workers.support import (
    assert_succeeded,
    child_jobs,
    finished,
    observations,
    submit_and_publish,
    suggestions,
    wait_for,
)
from tests.unit.workers.factories import MIXED_SPACE, campaign_row, make_campaign

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _in_space(parameters: dict[str, object]) -> bool:
    x, rate, n, solvent = (parameters["x"], parameters["rate"], parameters["n"],
                           parameters["solvent"])
    return (isinstance(x, float) and -2.0 <= x <= 3.0
            and isinstance(rate, float) and 1e-3 <= rate <= 10.0
            and isinstance(n, int) and 1 <= n <= 8
            and solvent in ("water", "ethanol", "dmso"))


def test_suggest_end_to_end(project_key: tuple[uuid.UUID, str],
                            start_worker: StartWorker) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, space=MIXED_SPACE)
    worker = start_worker()
    first = submit_and_publish(project_id, campaign_id, params={"count": 6})
    rows = wait_for(lambda: finished([first]), timeout_s=60, what="the first suggest job",
                    workers=[worker])
    assert_succeeded(rows)
    second = submit_and_publish(project_id, campaign_id, params={"count": 6})
    rows = wait_for(lambda: finished([second]), timeout_s=30, what="the second suggest job",
                    workers=[worker])
    assert_succeeded(rows)
    job = rows[second]
    assert (job.attempts, job.progress, job.lease_token) == (1, 1.0, None)
    assert job.started_at is not None and job.finished_at is not None

    pending = suggestions(campaign_id, SuggestionStatus.pending)
    assert len(pending) == 12
    assert all(_in_space(s.parameters) for s in pending), [s.parameters for s in pending]
    assert len({s.design_key for s in pending}) == 12  # no pending duplicates
    assert {str(s.id) for s in pending if s.job_id == second} == set(
        job.result["suggestion_ids"])  # type: ignore[index]
    assert campaign_row(campaign_id).suggestions_version == 2


def _branin(x1: float, x2: float) -> float:
    return ((x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)


def test_simulator_loop_on_branin(project_key: tuple[uuid.UUID, str],
                                  start_worker: StartWorker) -> None:
    """suggest -> evaluate (a job created by the suggest job) -> one observation each."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator")
    worker = start_worker()
    suggest_id = submit_and_publish(project_id, campaign_id, params={"count": 5})
    assert_succeeded(wait_for(lambda: finished([suggest_id]), timeout_s=60,
                              what="the suggest job", workers=[worker]))
    children = child_jobs(suggest_id)
    assert [c.kind for c in children] == [JobKind.evaluate]
    evaluate_rows = wait_for(lambda: finished([children[0].id]), timeout_s=60,
                             what="the evaluate job", workers=[worker])
    assert_succeeded(evaluate_rows)

    made = suggestions(campaign_id)
    observed = observations(campaign_id)
    assert len(made) == 5 and all(s.status == SuggestionStatus.observed for s in made)
    per_suggestion = Counter(o.suggestion_id for o in observed)
    assert per_suggestion == Counter({s.id: 1 for s in made})
    for row in observed:
        assert row.posted_by == "simulator:branin" and not row.failed
        x1, x2 = row.parameters["x1"], row.parameters["x2"]
        assert row.outcomes["value"] == pytest.approx(_branin(x1, x2), rel=1e-9)
        assert row.outcomes["constraint"] == pytest.approx(
            (x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50, rel=1e-9, abs=1e-9)


def test_two_clients_at_once_never_share_a_pending_design(
        project_key: tuple[uuid.UUID, str], start_worker: StartWorker) -> None:
    """Two suggest requests on one campaign, sent together, run by two pool processes at once:
    the compare-and-set makes one of them recompute, so their designs are disjoint."""
    project_id, _ = project_key
    # A small discrete space: two overlapping batches would collide for sure.
    space = {"parameters": [{"type": "integer", "name": "n", "lower": 1, "upper": 12},
                            {"type": "categorical", "name": "c", "choices": ["a", "b"]}]}
    campaign_id = make_campaign(project_id, space=space)
    worker = start_worker(concurrency=2)
    ids: list[uuid.UUID] = []
    barrier = threading.Barrier(2)

    def client() -> None:
        barrier.wait(5)
        ids.append(submit_and_publish(project_id, campaign_id, params={"count": 10}))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 2
    rows = wait_for(lambda: finished(ids), timeout_s=60, what="both suggest jobs",
                    workers=[worker])
    assert_succeeded(rows)

    pending = suggestions(campaign_id, SuggestionStatus.pending)
    by_job = {job_id: {s.design_key for s in pending if s.job_id == job_id} for job_id in ids}
    assert [len(keys) for keys in by_job.values()] == [10, 10]
    assert not set.intersection(*by_job.values())
    assert len(pending) == len({s.design_key for s in pending}) == 20
    assert campaign_row(campaign_id).suggestions_version == 2
    assert all(job.status == JobStatus.succeeded for job in rows.values())
