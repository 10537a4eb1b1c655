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

Replay. A BO round is a function of the observations and pending designs (``data_hash``), the
seed, the :class:`~models.bo.config.BOConfig` (``bo``) and, for a warm start, the previous
model state it started from. So a round's model version config records all four:
``weights_sha256`` (the SHA-256 of its own weights) and ``warm_start`` (the SHA-256 and data hash
of the weights it was handed, or ``None`` for a cold start): the version it warm-started from is
the one whose ``weights_sha256`` matches (see :func:`replay_inputs`). The same bits come back
on another machine only with the same libraries, MKL code path and thread count
(:mod:`models.numerics`): the config records them as ``numerics``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
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
from models.json_safety import finite_metrics
from models.numerics import numerics

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
                                                  "data_hash": bo.data_hash,
                                                  "weights_sha256": weights_sha256(
                                                      bo.model_state),
                                                  "warm_start": _warm_start(request),
                                                  "numerics": numerics()},
                                          metrics=bo.metrics),
                       info={"phase": "bayesian", "acquisition": bo.metrics.get("acquisition"),
                             "seconds": bo.metrics.get("total_seconds")})


def weights_sha256(weights: bytes | None) -> str | None:
    """SHA-256 of a model version's weights (``None`` without weights): the key that ties a
    round to the version it warm-started from."""
    return hashlib.sha256(weights).hexdigest() if weights is not None else None


def _warm_start(request: RoundRequest) -> dict[str, Any] | None:
    """What the round was handed to warm-start from (``None``: a cold start)."""
    if request.previous_model is None:
        return None
    return {"weights_sha256": weights_sha256(request.previous_model),
            "data_hash": request.previous_config.get("data_hash"),
            "seed": request.previous_config.get("seed")}


def replay_inputs(config: Mapping[str, Any],
                  versions: Sequence[tuple[Mapping[str, Any], bytes | None]]
                  ) -> tuple[BOConfig, int, bytes | None]:
    r"""The configuration, seed and warm-start weights to replay a stored BO round with.

    Args:
        config: The round's model version config.
        versions: Candidate earlier versions, ``(config, weights)`` (e.g. every ``gp``
            version of the campaign); the warm start is the one whose weights hash matches.

    Returns:
        ``(config, seed, previous_state)`` for :func:`models.bo.suggest.suggest`; call it with
        the observations and pending designs whose :func:`models.bo.data.data_hash` is
        ``config["data_hash"]``.

    Raises:
        LookupError: The round warm-started from weights none of ``versions`` has.
    """
    warm = config.get("warm_start")
    previous = None
    if warm is not None:
        wanted = warm["weights_sha256"]
        found = [w for _, w in versions if weights_sha256(w) == wanted]
        if not found:
            raise LookupError(f"no model version has the warm-start weights {wanted}")
        previous = found[0]
    return BOConfig.from_dict(config["bo"]), int(config["seed"]), previous


def _config(request: RoundRequest) -> BOConfig:
    try:
        return BOConfig.from_dict(request.options.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise InvalidOptionsError(f"strategy.options.config: {exc}",
                                  {"option": "config"}) from exc


def _design(suggestion: Any, bo: BOResult) -> ProposedDesign:
    predictions = finite_metrics(suggestion.to_dict())
    parameters = predictions.pop("parameters")
    predictions["replay"] = {"seed": bo.seed, "data_hash": bo.data_hash}
    return ProposedDesign(parameters=parameters, predictions=predictions)
