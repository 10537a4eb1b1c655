r"""Training a model version on demand: the contract between the train job and the science.

``POST /v1/campaigns/{id}/models {"kind", "options"}`` queues a train job; the worker reads the
campaign into a :class:`TrainRequest` and calls the trainer registered for ``kind`` in
:data:`TRAINERS` (``"module:function"``, imported only when used). A trainer returns a
:class:`models.design.rounds.TrainedModel` (weights, configuration, metrics such as held-out
error and training curves) that the job stores as the campaign's next model version.

Trainers report progress through ``request.progress(fraction, message)``; a long trainer
(a PINN, a neural ODE) puts the epoch and its loss terms in the message, so the job row shows a
live picture, and the call raises when the job is cancelled or out of time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.design.rounds import Progress, TrainedModel
from models.errors import ScienceError
from models.importing import resolve
from models.problems.base import Problem
from models.space.space import Space


class UnknownModelKindError(ScienceError):
    """A train request names a model kind that is not registered."""


def _no_progress(fraction: float, message: str) -> None:
    """The default progress callback: nobody is listening."""


@dataclass(frozen=True)
class TrainRequest:
    """What a trainer may use (shapes as in :class:`models.design.rounds.RoundRequest`).

    Attributes:
        space: The campaign's design space.
        observations: Every observation so far, failures included (API JSON shape).
        objectives: The campaign's objectives (JSON shape).
        constraints: The campaign's outcome constraints (JSON shape).
        options: The request's ``options`` for this model kind.
        seed: Seeds everything random.
        previous_model: The latest model version of this kind (weights), for a warm start.
        problem: The problem implementation, when it has one (its physics, its simulator).
        progress: Progress callback.
    """

    space: Space
    observations: Sequence[Mapping[str, Any]]
    objectives: Sequence[Mapping[str, Any]]
    constraints: Sequence[Mapping[str, Any]]
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    previous_model: bytes | None = None
    problem: Problem | None = None
    progress: Progress = _no_progress

    def outcome_names(self) -> list[str]:
        """Objectives first, then constrained outcomes."""
        return [o["name"] for o in self.objectives] + [c["name"] for c in self.constraints]


Trainer = Callable[[TrainRequest], TrainedModel]

#: Model kind -> ``"module:function"`` of its trainer. The service validates train requests
#: against these names (``service.schemas.model_version.MODEL_KINDS``, kept equal by a test).
TRAINERS: dict[str, str] = {
    "gp": "models.bo.training:train",
    "deep_ensemble": "models.surrogates.campaign_training:train",
    "pinn": "models.pinn.cases.trainer:train_pinn",
    "neural_ode": "models.pinn.cases.trainer:train_neural_ode",
}


def load_trainer(kind: str) -> Trainer:
    """The trainer of a model kind (imports its module)."""
    trainer: Trainer = resolve(TRAINERS, kind, UnknownModelKindError, "model kind")
    return trainer
