"""Campaign schemas: what a client sends to create one, and what it reads back."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, get_args

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


#: The strategy kinds a campaign may choose; each is implemented in ``models`` (see
#: ``models.design.rounds.STRATEGIES``, which a test keeps equal to this list).
StrategyKind = Literal["space_filling", "bayesian", "inverse_design", "sequence_design",
                       "ode_design", "pinn_design"]
STRATEGY_KINDS: tuple[str, ...] = get_args(StrategyKind)


class BayesianOptions(StrictModel):
    """Options of the ``bayesian`` strategy.

    ``initial_points``: successful observations gathered by space filling before the first
    model (default ``min(10, max(4, 2 x parameters))``). ``config``: the science's
    ``BOConfig`` as JSON (``fixed_features``, ``gp.prior_mean``, optimiser effort, ...),
    checked field by field by the worker.
    """

    initial_points: int | None = Field(default=None, ge=1, le=1000)
    config: dict[str, Any] = Field(default_factory=dict)


class Strategy(StrictModel):
    """How the next designs are chosen: ``space_filling`` (Sobol), ``bayesian`` (a
    space-filling start, then constrained BO), ``inverse_design`` (gradient design through a
    deep-ensemble surrogate, active learning), ``sequence_design`` (gradient design through a
    structure predictor), ``ode_design`` (dosing schedules by gradient through the campaign's
    trained neural ODE), ``pinn_design`` (a bloom's nutrient control by gradient through the
    campaign's trained parametric PINN). Options of the model-based kinds are documented with
    each."""

    kind: StrategyKind = "space_filling"
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_options(self) -> Strategy:
        if self.kind == "space_filling" and self.options:
            raise ValueError(f"space_filling takes no options, got {sorted(self.options)}")
        if self.kind == "bayesian":
            BayesianOptions.model_validate(self.options)
        return self


class Evaluator(StrictModel):
    """Who produces observations: the lab (posted through the API) or the problem's simulator
    (the worker evaluates each suggestion and closes the loop itself).

    For a simulator, ``rounds`` makes the loop run by itself: after each evaluation the worker
    asks for the next ``batch_size`` designs, up to ``rounds`` rounds, stopping early once the
    best feasible objective has not improved (by more than ``min_improvement``, relative) for
    ``patience`` rounds. Without ``rounds`` each round is asked for through the API.

    ``gradients``: the simulator also returns each outcome's derivatives w.r.t. the
    continuous parameters (for problems whose simulator is differentiable, e.g. ``texture``),
    stored with the observations for gradient-enhanced surrogates (``inverse_design``).
    """

    kind: Literal["lab", "simulator"] = "lab"
    rounds: int | None = Field(default=None, ge=1, le=1000)
    batch_size: int = Field(default=4, ge=1, le=100)
    patience: int = Field(default=3, ge=1, le=100)
    min_improvement: float = Field(default=1e-3, ge=0.0, le=1.0)
    gradients: bool = False

    @model_validator(mode="after")
    def _rounds_need_simulator(self) -> Evaluator:
        if self.rounds is not None and self.kind != "simulator":
            raise ValueError("rounds closes the loop with the simulator: evaluator.kind must "
                             "be 'simulator'")
        if self.gradients and self.kind != "simulator":
            raise ValueError("gradients come from the simulator: evaluator.kind must be "
                             "'simulator'")
        return self


class CampaignCreate(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    problem: Name = "custom"
    space: Space | None = None
    objectives: list[Objective] | None = Field(default=None, max_length=16)
    constraints: list[OutcomeConstraint] | None = Field(default=None, max_length=64)
    strategy: Strategy = Field(default_factory=Strategy)
    evaluator: Evaluator = Field(default_factory=Evaluator)
    problem_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the problem plug-in (e.g. a sequence "
        "campaign's target structure), checked by the plug-in.")
    pending_ttl_s: float | None = Field(
        default=None, gt=0, le=365 * 86400, description="Pending suggestions older than this "
        "(seconds) become stale: they stop blocking their design and count no longer as in "
        "flight. A stale suggestion may still be observed.")
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
    problem_options: dict[str, Any] = Field(default_factory=dict)
    pending_ttl_s: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def outcome_names(self) -> list[str]:
        return [o.name for o in self.objectives] + [c.name for c in self.constraints]


class CampaignSummary(ReadModel):
    observations: int
    failed_observations: int
    pending_suggestions: int
    # The best feasible observation so far (first objective), or None.
    best: dict[str, Any] | None = None
    # Of the observed suggestions (failures included), how many broke an outcome constraint
    # or failed, and that share: what a lab pays for the strategy's misses.
    observed_suggestions: int = 0
    infeasible_suggestions: int = 0
    infeasible_share: float | None = None


class CampaignRead(ReadModel):
    id: uuid.UUID
    name: str
    problem: str
    seed: int
    spec: CampaignSpec
    created_at: dt.datetime
    summary: CampaignSummary | None = None
