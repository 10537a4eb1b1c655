"""Batch reprocessing: the request that starts a run, and what a client reads about it.

A run re-fits and re-suggests a set of campaigns with one strategy (the campaigns' own, or an
override), as one ``suggest`` job per campaign under one ``reprocess`` parent job. What each
campaign gained is its *report*: the old and the new model's predictive error per outcome
(where the models report it: a GP's leave-one-out RMSE, else the model's held-out validation
RMSE, each side naming its metric) and how far the new suggestions moved from the previous
ones. The run's suggestions have the status ``reprocessed``: kept for review beside the live
loop, never pending.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from service.enums import ReprocessItemStatus, ReprocessStatus
from service.schemas.base import ReadModel, StrictModel
from service.schemas.campaign import Strategy
from service.schemas.job import JobRead
from service.schemas.space import Name

#: The most children of one run in flight at once (whatever the request asks).
MAX_IN_FLIGHT = 64
#: The most campaigns one request may name by id.
MAX_CAMPAIGN_IDS = 10_000


class ReprocessSelection(StrictModel):
    """Which of the project's campaigns to reprocess. Given criteria must all hold (ids,
    problem, creation window); ``all`` takes every campaign of the project and no criterion."""

    campaign_ids: list[uuid.UUID] | None = Field(default=None, min_length=1,
                                                 max_length=MAX_CAMPAIGN_IDS)
    problem: Name | None = None
    created_after: AwareDatetime | None = Field(
        default=None, description="Campaigns created at or after this time (inclusive).")
    created_before: AwareDatetime | None = Field(
        default=None, description="Campaigns created before this time (exclusive).")
    all: bool = False

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> ReprocessSelection:
        criteria = [self.campaign_ids, self.problem, self.created_after, self.created_before]
        given = any(c is not None for c in criteria)
        if self.all and given:
            raise _invalid("all", "all takes every campaign of the project: give no other "
                           "criterion")
        if not self.all and not given:
            raise _invalid("campaign_ids", "choose campaigns: campaign_ids, problem, "
                           "created_after / created_before, or all=true")
        if (self.created_after and self.created_before
                and self.created_after >= self.created_before):
            raise _invalid("created_before", "created_after must be before created_before")
        if self.campaign_ids and len(set(self.campaign_ids)) != len(self.campaign_ids):
            raise _invalid("campaign_ids", "campaign_ids names a campaign twice")
        return self


def _invalid(field: str, message: str) -> PydanticCustomError:
    """A model-level refusal that still names its field (see
    :func:`service.api.errors.validation_details`)."""
    return PydanticCustomError("selection", message, {"loc": [field]})


class ReprocessCreate(ReprocessSelection):
    """The body of ``POST /v1/reprocess``."""

    strategy: Strategy | None = Field(
        default=None, description="Strategy (kind and options) to re-suggest with; default: "
        "each campaign's own.")
    count: int = Field(default=4, ge=1, description="Designs to suggest per campaign.")
    max_in_flight: int | None = Field(
        default=None, ge=1, le=MAX_IN_FLIGHT, description="Campaigns processed at once; "
        "default: the service's setting.")

    def selection(self) -> dict[str, Any]:
        """The selection as stored with the run (JSON)."""
        return self.model_dump(mode="json", include={"campaign_ids", "problem", "created_after",
                                                     "created_before", "all"},
                               exclude_none=True)


class ReprocessItemRead(ReadModel):
    """One campaign of a run: where it is, its child job, and its report once done."""

    campaign_id: uuid.UUID
    position: int
    status: ReprocessItemStatus
    job_id: uuid.UUID | None
    report: dict[str, Any] | None
    error: dict[str, Any] | None
    updated_at: dt.datetime


class ReprocessCounts(ReadModel):
    waiting: int = 0
    scheduled: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0


class ReprocessRead(ReadModel):
    """A reprocessing run with its parent job, item counts and (optionally) items."""

    id: uuid.UUID
    status: ReprocessStatus
    selection: dict[str, Any]
    strategy: dict[str, Any] | None
    count: int
    max_in_flight: int
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    job: JobRead | None = None
    counts: ReprocessCounts = Field(default_factory=ReprocessCounts)
    items: list[ReprocessItemRead] = Field(default_factory=list)
