"""Stored rows round-trip, and the schema's own invariants hold."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.engine import session_scope
from service.db.tables import Campaign, Observation, Suggestion
from service.enums import SuggestionStatus
from service.repositories import campaigns
from service.schemas.campaign import CampaignCreate

SPACE = {"parameters": [{"type": "continuous", "name": "x", "lower": 0.0, "upper": 1.0}]}


def _campaign(session: Session, project_id: uuid.UUID) -> Campaign:
    request = CampaignCreate.model_validate({
        "name": "c", "space": SPACE, "objectives": [{"name": "y", "goal": "minimize"}]})
    return campaigns.create_campaign(session, project_id, request)


def test_campaign_round_trip_keeps_spec_and_aware_timestamps(
        project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    with session_scope() as s:
        campaign_id = _campaign(s, project_id).id
    with session_scope() as s:
        row = s.get(Campaign, campaign_id)
        assert row is not None
        assert row.spec["space"]["parameters"][0]["name"] == "x"
        assert row.created_at.tzinfo is not None
        assert abs(row.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_observations_are_immutable(project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    with session_scope() as s:
        campaign = _campaign(s, project_id)
        obs = Observation(campaign_id=campaign.id, parameters={"x": 0.5}, outcomes={"y": 1.0},
                          posted_by="test")
        s.add(obs)
        s.flush()
        obs_id = obs.id
    with pytest.raises(RuntimeError, match="immutable"), session_scope() as s:
        row = s.get(Observation, obs_id)
        assert row is not None
        row.outcomes = {"y": 2.0}
        s.flush()
    with session_scope() as s:
        assert s.scalar(select(Observation.outcomes).where(Observation.id == obs_id)) == {"y": 1.0}


def test_a_design_can_be_pending_only_once(project_key: tuple[uuid.UUID, str]) -> None:
    project_id, _ = project_key
    with session_scope() as s:
        campaign_id = _campaign(s, project_id).id

    def add(status: SuggestionStatus) -> None:
        with session_scope() as s:
            s.add(Suggestion(campaign_id=campaign_id, parameters={"x": 0.5}, design_key="k" * 64,
                             strategy="test", status=status))

    add(SuggestionStatus.pending)
    add(SuggestionStatus.abandoned)  # the index is partial: only pending rows collide
    with pytest.raises(IntegrityError):
        add(SuggestionStatus.pending)
