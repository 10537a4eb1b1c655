r"""The ``dosing`` problem: a piecewise-constant inducer schedule for protein expression.

Choose the dose (µM) on each of ``n_intervals`` equal intervals of :math:`[0, T]` (``T`` =
``horizon`` hours) so that the protein reaches ``target`` nM at :math:`T` with the least total
dose. Outcomes: ``total_dose`` (µM·h, minimised), ``final_protein`` (nM) and ``protein_miss``
(:math:`|p(T) - p^*| / p^*`, constrained to at most ``tolerance``). The simulator is the
documented ground-truth mRNA/protein ODE (:mod:`models.physics.protein_expression`), solved to
1e-10 by SciPy. Strategies: space filling, constrained BO, and ``ode_design`` — gradient
descent through the campaign's trained neural ODE (a ``neural_ode`` model version), each design
then checked by the simulator.

This module is torch-free (the API reads the spec); the implementation lives in
:mod:`models.problems.dosing.problem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.problems.base import ProblemError, ProblemSpec, numeric_options

DEFAULTS: dict[str, Any] = {"horizon": 12.0, "n_intervals": 6, "max_dose": 10.0,
                            "target": 8.0, "tolerance": 0.05}
#: ``option -> (lowest, highest)`` accepted.
LIMITS: dict[str, tuple[float, float]] = {"horizon": (1.0, 48.0), "n_intervals": (1, 24),
                                          "max_dose": (0.1, 100.0), "target": (0.5, 20.0),
                                          "tolerance": (1e-4, 0.5)}


def validate(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options with defaults filled in; a bad one is a :class:`ProblemError` naming it."""
    out = numeric_options(options, DEFAULTS, LIMITS)
    if not float(out["n_intervals"]).is_integer():
        raise ProblemError("problem_options.n_intervals: must be an integer")
    out["n_intervals"] = int(out["n_intervals"])
    return out


def dose_names(n_intervals: int) -> list[str]:
    return [f"dose_{k:02d}" for k in range(n_intervals)]


def default_space(options: Mapping[str, Any]) -> dict[str, Any]:
    """One bounded dose per interval (µM)."""
    opts = validate(options)
    return {"parameters": [
        {"type": "continuous", "name": name, "lower": 0.0, "upper": float(opts["max_dose"]),
         "unit": "µM"} for name in dose_names(opts["n_intervals"])]}


def default_constraints(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The protein must reach its target within the tolerance."""
    return [{"name": "protein_miss", "op": "<=", "threshold": validate(options)["tolerance"]}]


SPEC = ProblemSpec(
    key="dosing",
    title="Inducer dosing schedule for protein expression",
    description="Piecewise-constant inducer doses (µM) on equal intervals of [0, T] h that "
    "bring the protein to a target (nM) at T with the least total dose (µM·h). Simulator: the "
    "documented ground-truth mRNA/protein ODE. Strategy ode_design designs by gradient "
    "through the campaign's trained neural ODE (train a neural_ode model version first).",
    default_space=default_space({}),
    default_objectives=[{"name": "total_dose", "goal": "minimize", "unit": "µM h"}],
    default_constraints=default_constraints({}),
    has_simulator=True,
    implementation="models.problems.dosing.problem:DosingScheduleProblem",
    options_validator="models.problems.dosing:validate",
    default_space_factory="models.problems.dosing:default_space",
    default_constraints_factory="models.problems.dosing:default_constraints",
    strategies=("space_filling", "bayesian", "ode_design"),
)
