r"""The ``ode_design`` strategy: dosing schedules designed by gradient through a neural ODE.

The campaign first trains a ``neural_ode`` model version (``POST /v1/campaigns/{id}/models``,
case ``protein_expression``): a hybrid of known mRNA/protein kinetics and a learned
transcription law. Each round then restores that model and descends the schedule's cost
(total dose plus a terminal-miss penalty) through the ODE solver
(:func:`models.neural_ode.design.design_schedule`), so the designs are the model's least-dose
schedules; the campaign's simulator (the ground-truth ODE) then measures each. A batch of
``count`` designs aims at targets hedged upward by ``hedge`` per design (``target``,
``target (1 + hedge)``, ...): if the model under-predicts the protein, a hedged schedule still
meets the tolerance.

Options: ``hedge`` (relative, default 0.01), ``steps`` (L-BFGS iterations, default 60),
``penalty`` (terminal-miss weight, default 300).
"""

from __future__ import annotations

import io
from typing import Any

import torch

from models.design.rounds import InvalidOptionsError, ProposedDesign, RoundRequest, RoundResult
from models.neural_ode.design import DosingProblem, design_schedule
from models.neural_ode.protein import HybridExpressionField
from models.physics.protein_expression import ExpressionParameters
from models.problems.dosing import dose_names
from models.problems.dosing.problem import DosingScheduleProblem
from models.space.keys import design_key

OPTIONS = {"hedge": 0.01, "steps": 60, "penalty": 300.0}


def restore_field(weights: bytes, config: dict[str, Any]) -> HybridExpressionField:
    """The trained hybrid field of a ``neural_ode`` model version."""
    state = torch.load(io.BytesIO(weights), weights_only=True)
    dtype = next(iter(state.values())).dtype
    field = HybridExpressionField(width=int(config.get("width", 16)), dtype=dtype)
    field.load_state_dict(state)
    return field


def propose(request: RoundRequest) -> RoundResult:
    """``request.count`` schedules designed through the campaign's latest neural ODE."""
    if not isinstance(request.problem, DosingScheduleProblem):
        raise InvalidOptionsError("ode_design designs dosing schedules: the campaign's "
                                  "problem must be 'dosing'", {"option": "problem"})
    if request.previous_model is None:
        raise InvalidOptionsError("ode_design needs a trained neural ODE: train a "
                                  "'neural_ode' model version of this campaign first",
                                  {"option": "model"})
    unknown = sorted(set(request.options) - set(OPTIONS))
    if unknown:
        raise InvalidOptionsError(f"options {unknown} are not understood; known: "
                                  f"{sorted(OPTIONS)}", {"option": unknown[0]})
    settings = {**OPTIONS, **request.options}
    field = restore_field(request.previous_model, dict(request.previous_config))
    problem = request.problem.options
    y0 = torch.tensor(ExpressionParameters().initial_state(),
                      dtype=next(field.parameters()).dtype).reshape(1, 2)
    names = dose_names(problem["n_intervals"])
    designs: list[ProposedDesign] = []
    seen = set(request.taken)
    for j in range(request.count):
        request.progress(j / request.count, f"designing schedule {j + 1} of {request.count}")
        aim = problem["target"] * (1.0 + settings["hedge"] * j)
        result = design_schedule(field, y0, DosingProblem(
            horizon=problem["horizon"], n_intervals=problem["n_intervals"],
            max_dose=problem["max_dose"], target=aim, penalty=float(settings["penalty"]),
            steps=int(settings["steps"])))
        parameters = {n: float(d) for n, d in zip(names, result.doses, strict=True)}
        if design_key(parameters) in seen:
            continue
        seen.add(design_key(parameters))
        designs.append(ProposedDesign(parameters=parameters, predictions={
            "aimed_at": aim, "predicted_final_protein": result.predicted_final,
            "predicted_total_dose": result.total_dose,
            "predicted_protein_miss": abs(result.predicted_final - problem["target"])
            / problem["target"]}))
    return RoundResult(designs=designs, state=dict(request.state),
                       info={"phase": "ode_design", "model_case": request.previous_config.get(
                           "case")})
