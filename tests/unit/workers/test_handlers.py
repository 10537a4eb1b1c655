"""The suggest and evaluate handlers, run through the runner on a real database (no broker)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from models.design import space_filling, space_filling_round
from models.problems.base import Problem, ProblemSpec
from models.problems.registry import problem_specs
from service.db.engine import session_scope
from service.db.tables import Observation, Suggestion
from service.enums import JobKind, JobStatus, SuggestionStatus
from service.repositories.suggestions import abandon
from tests.unit.workers.factories import campaign_row, job_row, make_campaign, make_job
from workers import runtime
from workers.handlers import evaluate, suggest
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(60)

SLOWSIM = Path(__file__).resolve().parents[2] / "plugins" / "slowsim"


@pytest.fixture
def slowsim(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test plug-in, found through its entry point, with no delay per design."""
    monkeypatch.syspath_prepend(str(SLOWSIM))
    monkeypatch.setenv("SLOWSIM_DELAY_S", "0")
    problem_specs.cache_clear()
    yield
    problem_specs.cache_clear()


def pending(campaign_id: uuid.UUID) -> list[Suggestion]:
    with session_scope() as session:
        return list(session.scalars(select(Suggestion).where(
            Suggestion.campaign_id == campaign_id,
            Suggestion.status == SuggestionStatus.pending)))


def observations(campaign_id: uuid.UUID) -> list[Observation]:
    with session_scope() as session:
        return list(session.scalars(select(Observation).where(
            Observation.campaign_id == campaign_id)))


# --- suggest ----------------------------------------------------------------------------


def test_suggest_stores_new_designs_and_advances_the_stream(
        project_key: tuple[uuid.UUID, str], published: list[Any]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    first = make_job(project_id, campaign_id, params={"count": 5})
    assert run_job(first, suggest.handle) is Outcome.succeeded
    result = job_row(first).result
    assert result is not None and result["count"] == 5 and "evaluate_job_id" not in result
    campaign = campaign_row(campaign_id)
    assert campaign.suggestions_version == 1 and campaign.strategy_state["sobol_skip"] >= 5
    second = make_job(project_id, campaign_id, params={"count": 5})
    run_job(second, suggest.handle)
    rows = pending(campaign_id)
    assert len({r.design_key for r in rows}) == len(rows) == 10
    assert published == []  # a lab campaign closes no loop by itself


def test_suggest_recomputes_after_losing_the_race(project_key: tuple[uuid.UUID, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Another job commits between this job's read and its write: the compare-and-set fails,
    and the job recomputes from the new state, never re-suggesting the other's designs."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    rival = make_job(project_id, campaign_id, params={"count": 4})
    mine = make_job(project_id, campaign_id, params={"count": 4})
    real = space_filling.space_filling_designs
    calls: list[int] = []

    def interleaved(*args: Any, **kwargs: Any) -> space_filling.SpaceFillingResult:
        calls.append(kwargs["skip"])
        result = real(*args, **kwargs)
        if len(calls) == 1:  # the rival commits while "mine" computes
            monkeypatch.setattr(space_filling_round, "space_filling_designs", real)
            assert run_job(rival, suggest.handle) is Outcome.succeeded
            monkeypatch.setattr(space_filling_round, "space_filling_designs", interleaved)
        return result

    monkeypatch.setattr(space_filling_round, "space_filling_designs", interleaved)
    assert run_job(mine, suggest.handle) is Outcome.succeeded
    assert calls[0] == 0 and calls[1] > 0  # recomputed, continuing the rival's stream
    rows = pending(campaign_id)
    assert len({r.design_key for r in rows}) == len(rows) == 8
    assert campaign_row(campaign_id).suggestions_version == 2


def test_suggest_gives_up_after_bounded_races(project_key: tuple[uuid.UUID, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    job_id = make_job(project_id, campaign_id)
    real = suggest.read_state

    def stale(project: uuid.UUID, campaign: uuid.UUID,
              params: dict[str, Any]) -> suggest.CampaignState:
        state = real(project, campaign, params)
        return suggest.CampaignState(**{**state.__dict__, "version": state.version - 1})

    monkeypatch.setattr(suggest, "read_state", stale)
    assert run_job(job_id, suggest.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["category"] == "conflict"
    assert pending(campaign_id) == []


@pytest.mark.parametrize("params", [{}, {"count": 0}, {"count": "3"}, {"count": True}])
def test_suggest_refuses_a_bad_count(project_key: tuple[uuid.UUID, str],
                                     params: dict[str, Any]) -> None:
    project_id, _ = project_key
    job_id = make_job(project_id, make_campaign(project_id), params=params)
    assert run_job(job_id, suggest.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["type"] == "InvalidInput" and "count" in error["message"]


def test_an_exhausted_space_fails_the_job_with_the_science_error(
        project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    space = {"parameters": [{"type": "categorical", "name": "c", "choices": ["a", "b"]}]}
    campaign_id = make_campaign(project_id, space=space)
    job_id = make_job(project_id, campaign_id, params={"count": 3})
    assert run_job(job_id, suggest.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None
    assert (error["type"], error["category"]) == ("SpaceExhaustedError", "science")
    assert error["details"] == {"requested": 3, "available": 2}


def test_a_simulator_campaign_gets_an_evaluate_job_published_after_commit(
        project_key: tuple[uuid.UUID, str], published: list[Any]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator")
    job_id = make_job(project_id, campaign_id, params={"count": 3})
    run_job(job_id, suggest.handle)
    result = job_row(job_id).result
    assert result is not None
    child = job_row(uuid.UUID(result["evaluate_job_id"]))
    assert (child.kind, child.parent_id, child.status) == (JobKind.evaluate, job_id,
                                                           JobStatus.queued)
    assert child.params == {"suggestion_ids": result["suggestion_ids"]}
    assert published == [(child.id, JobKind.evaluate, "cpu")]


# --- evaluate ---------------------------------------------------------------------------


def _suggest_then_evaluate(project_id: uuid.UUID, campaign_id: uuid.UUID,
                           count: int) -> tuple[uuid.UUID, list[str]]:
    job_id = make_job(project_id, campaign_id, params={"count": count})
    run_job(job_id, suggest.handle)
    result = job_row(job_id).result
    assert result is not None
    return uuid.UUID(result["evaluate_job_id"]), result["suggestion_ids"]


def test_evaluate_observes_each_suggestion_once(project_key: tuple[uuid.UUID, str],
                                                published: list[Any]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator")
    evaluate_id, ids = _suggest_then_evaluate(project_id, campaign_id, 4)
    assert run_job(evaluate_id, evaluate.handle) is Outcome.succeeded
    rows = observations(campaign_id)
    assert sorted(str(o.suggestion_id) for o in rows) == sorted(ids)
    for row in rows:
        x1, x2 = row.parameters["x1"], row.parameters["x2"]
        expected = ((x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
                    + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)
        assert row.outcomes["value"] == pytest.approx(expected, rel=1e-9)
        assert row.posted_by == "simulator:branin" and not row.failed
    assert pending(campaign_id) == []
    assert job_row(evaluate_id).result == {"observed": 4, "failed": 0, "skipped": []}


def test_a_design_the_simulator_cannot_evaluate_is_a_failed_observation(
        project_key: tuple[uuid.UUID, str], slowsim: None, published: list[Any]) -> None:
    project_id, _ = project_key
    space = {"parameters": [{"type": "continuous", "name": "x", "lower": 0.9, "upper": 1.0}]}
    campaign_id = make_campaign(project_id, problem="slowsim", evaluator="simulator",
                                space=space)
    evaluate_id, _ = _suggest_then_evaluate(project_id, campaign_id, 8)
    assert run_job(evaluate_id, evaluate.handle) is Outcome.succeeded
    rows = observations(campaign_id)
    assert len(rows) == 8
    diverged = [r for r in rows if r.parameters["x"] > 0.95]
    assert 0 < len(diverged) < 8  # Sobol points stratify [0.9, 1]: about half diverge
    for row in rows:
        if row in diverged:
            assert row.failed and "diverged" in (row.failure_reason or "")
            assert row.outcomes == {}
        else:
            assert not row.failed and row.outcomes["y"] == pytest.approx(
                (row.parameters["x"] - 0.3) ** 2)
    result = job_row(evaluate_id).result
    assert result is not None and result["failed"] == len(diverged)


def test_evaluate_skips_a_suggestion_abandoned_meanwhile(project_key: tuple[uuid.UUID, str],
                                                         published: list[Any]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator")
    evaluate_id, ids = _suggest_then_evaluate(project_id, campaign_id, 3)
    with session_scope() as session:
        abandon(session, session.get(Suggestion, uuid.UUID(ids[0])))  # type: ignore[arg-type]
    run_job(evaluate_id, evaluate.handle)
    assert sorted(str(o.suggestion_id) for o in observations(campaign_id)) == sorted(ids[1:])
    result = job_row(evaluate_id).result
    assert result is not None and result["skipped"] == [ids[0]]


def test_evaluate_retries_its_commit_when_a_suggestion_changed_under_it(
        project_key: tuple[uuid.UUID, str], published: list[Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin", evaluator="simulator")
    evaluate_id, ids = _suggest_then_evaluate(project_id, campaign_id, 2)
    real = evaluate.add_observations
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise StaleDataError("suggestion row_version changed")
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate, "add_observations", racing)
    assert run_job(evaluate_id, evaluate.handle) is Outcome.succeeded
    assert len(calls) == 2
    assert sorted(str(o.suggestion_id) for o in observations(campaign_id)) == sorted(ids)


class _Odd(Problem):
    spec: ClassVar[ProblemSpec] = ProblemSpec(key="odd", title="odd", description="odd")

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def parameter_names(self) -> list[str]:
        return []

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return [self.answer]


@pytest.mark.parametrize(("answer", "reason"), [
    ({"y": float("nan")}, "nan"),
    ({"y": float("inf")}, "inf"),
    ({"z": 1.0}, "no value for ['y']"),
    ({"y": "high"}, "non-number"),
])
def test_unusable_simulator_outputs_become_failed_observations(answer: dict[str, Any],
                                                               reason: str) -> None:
    result = evaluate.evaluate_one(_Odd(answer), uuid.uuid4(), {"x": 0.1}, ["y"])
    assert result.outcomes is None and reason in (result.failure_reason or "")


def test_control_errors_are_not_swallowed_as_design_failures() -> None:
    class Stopped(_Odd):
        def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
            raise runtime.DeadlineExceeded("out of time")

    with pytest.raises(runtime.DeadlineExceeded):
        evaluate.evaluate_one(Stopped({}), uuid.uuid4(), {"x": 0.1}, ["y"])
