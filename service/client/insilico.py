"""In-silico labs: stand-ins for a bench or a robot, for closed-loop runs without a lab.

A lab is anything with ``run(parameters) -> outcomes`` that raises :class:`ExperimentFailed`
when an experiment does not give a measurement (a clogged pipette, a crashed simulation).
:data:`LABS` names the built-in ones for the command line (``designloop lab run --lab``).
Plain Python maths: a lab runs next to the client, on a machine without torch.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


class ExperimentFailed(Exception):
    """The experiment ran but gave no measurement; the message is the failure reason."""


class InSilicoLab(Protocol):
    """What a closed loop needs from a lab."""

    #: The problem plug-in whose campaigns this lab measures (its space and outcomes).
    problem: ClassVar[str]

    def run(self, parameters: Mapping[str, Any]) -> dict[str, float]:
        """Measure one design: outcome name -> value. Raises :class:`ExperimentFailed`."""
        ...


def branin(x1: float, x2: float) -> float:
    """The Branin function; its global minimum 0.397887 is at (-pi, 12.275), (pi, 2.275)
    and (9.42478, 2.475).

    Example:
        >>> round(branin(math.pi, 2.275), 6)
        0.397887
    """
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


@dataclass
class BraninLab:
    """The constrained Branin benchmark (problem ``branin``) as a bench.

    ``value`` is Branin at ``(x1, x2)`` and ``constraint`` is
    ``(x1 - 2.5)^2 + (x2 - 7.5)^2 - 50`` (feasible when ``<= 0``), each with Gaussian
    measurement noise of standard deviation ``noise_sd``; a fraction ``failure_rate`` of the
    experiments fails.
    """

    problem: ClassVar[str] = "branin"
    noise_sd: float = 0.0
    failure_rate: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.noise_sd < 0 or not 0 <= self.failure_rate <= 1:
            raise ValueError("noise_sd must be >= 0 and failure_rate in [0, 1]")
        self._rng = random.Random(self.seed)

    def run(self, parameters: Mapping[str, Any]) -> dict[str, float]:
        x1, x2 = float(parameters["x1"]), float(parameters["x2"])
        if self._rng.random() < self.failure_rate:
            raise ExperimentFailed("the robot dropped the plate")
        return {"value": branin(x1, x2) + self._rng.gauss(0.0, self.noise_sd),
                "constraint": (x1 - 2.5) ** 2 + (x2 - 7.5) ** 2 - 50.0
                + self._rng.gauss(0.0, self.noise_sd)}


#: Built-in labs by name.
LABS: dict[str, type[BraninLab]] = {"branin": BraninLab}
