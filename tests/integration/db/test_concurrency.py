"""Concurrent writers to one campaign: a suggestion observed by one transaction and abandoned
by another (each having read it as pending) is settled by its row version, never both.

Only PostgreSQL interleaves the two transactions: the embedded SQLite takes the write lock at
BEGIN (``BEGIN IMMEDIATE``), so its writers are serialised and the race cannot arise there.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from service.db.engine import session_factory, session_scope
from service.db.tables import Observation, Suggestion
from service.enums import SuggestionStatus
from service.repositories import campaigns, observations, suggestions
from service.schemas.campaign import CampaignCreate
from service.schemas.observation import ObservationBatch
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres",
                                reason="SQLite serialises writers (BEGIN IMMEDIATE)")


def test_observe_and_abandon_race_is_settled_by_the_row_version(
        project_key: tuple[uuid.UUID, str]) -> None:
    project_id = project_key[0]
    with session_scope() as s:
        campaign = campaigns.create_campaign(s, project_id, CampaignCreate.model_validate({
            "name": "race", "objectives": [{"name": "y", "goal": "minimize"}],
            "space": {"parameters": [{"type": "continuous", "name": "x", "lower": 0,
                                      "upper": 1}]}}))
        [row] = suggestions.store_suggestions(
            s, campaign, [{"x": 0.5}], job_id=None, strategy="test", read_version=0,
            strategy_state={})
        campaign_id, suggestion_id = campaign.id, row.id

    abandoner = session_factory()()
    try:
        stale = suggestions.get_suggestion(abandoner, campaign_id, suggestion_id)
        assert stale.status == SuggestionStatus.pending  # read inside B's open transaction

        with session_scope() as s:  # A observes it and commits first
            campaign = campaigns.get_campaign(s, project_id, campaign_id)
            observations.add_observations(s, campaign, ObservationBatch.model_validate(
                {"observations": [{"parameters": {"x": 0.5}, "outcomes": {"y": 1.0},
                                   "suggestion_id": str(suggestion_id)}]}), posted_by="A")

        with pytest.raises(StaleDataError):
            suggestions.abandon(abandoner, stale)  # B's write finds another version
        abandoner.rollback()
    finally:
        abandoner.close()

    with session_scope() as s:
        assert s.scalar(select(Suggestion.status).where(Suggestion.id == suggestion_id)) \
            == SuggestionStatus.observed
        assert len(list(s.scalars(select(Observation)))) == 1
