"""Observation schemas: measured designs, posted one or many at a time."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from service.schemas.base import ReadModel, StrictModel
from service.schemas.space import Name

DesignValue = float | int | str


class ObservationCreate(StrictModel):
    parameters: dict[Name, DesignValue] = Field(min_length=1)
    outcomes: dict[Name, float] = Field(default_factory=dict)
    noise_sd: dict[Name, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    # outcome -> parameter -> d outcome / d parameter (outcome units per parameter unit), for
    # a simulator or assay that gives derivatives (an adjoint solve, a differentiable code):
    # gradient-enhanced surrogates fit them (strategy ``inverse_design``).
    gradients: dict[Name, dict[Name, float]] = Field(default_factory=dict)
    suggestion_id: uuid.UUID | None = None
    failed: bool = False
    failure_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _outcomes_or_failure(self) -> ObservationCreate:
        if self.failed and self.outcomes:
            raise ValueError("a failed observation carries no outcomes")
        if not self.failed and not self.outcomes:
            raise ValueError("give outcomes, or mark the observation failed")
        unknown = sorted(set(self.noise_sd) - set(self.outcomes))
        if unknown:
            raise ValueError(f"noise_sd names outcomes that were not given: {unknown}")
        unknown = sorted(set(self.gradients) - set(self.outcomes))
        if unknown:
            raise ValueError(f"gradients name outcomes that were not given: {unknown}")
        return self


class ObservationBatch(StrictModel):
    observations: list[ObservationCreate] = Field(min_length=1, max_length=10_000)


class ObservationRead(ReadModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    suggestion_id: uuid.UUID | None
    parameters: dict[str, Any]
    outcomes: dict[str, Any]
    noise_sd: dict[str, Any]
    gradients: dict[str, Any] = Field(default_factory=dict)
    failed: bool
    failure_reason: str | None
    posted_by: str
    created_at: dt.datetime


class ObservationsCreated(ReadModel):
    """The answer to a posted batch: the stored rows, in the order they were posted."""

    observations: list[ObservationRead]
