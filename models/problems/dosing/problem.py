"""The ``dosing`` problem's simulator: the ground-truth expression ODE under a schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from models.physics.protein_expression import ExpressionParameters, simulate_schedule
from models.problems.base import Problem, ProblemSpec
from models.problems.dosing import SPEC, dose_names, validate


class DosingScheduleProblem(Problem):
    """Evaluate schedules on the ground truth (µM doses in, nM protein and µM·h dose out)."""

    spec: ClassVar[ProblemSpec] = SPEC

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = validate(options)
        self.params = ExpressionParameters()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DosingScheduleProblem:
        return cls(options)

    def parameter_names(self) -> list[str]:
        return dose_names(self.options["n_intervals"])

    def schedule(self, design: Mapping[str, Any]) -> np.ndarray:
        """The design's doses in interval order (µM)."""
        return np.array([float(design[name]) for name in self.parameter_names()])

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        horizon, target = float(self.options["horizon"]), float(self.options["target"])
        out = []
        for design in designs:
            doses = self.schedule(design)
            _, states = simulate_schedule(list(doses), horizon, self.params)
            final = float(states[-1, 1])
            out.append({"total_dose": float(doses.sum()) * horizon / len(doses),
                        "final_protein": final,
                        "protein_miss": abs(final - target) / target})
        return out
