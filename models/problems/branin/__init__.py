"""The constrained Branin benchmark of Gardner et al. (2014): the spec, torch-free.

Minimise the Branin function on ``[-5, 10] x [0, 15]`` subject to staying inside the disc
``(x1 - 2.5)^2 + (x2 - 7.5)^2 <= 50``. Of Branin's three global minimisers (value 0.397887)
only ``(pi, 2.275)`` lies inside the disc, so it is also the constrained optimum. The
implementation lives in :mod:`models.problems.branin.problem` (imports torch).

Reference:
    J. R. Gardner, M. J. Kusner, Z. Xu, K. Q. Weinberger, J. P. Cunningham. Bayesian
    optimization with inequality constraints. ICML 2014.
"""

from __future__ import annotations

from models.problems.base import ProblemSpec

SPEC = ProblemSpec(
    key="branin",
    title="Constrained Branin (Gardner et al., 2014)",
    description="Minimise the two-dimensional Branin function subject to "
    "(x1 - 2.5)^2 + (x2 - 7.5)^2 - 50 <= 0. Known optimum: 0.397887 at (pi, 2.275), the only "
    "one of Branin's three global minimisers inside the feasible disc. An analytic simulator: "
    "a benchmark for the strategies.",
    default_space={
        "parameters": [
            {"type": "continuous", "name": "x1", "lower": -5.0, "upper": 10.0},
            {"type": "continuous", "name": "x2", "lower": 0.0, "upper": 15.0},
        ],
    },
    default_objectives=[{"name": "value", "goal": "minimize"}],
    default_constraints=[{"name": "constraint", "op": "<=", "threshold": 0.0}],
    has_simulator=True,
    implementation="models.problems.branin.problem:BraninProblem",
    strategies=("space_filling", "bayesian", "inverse_design"),
)
