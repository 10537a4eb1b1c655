r"""When a self-driving campaign stops: the best feasible objective stopped improving.

A simulator campaign with ``evaluator.rounds`` asks for round after round by itself; it stops
at the round budget or when the best feasible value of its first objective has improved by no
more than ``min_improvement`` (relative to its magnitude, with an absolute floor of
``min_improvement`` for values near zero) over the last ``patience`` rounds. Rounds before the
first feasible design (``None`` in the history) never count as converged: there is nothing to
improve on yet. Pure Python: the service and the workers both use it.
"""

from __future__ import annotations

from collections.abc import Sequence


def stopped_improving(history: Sequence[float | None], *, goal: str, patience: int,
                      min_improvement: float) -> bool:
    """Whether the last ``patience`` rounds brought no real improvement.

    Args:
        history: Best feasible objective value after each round (``None``: none feasible yet).
        goal: ``"minimize"`` or ``"maximize"``.
        patience: Rounds without improvement that end the campaign (``>= 1``).
        min_improvement: Relative improvement that counts.

    Example:
        >>> stopped_improving([5.0, 3.0, 2.999, 2.999], goal="minimize", patience=2,
        ...                   min_improvement=1e-3)
        True
        >>> stopped_improving([5.0, 3.0, 2.0], goal="minimize", patience=2, min_improvement=1e-3)
        False
    """
    if patience < 1:
        raise ValueError(f"patience must be at least 1, got {patience}")
    if len(history) <= patience:
        return False
    before, recent = history[-patience - 1], history[-1]
    if before is None or recent is None:
        return False
    sign = 1.0 if goal == "maximize" else -1.0
    gain = sign * (recent - before)
    return gain <= min_improvement * max(abs(before), 1.0)
