r"""Errors of the physics-informed trainers, each carrying the numbers that explain it."""

from __future__ import annotations

from models.errors import ScienceError


class NonFiniteLossError(ScienceError):
    r"""A loss term became NaN or inf during training: no model is returned.

    Args:
        epoch: The optimisation step at which it was detected.
        stage: ``"adam"`` or ``"lbfgs"``.
        terms: The loss terms at that step (``None`` where not finite).
    """

    def __init__(self, epoch: int, stage: str, terms: dict[str, float | None],
                 message: str | None = None) -> None:
        bad = sorted(k for k, v in terms.items() if v is None)
        super().__init__(
            message or f"non-finite loss at {stage} step {epoch} in term(s) {bad}",
            {"epoch": int(epoch), "stage": stage, "terms": terms, "non_finite": bad})


class UnknownCaseError(ScienceError):
    """A training job names a physics case that is not registered."""


class InvalidCaseConfigError(ScienceError):
    """A case's configuration has an unknown key or a value out of range."""
