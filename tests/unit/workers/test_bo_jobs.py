"""Bayesian-optimisation rounds through the suggest job on a real database: an outcome that
cannot be fitted (all values identical) takes the deliberate flat fallback and nothing
non-finite is stored; and a stored round replays exactly from what the database holds (and
records the numerical environment a replay elsewhere needs)."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from models.bo.data import data_hash
from models.bo.problem import Observation as BOObservation
from models.bo.round import replay_inputs
from models.bo.suggest import suggest
from models.numerics import numerics
from models.problems.branin.problem import BraninProblem
from models.space.space import Space
from service.config import Settings
from service.db.engine import session_scope
from service.db.tables import Job, ModelVersion, Observation
from service.repositories.campaigns import campaign_spec, get_campaign
from service.repositories.model_versions import create_model_version
from service.repositories.observations import add_observations
from service.schemas.observation import ObservationBatch
from tests.unit.workers.factories import make_campaign
from tests.unit.workers.test_strategies import (
    FAST_BO,
    model_versions,
    observe_with_branin,
    rows,
    suggest_now,
)

pytestmark = pytest.mark.timeout(240)


def _finite_json(value: Any) -> bool:
    """Whether a stored JSON value holds only finite numbers (and round-trips strictly)."""
    json.dumps(value, allow_nan=False)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_json(v) for v in value)
    return True


def test_a_constant_constraint_takes_the_flat_fallback_and_the_job_succeeds(
        project_key: tuple[uuid.UUID, str], science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin",
                                strategy={"kind": "bayesian", "options": FAST_BO})
    start = suggest_now(project_id, campaign_id, 4)
    designs = rows(start["suggestion_ids"])
    values = BraninProblem().evaluate([s.parameters for s in designs])
    batch = ObservationBatch.model_validate({"observations": [
        {"parameters": s.parameters, "outcomes": {"value": v["value"], "constraint": -1.0},
         "suggestion_id": str(s.id)} for s, v in zip(designs, values, strict=True)]})
    with session_scope() as session:
        add_observations(session, get_campaign(session, project_id, campaign_id), batch,
                         posted_by="test")

    result = suggest_now(project_id, campaign_id, 2)  # succeeds: the fallback, not an error
    assert result["phase"] == "bayesian" and result["count"] == 2
    (version,) = model_versions(campaign_id)
    metrics = version.metrics
    assert metrics["constant_outcomes"] == {"constraint": -1.0}
    assert "'constraint' has the same value (-1) in all 4" in metrics["warnings"][0]
    assert metrics["quality"]["constraint"]["r2"] is None
    assert "SST = 0" in metrics["quality"]["constraint"]["undefined"]["r2"]
    assert "non_finite" not in metrics
    assert _finite_json(metrics) and _finite_json(version.config)
    for row in rows(result["suggestion_ids"]):
        assert _finite_json(row.predictions)
        assert row.predictions["mean"]["constraint"] == pytest.approx(-1.0, abs=1e-9)
        assert 0.0 < row.predictions["probability_feasible"] < 1.0


def test_a_warm_started_round_replays_exactly_from_the_database(
        project_key: tuple[uuid.UUID, str], science_timings: Settings) -> None:
    project_id, _ = project_key
    campaign_id = make_campaign(project_id, problem="branin",
                                strategy={"kind": "bayesian", "options": FAST_BO})
    start = suggest_now(project_id, campaign_id, 4)
    observe_with_branin(project_id, campaign_id, rows(start["suggestion_ids"]))
    first = suggest_now(project_id, campaign_id, 2)
    observe_with_branin(project_id, campaign_id, rows(first["suggestion_ids"]))
    second = suggest_now(project_id, campaign_id, 2)
    stored = [s.parameters for s in rows(second["suggestion_ids"])]
    # The lab goes on: later data must not leak into the replay.
    observe_with_branin(project_id, campaign_id, rows(second["suggestion_ids"]))

    v1, v2 = model_versions(campaign_id)
    assert str(v2.id) == second["model_version_id"]
    assert v1.config["warm_start"] is None
    assert v2.config["warm_start"]["weights_sha256"] == v1.config["weights_sha256"]
    assert v2.config["warm_start"]["data_hash"] == v1.config["data_hash"]
    assert any(v2.metrics["warm_started"].values())

    # Rebuild round 2's inputs from the database alone.
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        spec = campaign_spec(campaign)
        job = session.get(Job, v2.job_id)
        assert job is not None and job.started_at is not None
        seen = [BOObservation(dict(o.parameters), dict(o.outcomes), dict(o.noise_sd or {}),
                              bool(o.failed))
                for o in session.scalars(
                    select(Observation).where(Observation.campaign_id == campaign_id,
                                              Observation.created_at < job.started_at)
                    .order_by(Observation.created_at, Observation.id))]
        versions = [(dict(config), weights) for config, weights in session.execute(
            select(ModelVersion.config, ModelVersion.weights)
            .where(ModelVersion.campaign_id == campaign_id, ModelVersion.kind == "gp"))]
    assert len(seen) == 6
    assert data_hash(seen, []) == v2.config["data_hash"]  # nothing was pending then
    # What the same bits on another machine depend on (libraries, MKL's code path, threads).
    assert v2.config["numerics"] == numerics()
    config, seed, previous = replay_inputs(v2.config, versions)
    assert seed == v2.config["seed"] and previous is not None

    replayed = suggest(Space.from_dict(spec.space.model_dump()), seen, [],
                       [o.model_dump() for o in spec.objectives],
                       [c.model_dump() for c in spec.constraints], q=len(stored),
                       config=config, seed=seed, previous_state=previous)
    assert replayed.data_hash == v2.config["data_hash"]
    assert [s.parameters for s in replayed.suggestions] == stored


def test_a_model_version_with_non_finite_numbers_is_stored_json_safe(
        project_key: tuple[uuid.UUID, str]) -> None:
    """The store's guard, for any model kind: NaN and infinity become null (PostgreSQL's JSONB
    would refuse the transaction), and the metrics say where they were."""
    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    with session_scope() as session:
        create_model_version(
            session, campaign_id, kind="gp",
            config={"seed": 1, "bo": {"eta": float("nan")}},
            metrics={"quality": {"y": {"r2": float("nan"), "z_sd": 1.0}},
                     "values": [1.0, float("-inf")]},
            weights=b"w", job_id=None)
    (version,) = model_versions(campaign_id)
    assert version.metrics == {
        "quality": {"y": {"r2": None, "z_sd": 1.0}}, "values": [1.0, None],
        "non_finite": {"quality.y.r2": "nan", "values[1]": "-inf", "config.bo.eta": "nan"}}
    assert version.config == {"seed": 1, "bo": {"eta": None}}


def test_suggestion_predictions_are_stored_json_safe(
        project_key: tuple[uuid.UUID, str]) -> None:
    """The same guard for what any strategy predicts."""
    from service.db.tables import Suggestion
    from service.repositories.suggestions import store_suggestions

    project_id, _ = project_key
    campaign_id = make_campaign(project_id)
    with session_scope() as session:
        campaign = get_campaign(session, project_id, campaign_id)
        store_suggestions(session, campaign, [{"x1": 0.5, "x2": 0.5}], job_id=None,
                          strategy="bayesian", read_version=campaign.suggestions_version,
                          strategy_state={},
                          predictions=[{"mean": {"y": float("nan")}, "sd": [float("inf")]}])
    with session_scope() as session:
        (stored,) = session.scalars(
            select(Suggestion).where(Suggestion.campaign_id == campaign_id)).all()
        assert stored.predictions == {"mean": {"y": None}, "sd": [None]}
