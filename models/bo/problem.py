r"""What a campaign asks of Bayesian optimisation: objectives, outcome constraints, and the
observations so far, as plain typed values.

These mirror the API's JSON shapes (``service.schemas.campaign`` and
``service.schemas.observation``) without importing them: :meth:`from_dict` on each reads that
shape, so a worker hands the stored rows' JSON straight in.

Sign conventions used throughout :mod:`models.bo`:

* an objective is *maximised* inside the acquisition: a ``minimize`` goal enters with weight
  ``-1`` (:attr:`Objective.sign`);
* an outcome constraint is met when its *slack* is ``<= 0`` (BoTorch's convention):
  ``y - threshold`` for ``<=``, ``threshold - y`` for ``>=`` (:meth:`OutcomeConstraint.slack`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import Tensor


@dataclass(frozen=True)
class Objective:
    """A measured outcome to minimise or maximise.

    Attributes:
        name: The outcome's name in the observations.
        goal: ``"minimize"`` or ``"maximize"``.
    """

    name: str
    goal: Literal["minimize", "maximize"] = "maximize"

    def __post_init__(self) -> None:
        if self.goal not in ("minimize", "maximize"):
            raise ValueError(f"objective {self.name!r}: goal must be minimize or maximize, "
                             f"got {self.goal!r}")

    @property
    def sign(self) -> float:
        """``+1`` to maximise, ``-1`` to minimise."""
        return 1.0 if self.goal == "maximize" else -1.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Objective:
        """Read ``{"name": ..., "goal": ...}`` (extra keys such as ``unit`` are ignored)."""
        return cls(name=str(data["name"]), goal=data.get("goal", "maximize"))


@dataclass(frozen=True)
class OutcomeConstraint:
    """A measured outcome that must stay on one side of a threshold.

    Attributes:
        name: The outcome's name in the observations.
        op: ``"<="`` or ``">="``.
        threshold: The bound, in the outcome's units.
        risk: The risk level alpha: when set, only designs with ``P(met) >= 1 - alpha`` under
            the model are suggested (a chance constraint); ``None`` keeps the constraint soft
            (it weights the acquisition by the probability of feasibility).
    """

    name: str
    op: Literal["<=", ">="]
    threshold: float
    risk: float | None = None

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"constraint {self.name!r}: op must be <= or >=, got {self.op!r}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"constraint {self.name!r}: the threshold must be finite")
        if self.risk is not None and not 0.0 < self.risk < 1.0:
            raise ValueError(f"constraint {self.name!r}: risk must lie in (0, 1), "
                             f"got {self.risk}")

    @property
    def sign(self) -> float:
        """``+1`` for ``<=``, ``-1`` for ``>=``: the slack is ``sign * (y - threshold)``."""
        return 1.0 if self.op == "<=" else -1.0

    def slack(self, y: Tensor) -> Tensor:
        """``<= 0`` where the constraint is met; same shape as ``y``."""
        return self.sign * (y - self.threshold)

    def is_met(self, value: float) -> bool:
        """Whether a measured value meets the constraint."""
        return self.sign * (value - self.threshold) <= 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeConstraint:
        """Read ``{"name", "op", "threshold", "risk"?}`` (extra keys are ignored)."""
        risk = data.get("risk")
        return cls(name=str(data["name"]), op=data["op"], threshold=float(data["threshold"]),
                   risk=None if risk is None else float(risk))


@dataclass(frozen=True)
class Observation:
    """One measured design, or a failed attempt at one.

    Attributes:
        parameters: The design, name -> value.
        outcomes: Measured outcomes, name -> value (empty for a failure). An observation
            may carry only some outcomes; each outcome's model uses those that carry it.
        noise_sd: Known measurement noise (standard deviation) per outcome, where given.
        failed: The experiment failed: no outcome could be measured.
    """

    parameters: Mapping[str, Any]
    outcomes: Mapping[str, float] = field(default_factory=dict)
    noise_sd: Mapping[str, float] = field(default_factory=dict)
    failed: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        """Read the API's observation shape (``parameters``, ``outcomes``, ``noise_sd``,
        ``failed``; other keys such as ``id`` or ``posted_by`` are ignored)."""
        return cls(parameters=dict(data["parameters"]),
                   outcomes=dict(data.get("outcomes") or {}),
                   noise_sd=dict(data.get("noise_sd") or {}),
                   failed=bool(data.get("failed", False)))


def outcome_names(objectives: tuple[Objective, ...] | list[Objective],
                  constraints: tuple[OutcomeConstraint, ...] | list[OutcomeConstraint]
                  ) -> list[str]:
    """The modelled outcomes: objectives, then constrained outcomes, each once, in order."""
    names: list[str] = []
    for name in [o.name for o in objectives] + [c.name for c in constraints]:
        if name not in names:
            names.append(name)
    return names
