"""Campaign schemas: what a client sends to create one, and what it reads back."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from service.schemas.base import ReadModel, StrictModel
from service.schemas.space import Name, Space


class Objective(StrictModel):
    name: Name
    goal: Literal["minimize", "maximize"]
    unit: str | None = None


class OutcomeConstraint(StrictModel):
    """A measured outcome that must stay on one side of ``threshold``.

    ``risk`` (alpha): when set, only designs with P(constraint met) >= 1 - alpha are
    suggested; unset, the constraint is soft (weighted by the probability of feasibility).
    """

    name: Name
    op: Literal["<=", ">="]
    threshold: float
    risk: float | None = Field(default=None, gt=0, lt=1)
    unit: str | None = None


class Strategy(StrictModel):
    """How the next designs are chosen. ``space_filling`` is always available; model-based
    strategies are added by the modelling packages."""

    kind: Literal["space_filling"] = "space_filling"
    options: dict[str, Any] = Field(default_factory=dict)


class Evaluator(StrictModel):
    """Who produces observations: the lab (posted through the API) or the problem's simulator
    (the worker evaluates each suggestion and closes the loop itself)."""

    kind: Literal["lab", "simulator"] = "lab"


class CampaignCreate(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    problem: Name = "custom"
    space: Space | None = None
    objectives: list[Objective] | None = Field(default=None, max_length=16)
    constraints: list[OutcomeConstraint] | None = Field(default=None, max_length=64)
    strategy: Strategy = Field(default_factory=Strategy)
    evaluator: Evaluator = Field(default_factory=Evaluator)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _distinct_outcomes(self) -> CampaignCreate:
        names = [o.name for o in self.objectives or []] + [c.name for c in self.constraints or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"outcome names must be distinct: {duplicates}")
        return self


class CampaignSpec(StrictModel):
    """The stored, fully resolved definition (problem defaults filled in)."""

    space: Space
    objectives: list[Objective] = Field(min_length=1)
    constraints: list[OutcomeConstraint] = Field(default_factory=list)
    strategy: Strategy
    evaluator: Evaluator
    metadata: dict[str, Any] = Field(default_factory=dict)

    def outcome_names(self) -> list[str]:
        return [o.name for o in self.objectives] + [c.name for c in self.constraints]


class CampaignSummary(ReadModel):
    observations: int
    failed_observations: int
    pending_suggestions: int
    # The best feasible observation so far (first objective), or None.
    best: dict[str, Any] | None = None


class CampaignRead(ReadModel):
    id: uuid.UUID
    name: str
    problem: str
    seed: int
    spec: CampaignSpec
    created_at: dt.datetime
    summary: CampaignSummary | None = None
