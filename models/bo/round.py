r"""The ``bayesian`` strategy: a space-filling start, then constrained Bayesian optimisation.

Options (``strategy.options`` of the campaign, validated by the API):

* ``initial_points`` — successful observations needed before the first model (default
  ``min(10, max(4, 2 p))`` for ``p`` parameters); until then the round is space-filling (the
  same Sobol stream as the ``space_filling`` strategy);
* ``config`` — a :class:`~models.bo.config.BOConfig` dict (fixed features, prior mean,
  optimiser effort, ...).

Each BO round stores a ``gp`` model version whose weights are the fitted hyperparameters, so
the next round warm-starts from them; each suggestion's predictions carry the mean and sd per
outcome, the constraint probabilities, the acquisition value, and the seed and data hash that
replay it exactly.
"""

from __future__ import annotations

from typing import Any

from models.bo.config import BOConfig
from models.bo.suggest import BOResult, suggest
from models.design.rounds import (
    InvalidOptionsError,
    ProposedDesign,
    RoundRequest,
    RoundResult,
    TrainedModel,
)
from models.design.space_filling_round import space_filling_round

MODEL_KIND = "gp"
#: The default space-filling start is at most this many points (large spaces would otherwise
#: spend the whole campaign on it).
MAX_DEFAULT_INITIAL = 10


def initial_points(request: RoundRequest) -> int:
    """Successful observations needed before Bayesian optimisation takes over."""
    if "initial_points" in request.options:
        return int(request.options["initial_points"])
    return min(MAX_DEFAULT_INITIAL, max(4, 2 * len(request.space.names)))


def propose(request: RoundRequest) -> RoundResult:
    """Space filling until the campaign has enough data, then one constrained-BO round."""
    have = len(request.successful_observations())
    need = initial_points(request)
    if have < need:
        result = space_filling_round(request, count=request.count)
        return RoundResult(designs=result.designs, state=result.state,
                           info={**result.info, "initial_points": need, "observed": have})
    config = _config(request)
    request.progress(0.2, f"fitting the models on {have} observations")
    bo = suggest(request.space, list(request.observations), list(request.pending),
                 list(request.objectives), list(request.constraints), q=request.count,
                 config=config, seed=request.seed, previous_state=request.previous_model)
    return RoundResult(designs=[_design(s, bo) for s in bo.suggestions],
                       state=dict(request.state),
                       model=TrainedModel(kind=MODEL_KIND, weights=bo.model_state,
                                          config={"bo": config.to_dict(), "seed": bo.seed,
                                                  "data_hash": bo.data_hash},
                                          metrics=bo.metrics),
                       info={"phase": "bayesian", "acquisition": bo.metrics.get("acquisition"),
                             "seconds": bo.metrics.get("total_seconds")})


def _config(request: RoundRequest) -> BOConfig:
    try:
        return BOConfig.from_dict(request.options.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise InvalidOptionsError(f"strategy.options.config: {exc}",
                                  {"option": "config"}) from exc


def _design(suggestion: Any, bo: BOResult) -> ProposedDesign:
    predictions = suggestion.to_dict()
    parameters = predictions.pop("parameters")
    predictions["replay"] = {"seed": bo.seed, "data_hash": bo.data_hash}
    return ProposedDesign(parameters=parameters, predictions=predictions)
