"""The ``pinn_design`` strategy through the worker path: a ``bloom`` campaign trains a parametric
PINN as a job, the suggest job designs abatements through it, the simulator (the SciPy
reference) measures them.

Training is small (width 20, 300 Adam + 300 L-BFGS steps on 600 points: ~6 s of CPU); its
biomass is within ~0.5% of the reference over the default rates [0.5, 2] 1/day, so the first
design's measured biomass lands within 1% of the cap (asserted; measured ~0.1%).
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import torch
from sqlalchemy import select

from models.design.rounds import InvalidOptionsError, RoundRequest
from models.pinn.round import propose
from models.problems import registry
from models.problems.bloom.problem import BloomControlProblem
from models.problems.registry import ENTRY_POINT_GROUP, problem_specs
from models.space.space import Space
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Observation, Suggestion
from service.enums import JobKind
from tests.unit.workers.factories import job_row, make_campaign, make_job
from workers.handlers import evaluate, suggest, train
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[3]
TRAIN_CONFIG: dict[str, Any] = {"width": 20, "harmonics": 6, "adam_epochs": 300,
                                "lbfgs_iterations": 300, "n_collocation": 600,
                                "check_rates": [0.5, 1.25, 2.0]}


@pytest.fixture(autouse=True)
def declared_problems(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The problem plug-ins pyproject.toml declares (``bloom`` among them), whether or not the
    installed metadata has been refreshed (``pip install -e .``) since it was added."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    points = [EntryPoint(name=n, value=v, group=ENTRY_POINT_GROUP)
              for n, v in project["entry-points"][ENTRY_POINT_GROUP].items()]
    monkeypatch.setattr(registry, "entry_points", lambda *, group: points)
    problem_specs.cache_clear()
    yield
    problem_specs.cache_clear()


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Physics shares two cores with other engineers' tests: one thread, as in the PINN tests."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _rows(ids: list[str]) -> list[Suggestion]:
    with session_scope() as session:
        found = {str(r.id): r for r in session.scalars(
            select(Suggestion).where(Suggestion.id.in_([uuid.UUID(i) for i in ids])))}
        for row in found.values():
            session.expunge(row)
    return [found[i] for i in ids]


def test_bloom_control_is_designed_through_the_trained_parametric_pinn(
        project_key: tuple[uuid.UUID, str], published: list[tuple[uuid.UUID, JobKind, str]],
        science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="bloom", evaluator="simulator",
                                strategy={"kind": "pinn_design", "options": {"hedge": 0.02}})
    trained = make_job(project_id, campaign_id, kind=JobKind.train, params={
        "kind": "pinn", "options": {"case": "fisher_kpp_parametric", "config": TRAIN_CONFIG}})
    assert run_job(trained, train.handle) is Outcome.succeeded, job_row(trained).error
    job_id = make_job(project_id, campaign_id, params={"count": 2})
    assert run_job(job_id, suggest.handle) is Outcome.succeeded, job_row(job_id).error
    result = job_row(job_id).result
    assert result is not None and result["phase"] == "pinn_design"
    designed = _rows(result["suggestion_ids"])
    ((evaluate_job, _kind, _queue),) = published
    assert run_job(evaluate_job, evaluate.handle) is Outcome.succeeded
    with session_scope() as session:
        measured = {o.suggestion_id: o.outcomes for o in session.scalars(
            select(Observation).where(Observation.campaign_id == campaign_id))}
    cap = 0.2
    assert len(designed) == 2
    first, second = designed
    for suggestion in designed:
        assert 0.0 <= suggestion.parameters["abatement"] <= 0.75
        aim = suggestion.predictions["aimed_at"]
        assert suggestion.predictions["mean"]["biomass"] == pytest.approx(aim, rel=1e-4)
        outcomes = measured[suggestion.id]
        assert outcomes["abatement"] == suggestion.parameters["abatement"]
        assert abs(outcomes["biomass"] / aim - 1.0) < 1e-2, (outcomes, aim)
    assert first.predictions["aimed_at"] == pytest.approx(cap)
    # The hedged second design aims 2% lower: it needs more abatement.
    assert second.parameters["abatement"] > first.parameters["abatement"]


def test_pinn_design_without_a_trained_model_fails_readably(
        project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="bloom", strategy={"kind": "pinn_design"})
    job_id = make_job(project_id, campaign_id, params={"count": 1})
    assert run_job(job_id, suggest.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None
    assert "train a 'pinn' model version of case 'fisher_kpp_parametric'" in error["message"]


def test_pinn_design_refuses_a_model_of_another_case_or_range() -> None:
    problem = BloomControlProblem()
    space = Space.from_dict(problem.spec.default_space or {})

    def request(config: dict[str, Any], options: dict[str, Any] | None = None) -> RoundRequest:
        return RoundRequest(space=space, observations=[], pending=[], taken=frozenset(),
                            objectives=[], constraints=[], count=1, options=options or {},
                            previous_model=b"weights", previous_config=config,
                            problem=problem)

    with pytest.raises(InvalidOptionsError, match="fisher_kpp_parametric"):
        propose(request({"case": "fisher_kpp_forward"}))
    from models.pinn.cases.registry import state_bytes
    from models.pinn.parametric import ParametricBloom, parametric_problem

    _, net = parametric_problem(ParametricBloom(rate_min=1.0, rate_max=2.0), width=4)
    narrow = {"case": "fisher_kpp_parametric", "width": 4, "rate_min": 1.0, "rate_max": 2.0}
    with pytest.raises(InvalidOptionsError, match="covers rates"):
        propose(RoundRequest(space=space, observations=[], pending=[], taken=frozenset(),
                             objectives=[], constraints=[], count=1, previous_model=state_bytes(
                                 net), previous_config=narrow, problem=problem))
    with pytest.raises(InvalidOptionsError, match="not understood"):
        propose(request({"case": "fisher_kpp_parametric"}, {"nope": 1}))
