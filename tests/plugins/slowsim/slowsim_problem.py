"""A slow, deterministic simulator: a test plug-in registered through a real entry point.

It exists so a worker can be killed in the middle of an evaluate job: each design takes
``SLOWSIM_DELAY_S`` seconds (default 1). The outcome is analytic, so a test can check that
what was stored is what the simulator computes: ``y = (x - 0.3)^2``; ``x > 0.95`` raises,
to exercise the per-design failure path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from models.problems.base import Problem, ProblemError, ProblemSpec

SPEC = ProblemSpec(
    key="slowsim",
    title="Slow simulator (tests)",
    description="y = (x - 0.3)^2 after a delay of SLOWSIM_DELAY_S seconds per design.",
    default_space={"parameters": [{"type": "continuous", "name": "x",
                                   "lower": 0.0, "upper": 1.0}]},
    default_objectives=[{"name": "y", "goal": "minimize"}],
    has_simulator=True,
    implementation="slowsim_problem:SlowProblem",
)


def truth(x: float) -> float:
    """The simulator's outcome ``y`` at ``x``."""
    return (x - 0.3) ** 2


class SlowProblem(Problem):
    spec: ClassVar[ProblemSpec] = SPEC

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        delay = float(os.environ.get("SLOWSIM_DELAY_S", "1.0"))
        out = []
        for design in designs:
            time.sleep(delay)
            x = float(design["x"])
            if x > 0.95:
                raise ProblemError(f"the simulation diverged at x = {x}")
            out.append({"y": truth(x)})
        return out
