r"""Winsorising the training outcomes on their uninteresting side before the GPs see them.

A stationary GP has one lengthscale and one signal variance per outcome. A few extreme
measurements far on the *bad* side (a formulation whose complement activation is five times
the limit, a texture with ten times the friction) dominate the marginal likelihood: the fit
spends its variance and shortens its lengthscales on them, and the model is poor exactly
where the decision is made, near the best values and near the constraint's bound. Clipping
those values changes nothing the acquisition needs: an objective value far below the
incumbent has no improvement either way, and a constraint value far on its infeasible side is
infeasible either way.

The cutoffs follow Tukey's box-plot fences, as Ax's default ``Winsorize`` transform does:

* an objective is clipped on its bad side at :math:`Q_1 - 1.5\,IQR` (maximised) or
  :math:`Q_3 + 1.5\,IQR` (minimised);
* a ``<=`` constraint is clipped on its infeasible side at
  :math:`b + 1.5\,(b - Q_1)` with :math:`b = \max(Q_3, \text{threshold})` (mirrored for
  ``>=``), so no infeasible value is ever moved across the threshold.

Outcomes with fewer than :data:`MIN_POINTS` values are left alone (no quartiles to speak of).
The predictions a model gives far on the bad side are therefore capped near the cutoff; the
suggestions' reported means say so only there, where they do not matter.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import Tensor

from models.bo.data import OutcomeData, TrainingData
from models.bo.problem import Objective, OutcomeConstraint

__all__ = ["MIN_POINTS", "Clip", "winsorize"]

#: Fewest values of an outcome for its quartiles to set a cutoff.
MIN_POINTS = 4
#: Tukey's fence, in interquartile ranges.
FENCE = 1.5


@dataclasses.dataclass(frozen=True)
class Clip:
    """One outcome's winsorisation: values below ``lower`` / above ``upper`` were clipped.

    Attributes:
        lower: The lower cutoff (``-inf``: none).
        upper: The upper cutoff (``inf``: none).
        clipped: How many training values were moved.
    """

    lower: float
    upper: float
    clipped: int


def _quartiles(Y: Tensor) -> tuple[float, float]:
    y = Y.reshape(-1)
    return (float(torch.quantile(y, 0.25, interpolation="lower")),
            float(torch.quantile(y, 0.75, interpolation="higher")))


def cutoffs(Y: Tensor, objectives: Sequence[Objective],
            constraints: Sequence[OutcomeConstraint]) -> tuple[float, float]:
    r"""``(lower, upper)`` cutoffs of one outcome's `n x 1` values from every role it has.

    Args:
        Y: The outcome's measured values.
        objectives: The objectives naming this outcome (maximised: clip low values).
        constraints: The constraints naming this outcome (clip on the infeasible side).
    """
    q1, q3 = _quartiles(Y)
    lower, upper = -math.inf, math.inf
    for objective in objectives:
        if objective.goal == "maximize":
            lower = max(lower, q1 - FENCE * (q3 - q1))
        else:
            upper = min(upper, q3 + FENCE * (q3 - q1))
    for constraint in constraints:
        if constraint.op == "<=":
            bound = max(q3, constraint.threshold)
            upper = min(upper, bound + FENCE * (bound - q1))
        else:
            bound = min(q1, constraint.threshold)
            lower = max(lower, bound - FENCE * (q3 - bound))
    return lower, upper


def winsorize(data: TrainingData, objectives: Sequence[Objective],
              constraints: Sequence[OutcomeConstraint]
              ) -> tuple[TrainingData, dict[str, Clip]]:
    r"""The training data with each outcome clipped at its cutoffs (see the module notes).

    Args:
        data: The assembled training data (raw outcome values).
        objectives: The campaign's objectives.
        constraints: Its outcome constraints.

    Returns:
        The winsorised data, and the clip of each outcome that had a value moved.
    """
    outcomes: dict[str, OutcomeData] = {}
    clips: dict[str, Clip] = {}
    for name, outcome in data.outcomes.items():
        roles_o = [o for o in objectives if o.name == name]
        roles_c = [c for c in constraints if c.name == name]
        if outcome.Y.shape[0] < MIN_POINTS or not (roles_o or roles_c):
            outcomes[name] = outcome
            continue
        lower, upper = cutoffs(outcome.Y, roles_o, roles_c)
        Y = outcome.Y.clamp(min=lower, max=upper)
        moved = int((Y != outcome.Y).sum())
        if moved:
            clips[name] = Clip(lower=lower, upper=upper, clipped=moved)
        outcomes[name] = dataclasses.replace(outcome, Y=Y)
    return dataclasses.replace(data, outcomes=outcomes), clips
