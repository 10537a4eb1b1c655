r"""The ``pinn_design`` strategy: nutrient control designed by gradient through a parametric PINN.

The campaign first trains a ``pinn`` model version of case ``fisher_kpp_parametric``
(``POST /v1/campaigns/{id}/models``): :math:`u_\phi(x, t; r)` over a range of growth rates
(:mod:`models.pinn.parametric`). Each round restores it and finds, by projected Adam on the
rate through the network (:func:`models.pinn.design.design_rate`), the largest growth rate —
the least abatement :math:`a = 1 - r/r_0` — whose predicted biomass at the horizon meets the
campaign's cap: the biomass increases with the rate, so the least abatement puts the biomass
exactly on the cap. The campaign's simulator (the SciPy reference) then measures each design.
A batch of ``count`` designs aims at caps hedged downward by ``hedge`` per design (``cap``,
``cap (1 - hedge)``, ...): if the network over-predicts the rate that meets the cap, a hedged
design still keeps the bloom under it.

Options: ``hedge`` (relative, default 0.01), ``steps`` (Adam steps, default 150),
``learning_rate`` (Adam's step on the scaled rate in [0, 1], default 0.05).
"""

from __future__ import annotations

from dataclasses import replace

from models.design.rounds import InvalidOptionsError, ProposedDesign, RoundRequest, RoundResult
from models.problems.bloom import rate_range
from models.problems.bloom.problem import BloomControlProblem
from models.space.keys import design_key

from .cases.parametric_jobs import restore_parametric
from .design import design_rate

OPTIONS: dict[str, float] = {"hedge": 0.01, "steps": 150, "learning_rate": 0.05}
CASE = "fisher_kpp_parametric"


def propose(request: RoundRequest) -> RoundResult:
    """``request.count`` abatements designed through the campaign's latest parametric PINN."""
    if not isinstance(request.problem, BloomControlProblem):
        raise InvalidOptionsError("pinn_design designs nutrient control of a bloom: the "
                                  "campaign's problem must be 'bloom'", {"option": "problem"})
    if request.previous_model is None or request.previous_config.get("case") != CASE:
        raise InvalidOptionsError(f"pinn_design needs a trained parametric PINN: train a "
                                  f"'pinn' model version of case '{CASE}' of this campaign "
                                  "first", {"option": "model"})
    unknown = sorted(set(request.options) - set(OPTIONS))
    if unknown:
        raise InvalidOptionsError(f"options {unknown} are not understood; known: "
                                  f"{sorted(OPTIONS)}", {"option": unknown[0]})
    settings = {**OPTIONS, **request.options}
    net, bloom = restore_parametric(request.previous_model, request.previous_config)
    problem = request.problem
    low, high = rate_range(problem.options)
    same_channel = replace(bloom.case, rate=0.0) == replace(problem.case, rate=0.0)
    if not (same_channel and bloom.rate_min <= low + 1e-9 and high <= bloom.rate_max + 1e-9):
        raise InvalidOptionsError(
            f"the trained PINN covers rates [{bloom.rate_min}, {bloom.rate_max}] 1/day at "
            f"D = {bloom.case.diffusivity}; the campaign needs [{low:g}, {high:g}] at D = "
            f"{problem.case.diffusivity}: train it with rate_min/rate_max covering them",
            {"option": "model"})
    low, high = max(low, bloom.rate_min), min(high, bloom.rate_max)
    cap = float(problem.options["biomass_cap"])
    designs: list[ProposedDesign] = []
    seen = set(request.taken)
    for j in range(request.count):
        request.progress(j / request.count, f"designing control {j + 1} of {request.count}")
        aim = cap * (1.0 - float(settings["hedge"]) * j)
        result = design_rate(net, bloom, aim, bounds=(low, high), start=high,
                             steps=int(settings["steps"]),
                             learning_rate=float(settings["learning_rate"]))
        abatement = min(max(problem.abatement(result.rate), 0.0),
                        float(problem.options["max_abatement"]))
        parameters = {"abatement": abatement}
        if design_key(parameters) in seen:
            continue
        seen.add(design_key(parameters))
        designs.append(ProposedDesign(parameters=parameters, predictions={
            "mean": {"biomass": result.predicted_biomass, "abatement": abatement},
            "aimed_at": aim, "growth_rate": result.rate,
            "predicted_biomass_miss": abs(result.predicted_biomass - cap) / cap,
            "at_bound": result.at_bound}))
    return RoundResult(designs=designs, state=dict(request.state),
                       info={"phase": "pinn_design", "model_case": CASE})
