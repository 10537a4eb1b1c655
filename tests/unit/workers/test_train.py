"""The ``train`` job: a model version trained on demand, with its metrics, warm-started from
the previous version of its kind; a bad request fails the job with a readable error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from models.pinn.cases.trainer import reporter
from models.space.space import Space
from models.training import TRAINERS, TrainRequest, load_trainer
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import ModelVersion
from service.enums import JobKind, PlotKind
from service.errors import InvalidInput
from service.plots.cache import campaign_plot
from service.repositories.campaigns import get_campaign
from service.schemas.model_version import MODEL_KINDS
from tests.unit.workers.factories import job_row, make_campaign, make_job
from tests.unit.workers.test_strategies import model_versions as versions
from tests.unit.workers.test_strategies import observe_with_branin, rows, suggest_now
from workers.handlers import evaluate, suggest, train
from workers.runtime import Outcome, run_job

pytestmark = pytest.mark.timeout(120)


def test_the_api_offers_exactly_the_registered_trainers() -> None:
    assert sorted(MODEL_KINDS) == sorted(TRAINERS)
    for kind in TRAINERS:
        assert callable(load_trainer(kind))


def branin_campaign(project_id: uuid.UUID, observations: int) -> uuid.UUID:
    campaign_id = make_campaign(project_id, problem="branin")
    ids = suggest_now(project_id, campaign_id, observations)["suggestion_ids"]
    observe_with_branin(project_id, campaign_id, rows(ids))
    return campaign_id


def train_now(project_id: uuid.UUID, campaign_id: uuid.UUID, kind: str,
              options: dict[str, Any] | None = None) -> Outcome:
    job_id = make_job(project_id, campaign_id, kind=JobKind.train,
                      params={"kind": kind, "options": options or {}})
    return run_job(job_id, train.handle)


def test_gp_versions_carry_quality_and_warm_start(project_key: tuple[uuid.UUID, str],
                                                  science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = branin_campaign(project_id, 8)
    assert train_now(project_id, campaign_id, "gp") is Outcome.succeeded
    assert train_now(project_id, campaign_id, "gp") is Outcome.succeeded
    first, second = versions(campaign_id)
    assert (first.number, second.number, first.kind) == (1, 2, "gp")
    quality = first.metrics["quality"]
    assert set(quality) == {"value", "constraint"}
    assert all(q["rmse"] >= 0 for q in quality.values())
    assert not any(first.metrics["warm_started"].values())
    assert all(second.metrics["warm_started"].values())


def test_a_deep_ensemble_version_reports_its_stable_step(
        project_key: tuple[uuid.UUID, str], science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = branin_campaign(project_id, 10)
    options = {"members": 2, "width": 8, "epochs": 60, "curvature_every": 20}
    assert train_now(project_id, campaign_id, "deep_ensemble", options) is Outcome.succeeded
    (version,) = versions(campaign_id)
    assert version.kind == "deep_ensemble" and version.config["outputs"] == ["value",
                                                                             "constraint"]
    assert version.metrics["n_train"] + version.metrics["n_val"] == 10
    assert version.metrics["curvature"], "the step-size rule must be reported"


@pytest.mark.parametrize(("kind", "options", "error_type", "needle"), [
    ("deep_ensemble", {"layers": 3}, "InvalidOptionsError", "layers"),
    ("gp", {"config": {"gp": {"iterations": 5}}}, "InvalidOptionsError", "iterations"),
    ("forest", {}, "UnknownModelKindError", "forest"),
])
def test_a_bad_train_request_fails_the_job_readably(
        project_key: tuple[uuid.UUID, str], kind: str, options: dict[str, Any],
        error_type: str, needle: str) -> None:
    project_id, _ = project_key
    campaign_id = branin_campaign(project_id, 4)
    job_id = make_job(project_id, campaign_id, kind=JobKind.train,
                      params={"kind": kind, "options": options})
    assert run_job(job_id, train.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["type"] == error_type and needle in error["message"]
    assert versions(campaign_id) == []


def test_training_progress_reads_as_epochs_and_loss_terms() -> None:
    seen: list[tuple[float, str]] = []
    request = TrainRequest(space=Space.from_dict({"parameters": [
        {"type": "continuous", "name": "x", "lower": 0, "upper": 1}]}), observations=[],
        objectives=[], constraints=[], progress=lambda f, m: seen.append((f, m)))
    report = reporter(request, budget=200)
    report(50, {"pde": 1.5e-3, "bc": float("nan")})
    report(400, {"pde": 1e-4})
    assert seen == [(0.25, "epoch 50/200: pde=0.0015"), (1.0, "epoch 400/200: pde=0.0001")]


@pytest.mark.parametrize(("kind", "case", "config", "metric"), [
    ("pinn", "neo_hookean_bar", {"adam_epochs": 60, "lbfgs_iterations": 10}, "rel_l2"),
    ("neural_ode", "protein_expression", {"epochs_per_stage": 4, "horizons": [0.5, 1.0]},
     "solver"),
])
def test_physics_model_versions_train_as_jobs(
        project_key: tuple[uuid.UUID, str], science_timings: Settings, kind: str, case: str,
        config: dict[str, Any], metric: str) -> None:
    """A built-in physics case trains in a job; the version keeps the weights, the case's
    settings and its error against the reference (or its solver statistics)."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    job_id = make_job(project_id, campaign_id, kind=JobKind.train,
                      params={"kind": kind, "options": {"case": case, "config": config}})
    assert run_job(job_id, train.handle) is Outcome.succeeded, job_row(job_id).error
    (version,) = versions(campaign_id)
    assert version.kind == kind and version.config["case"] == case
    assert any(metric in key for key in version.metrics), sorted(version.metrics)
    with session_scope() as session:
        weights = session.scalar(select(ModelVersion.weights).where(
            ModelVersion.id == version.id))
        picture = campaign_plot(session, get_campaign(session, project_id, campaign_id),
                                PlotKind.model)
    assert weights
    assert picture.png is not None and picture.png.startswith(b"\x89PNG")
    assert job_row(job_id).result["picture"] is True  # type: ignore[index]


def test_a_campaign_without_a_trained_physics_model_has_no_model_picture(
        project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    with session_scope() as session, pytest.raises(InvalidInput, match="train a pinn"):
        campaign_plot(session, get_campaign(session, project_id, campaign_id), PlotKind.model)


def test_a_physics_case_of_the_wrong_kind_is_refused(project_key: tuple[uuid.UUID, str]
                                                     ) -> None:
    project_id, _ = project_key
    job_id = make_job(project_id, make_campaign(project_id), kind=JobKind.train,
                      params={"kind": "pinn", "options": {"case": "protein_expression"}})
    assert run_job(job_id, train.handle) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and error["details"] == {"option": "case"}


@pytest.mark.parametrize("handler", [train.handle, suggest.handle, evaluate.handle])
def test_a_campaign_job_without_a_campaign_fails_readably(
        project_key: tuple[uuid.UUID, str], handler: Any) -> None:
    project_id, _ = project_key
    job_id = make_job(project_id, None, kind=JobKind.train, params={"kind": "gp", "count": 1})
    assert run_job(job_id, handler) is Outcome.failed
    error = job_row(job_id).error
    assert error is not None and "needs a campaign" in error["message"]
