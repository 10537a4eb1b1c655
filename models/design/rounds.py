r"""One round of a campaign's strategy: the common contract between the worker and the science.

A *strategy* (space-filling, Bayesian optimisation, gradient inverse design through a neural
surrogate, sequence design through a structure predictor, ...) is a plain function

    propose(request: RoundRequest) -> RoundResult

registered by name in :data:`STRATEGIES` as ``"module:function"`` (imported only when used, so
listing the strategies costs nothing). The worker's suggest job reads the campaign into a
:class:`RoundRequest`, calls the strategy outside any transaction, and stores the
:class:`RoundResult`: the designs as suggestions (with their predictions), the trained model,
when there is one, as a new model version, and the strategy's updated state on the campaign.
Nothing in a strategy knows about the database or the queue, so every strategy runs as well
from a notebook.

Shapes are the public API's JSON shapes (``service.schemas``), read directly:

* ``observations``: ``{"parameters": {...}, "outcomes": {...}, "noise_sd": {...},
  "failed": bool, "failure_reason": str | None}``;
* ``objectives``: ``{"name", "goal": "minimize" | "maximize"}``;
* ``constraints``: ``{"name", "op": "<=" | ">=", "threshold", "risk": float | None}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.errors import ScienceError
from models.importing import resolve
from models.problems.base import Problem
from models.space.space import Space

#: ``progress(fraction in [0, 1], message)``: reports progress (and lets the worker stop a
#: cancelled or timed-out job by raising from inside it).
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    """The default progress callback: nobody is listening."""


class UnknownStrategyError(ScienceError):
    """A campaign names a strategy that is not registered."""


class InvalidOptionsError(ScienceError):
    """A campaign's strategy options are not understood by the strategy (names the option)."""


@dataclass(frozen=True)
class RoundRequest:
    """Everything a strategy may use to propose the next ``count`` designs.

    Attributes:
        space: The campaign's design space.
        observations: Every observation so far, failures included (API JSON shape).
        pending: Parameters of the designs suggested and not yet observed nor stale: never
            propose them again.
        taken: Design keys (:func:`models.space.keys.design_key`) of pending and observed
            designs, for strategies that de-duplicate by key.
        objectives: The campaign's objectives (JSON shape).
        constraints: The campaign's outcome constraints (JSON shape).
        count: How many designs to propose.
        options: The campaign's ``strategy.options`` (validated by the API).
        seed: Seeds everything random; the same request gives the same designs.
        state: The strategy's own state from the previous round (JSON), e.g. a Sobol position.
        previous_model: The weights of the latest model version this strategy builds on (its
            own, for a warm start; or, per :data:`STRATEGY_MODELS`, one trained by a train
            job); ``None`` when there is none.
        previous_config: That model version's configuration (architecture, settings).
        problem: The campaign's problem implementation (a simulator, physics, a predictor)
            when it has one; ``None`` for lab-only problems.
        progress: Progress callback.
    """

    space: Space
    observations: Sequence[Mapping[str, Any]]
    pending: Sequence[Mapping[str, Any]]
    taken: frozenset[str]
    objectives: Sequence[Mapping[str, Any]]
    constraints: Sequence[Mapping[str, Any]]
    count: int
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    state: Mapping[str, Any] = field(default_factory=dict)
    previous_model: bytes | None = None
    previous_config: Mapping[str, Any] = field(default_factory=dict)
    problem: Problem | None = None
    progress: Progress = _no_progress

    def successful_observations(self) -> list[Mapping[str, Any]]:
        """The observations that did not fail."""
        return [o for o in self.observations if not o.get("failed")]


@dataclass(frozen=True)
class ProposedDesign:
    """One design and what the strategy expects of it.

    Attributes:
        parameters: The design, name -> value (a point of the request's space).
        predictions: JSON-ready: predicted mean / sd per outcome, probability of feasibility,
            acquisition value, anything the strategy wants a scientist to see.
    """

    parameters: dict[str, Any]
    predictions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainedModel:
    """A model the round trained: stored as a new model version, never overwritten.

    Attributes:
        kind: Model kind, e.g. ``"gp"``, ``"deep_ensemble"``, ``"pinn"``, ``"neural_ode"``.
        weights: Serialised state (bytes) to restore the model or warm-start the next round.
        config: JSON-ready configuration (architecture, hyperparameters) that produced it.
        metrics: JSON-ready quality and training figures (held-out error, calibration,
            step size used, timings).
        figure: A PNG of the model against its truth (a field against its reference,
            trajectories against data), when the trainer draws one.
    """

    kind: str
    weights: bytes | None
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    figure: bytes | None = None


@dataclass(frozen=True)
class RoundResult:
    """What a strategy returns.

    Attributes:
        designs: The proposed designs, best first where the strategy ranks them (may be fewer
            than asked when the space is nearly exhausted).
        state: The strategy's state to hand to the next round (JSON).
        model: The model trained this round, if any.
        info: JSON-ready facts for the job's result (e.g. the acceptance rate of a sampler).
    """

    designs: list[ProposedDesign]
    state: dict[str, Any] = field(default_factory=dict)
    model: TrainedModel | None = None
    info: dict[str, Any] = field(default_factory=dict)


Strategy = Callable[[RoundRequest], RoundResult]

#: Strategy kind -> ``"module:function"`` of its ``propose``. The service validates campaign
#: requests against these names (see ``service.schemas.campaign.STRATEGY_KINDS``).
STRATEGIES: dict[str, str] = {
    "space_filling": "models.design.space_filling_round:propose",
    "bayesian": "models.bo.round:propose",
    "inverse_design": "models.design.active_learning:propose",
    "sequence_design": "models.sequence.round:propose",
    "ode_design": "models.neural_ode.round:propose",
    "pinn_design": "models.pinn.round:propose",
}

#: Strategies that design through a model trained by a train job rather than their own: the
#: model versions they read (``config["strategy"]`` of the version).
STRATEGY_MODELS: dict[str, str] = {"ode_design": "train:neural_ode",
                                   "pinn_design": "train:pinn"}


def load_strategy(kind: str) -> Strategy:
    """The ``propose`` function of a strategy kind (imports its module)."""
    propose: Strategy = resolve(STRATEGIES, kind, UnknownStrategyError, "strategy")
    return propose
