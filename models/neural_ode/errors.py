r"""Errors of the neural-ODE solvers and trainers, carrying the numbers that explain them."""

from __future__ import annotations

from models.errors import ScienceError


class StiffSolverError(ScienceError):
    r"""The adaptive solver could not continue: its step size underflowed (``t + dt == t`` in
    the state's precision) or it exceeded its step budget — the signature of a stiff system
    met with an explicit method. Use an implicit fallback (``fallback="sdirk2"``).

    Args:
        reason: ``"step-size underflow"`` or ``"too many steps"``.
        method: The solver that failed.
        solver_message: torchdiffeq's message.
    """

    def __init__(self, reason: str, method: str, solver_message: str,
                 message: str | None = None) -> None:
        super().__init__(
            message or f"{method} failed ({reason}): {solver_message}; the system is probably "
            "stiff: use an implicit solver (fallback='sdirk2')",
            {"reason": reason, "method": method, "solver_message": solver_message})


class NonFiniteODELossError(ScienceError):
    """Training produced a NaN or inf loss (the model is not returned)."""


class InvalidTrajectoryError(ScienceError):
    """Time series that cannot be trained on (times not increasing, NaN, no data)."""
