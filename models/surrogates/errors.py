r"""Errors of the surrogate models, each carrying the numbers that explain it.

They are :class:`models.errors.ScienceError` subclasses, so a worker stores them on a failed
job with their ``details`` like any other science error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.errors import ScienceError


class InvalidTrainingDataError(ScienceError):
    r"""Training data a surrogate cannot be fitted to (bad shapes, NaN or inf, too few rows).

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"rows": 3, "non_finite_rows": [1]}``.
    """


class TrainingDivergedError(ScienceError):
    r"""Training produced NaN/inf (or exploded) and reducing the step size did not cure it.

    No model is returned when this is raised: a NaN model is never stored.

    Args:
        epoch: The training step at which the last divergence was detected.
        retries: How many times the step of the worst member was halved and retried from its
            last good state.
        learning_rates: The members' step sizes at the last attempt.
        loss: The members' training losses at the last attempt (``None`` where NaN/inf).
        reason: What was detected (``"non-finite loss"``, ``"loss exploded"``, ...).
    """

    def __init__(self, epoch: int, retries: int, learning_rates: list[float],
                 loss: list[float | None], reason: str, message: str | None = None) -> None:
        super().__init__(
            message or f"training diverged at step {epoch} ({reason}) and did not recover "
            f"after halving the step size {retries} times (last step sizes "
            f"{', '.join(f'{lr:.3g}' for lr in learning_rates)}); no model was produced",
            {"epoch": int(epoch), "retries": int(retries),
             "learning_rates": [float(v) for v in learning_rates],
             "loss": loss, "reason": reason})

    @property
    def epoch(self) -> int:
        return self.details["epoch"]

    @property
    def retries(self) -> int:
        return self.details["retries"]


class SurrogateStateError(ScienceError):
    r"""A stored surrogate state that cannot be loaded (wrong kind, version or shapes).

    Args:
        message: What is wrong, for a person.
        details: E.g. ``{"kind": "gp", "expected": "deep_ensemble"}``.
    """

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details)
