r"""Errors of the neural-ODE solvers and trainers, carrying the numbers that explain them."""

from __future__ import annotations

from collections.abc import Sequence

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


class NonFiniteFieldError(NonFiniteODELossError):
    r"""The model produced NaN or inf during a solve: its parameters, the state the solver
    reached, the derivative :math:`f(t, y)` there, or the returned trajectory is not finite.

    This is not stiffness (a smaller step or an implicit solver cannot help): the model — or the
    training step that last changed it — is broken. A subclass of
    :class:`NonFiniteODELossError`, so a trainer's callers catch both alike.

    Args:
        where: ``"parameters"``, ``"initial state"``, ``"state"``, ``"derivative"`` or
            ``"trajectory"``.
        method: The solver that met it (``"sdirk2 fallback"`` for the fallback).
        time: The time at which it was met (None: unknown).
        parameters: The names of the non-finite parameters (``where="parameters"``).
        epoch: The training epoch, when met during training.
    """

    def __init__(self, where: str, method: str, time: float | None = None,
                 parameters: Sequence[str] = (), epoch: int | None = None,
                 message: str | None = None) -> None:
        at = "" if time is None else f" near t={time:.6g}"
        which = f" {sorted(parameters)}" if parameters else ""
        during = "" if epoch is None else f" at training epoch {epoch}"
        super().__init__(
            message or f"the model produced NaN/inf{during}: non-finite {where}{which}{at} "
            f"while solving with {method}; this is not stiffness — check the model's "
            "parameters and inputs (a diverged training step? lower the learning rate)",
            {"where": where, "method": method, "time": time,
             "parameters": sorted(parameters), "epoch": epoch})

    def at_epoch(self, epoch: int) -> NonFiniteFieldError:
        """The same error, reported as met at training epoch ``epoch``."""
        d = self.details
        return NonFiniteFieldError(d["where"], d["method"], d["time"], d["parameters"], epoch)


class InvalidTrajectoryError(ScienceError):
    """Time series that cannot be trained on (times not increasing, NaN, no data)."""
