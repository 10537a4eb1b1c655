r"""The errors the science raises, each carrying the numbers that explain it.

Every error is a :class:`ScienceError` with a human ``message`` and a JSON-ready ``details``
dict, so a caller (a worker storing a failed job, the API answering a client) can report *why*
without parsing the text. Errors pickle with their data intact (Celery and multiprocessing
carry exceptions between processes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ScienceError(Exception):
    r"""Base of the science errors.

    Args:
        message: What went wrong, for a person.
        details: The numbers behind it, JSON-serialisable (e.g. ``{"acceptance_rate": 1e-6}``).
    """

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.message, self.details))


class InfeasibleSpaceError(ScienceError):
    r"""The linear constraints leave (almost) no feasible region of the space.

    Args:
        acceptance_rate: Fraction of the points drawn that satisfied the constraints.
        draws: How many points that rate was measured on.
    """

    def __init__(self, acceptance_rate: float, draws: int, message: str | None = None) -> None:
        super().__init__(
            message or f"the linear constraints leave almost no feasible region: "
            f"{acceptance_rate:.3g} of {draws} points drawn were feasible",
            {"acceptance_rate": float(acceptance_rate), "draws": int(draws)},
        )

    @property
    def acceptance_rate(self) -> float:
        return self.details["acceptance_rate"]

    @property
    def draws(self) -> int:
        return self.details["draws"]


class SpaceExhaustedError(ScienceError):
    r"""A discrete space cannot supply the requested number of new designs.

    Args:
        requested: How many new designs were asked for.
        available: How many new (feasible, not excluded) designs the space could supply.
    """

    def __init__(self, requested: int, available: int, message: str | None = None) -> None:
        super().__init__(
            message or f"the space can supply only {available} new designs, "
            f"{requested} were requested",
            {"requested": int(requested), "available": int(available)},
        )

    @property
    def requested(self) -> int:
        return self.details["requested"]

    @property
    def available(self) -> int:
        return self.details["available"]


def _restore(cls: type[ScienceError], message: str, details: dict[str, Any]) -> ScienceError:
    error = cls.__new__(cls)
    ScienceError.__init__(error, message, details)
    return error
