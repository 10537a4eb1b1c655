"""The ``bloom`` problem's simulator: the SciPy Fisher–KPP reference at the controlled rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from models.physics.reaction_diffusion import FisherKPP, solve_reference
from models.problems.base import Problem, ProblemSpec
from models.problems.bloom import SPEC, validate

#: Nodes and tolerance of the reference: ~1e-5 relative in the biomass (second order in space).
NODES, RTOL = 401, 1e-9


class BloomControlProblem(Problem):
    """Evaluate abatements on the reference solver (fraction in; km biomass, 1/day rate out)."""

    spec: ClassVar[ProblemSpec] = SPEC

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = validate(options)
        self.case = FisherKPP()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> BloomControlProblem:
        return cls(options)

    def parameter_names(self) -> list[str]:
        return ["abatement"]

    def growth_rate(self, abatement: float) -> float:
        """:math:`r = r_0 (1 - a)` (1/day)."""
        return float(self.options["natural_rate"]) * (1.0 - float(abatement))

    def abatement(self, rate: float) -> float:
        """The abatement that gives ``rate``: :math:`a = 1 - r / r_0`."""
        return 1.0 - float(rate) / float(self.options["natural_rate"])

    def _evaluate_true(self, designs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        out = []
        for design in designs:
            abatement = float(design["abatement"])
            rate = self.growth_rate(abatement)
            ref = solve_reference(replace(self.case, rate=rate), nx=NODES, nt=2, rtol=RTOL)
            out.append({"abatement": abatement, "growth_rate": rate,
                        "biomass": float(np.trapezoid(ref.u[-1], ref.x))})
        return out
