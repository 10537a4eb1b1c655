r"""The ``bloom`` problem: the least nutrient control that keeps an algae bloom under a cap.

An algae bloom spreads along a 1 km channel by Fisher–KPP reaction–diffusion,
:math:`u_t = D u_{xx} + r u (1 - u)` (:mod:`models.physics.reaction_diffusion`: :math:`u` the
density as a fraction of the carrying capacity, :math:`x` in km, :math:`t` in days, no-flux
ends, the default initial bloom, :math:`D` = 0.01 km²/day, horizon :math:`T` = 1 day).
Nutrient control removes a fraction ``abatement`` :math:`a` of the load and lowers the growth
rate to :math:`r = r_0 (1 - a)` (``natural_rate`` :math:`r_0`, 1/day). Choose :math:`a \in
[0, a_\max]` (``max_abatement``) as small as possible (control costs) such that the biomass at
the horizon, :math:`B = \int_0^L u(x, T)\,dx` (km of channel at full capacity), stays at most
``biomass_cap``.

Outcomes: ``abatement`` (minimised; the design itself, as the dosing problem's total dose),
``biomass`` (km, constrained to ``<= biomass_cap``) and ``growth_rate`` (1/day, for the record).
The simulator is the SciPy method-of-lines reference (401 nodes, rtol 1e-9: ~1e-5 relative
in :math:`B`). Strategies: space filling, constrained BO, and ``pinn_design`` — gradient
descent on the rate through the campaign's trained parametric PINN (a ``pinn`` model version
of case ``fisher_kpp_parametric``), each design then measured by the simulator.

This module is torch-free (the API reads the spec); the implementation lives in
:mod:`models.problems.bloom.problem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.problems.base import ProblemSpec, numeric_options

DEFAULTS: dict[str, Any] = {"natural_rate": 2.0, "max_abatement": 0.75, "biomass_cap": 0.2}
#: ``option -> (lowest, highest)`` accepted.
LIMITS: dict[str, tuple[float, float]] = {"natural_rate": (0.1, 10.0),
                                          "max_abatement": (0.05, 0.95),
                                          "biomass_cap": (0.01, 1.0)}


def validate(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options with defaults filled in; a bad one is a :class:`~models.problems.base.ProblemError` naming it."""
    out = numeric_options(options, DEFAULTS, LIMITS)
    return {name: float(value) for name, value in out.items()}


def rate_range(options: Mapping[str, Any]) -> tuple[float, float]:
    """The growth rates (1/day) the abatement range spans: ``(r0 (1 - a_max), r0)``."""
    opts = validate(options)
    return opts["natural_rate"] * (1.0 - opts["max_abatement"]), opts["natural_rate"]


def default_space(options: Mapping[str, Any]) -> dict[str, Any]:
    """One bounded abatement fraction."""
    opts = validate(options)
    return {"parameters": [{"type": "continuous", "name": "abatement", "lower": 0.0,
                            "upper": opts["max_abatement"], "unit": "fraction"}]}


def default_constraints(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The biomass at the horizon must stay under the cap."""
    return [{"name": "biomass", "op": "<=", "threshold": validate(options)["biomass_cap"],
             "unit": "km"}]


SPEC = ProblemSpec(
    key="bloom",
    title="Nutrient control of an algae bloom (Fisher-KPP)",
    description="Choose the fraction of the nutrient load to remove (abatement, lowering the "
    "growth rate to r0 (1 - abatement)) as small as possible while the bloom's biomass at the "
    "horizon (km of channel at capacity) stays under a cap. Simulator: the SciPy reference "
    "solver of Fisher-KPP. Strategy pinn_design designs by gradient through the campaign's "
    "trained parametric PINN (train a pinn model version of case fisher_kpp_parametric first).",
    default_space=default_space({}),
    default_objectives=[{"name": "abatement", "goal": "minimize", "unit": "fraction"}],
    default_constraints=default_constraints({}),
    has_simulator=True,
    implementation="models.problems.bloom.problem:BloomControlProblem",
    options_validator="models.problems.bloom:validate",
    default_space_factory="models.problems.bloom:default_space",
    default_constraints_factory="models.problems.bloom:default_constraints",
    strategies=("space_filling", "bayesian", "pinn_design"),
)
