r"""The ``gp`` trainer: fit the campaign's outcome GPs now and report their quality.

The same models a ``bayesian`` round fits (one GP per outcome, warm-started from the previous
``gp`` version), stored with their leave-one-out error and calibration, without proposing
designs: "how good is the model on the data we have?" answered on demand.

Options: ``config`` — a :class:`~models.bo.config.BOConfig` dict (only ``gp`` and
``min_observations`` matter here).

An outcome whose observations all have one value gets the deliberate flat fallback of
:func:`models.bo.gp.constant_outcome_model` (listed under ``constant_outcomes`` with a
``warnings`` sentence) instead of a degenerate fit; every metric is finite or ``None``.
"""

from __future__ import annotations

import time

from models.bo.config import BOConfig
from models.bo.data import assemble, data_hash
from models.bo.encoding import Encoder
from models.bo.gp import dump_state, fit_outcome_models, load_state
from models.bo.problem import Observation
from models.bo.quality import loo_metrics
from models.design.rounds import InvalidOptionsError, TrainedModel
from models.json_safety import finite_metrics
from models.training import TrainRequest


def train(request: TrainRequest) -> TrainedModel:
    """Fit one GP per outcome on the campaign's successful observations."""
    try:
        config = BOConfig.from_dict(request.options.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise InvalidOptionsError(f"options.config: {exc}", {"option": "config"}) from exc
    start = time.perf_counter()
    observations = [Observation.from_dict(o) for o in request.observations]
    encoder = Encoder(request.space)
    data = assemble(encoder, observations, request.outcome_names())
    previous = load_state(request.previous_model) if request.previous_model else {}
    request.progress(0.1, f"fitting {len(data.outcomes)} GPs on {len(observations)} "
                          "observations")
    models, report = fit_outcome_models(data.outcomes, encoder, config.gp, previous,
                                        min_observations=config.min_observations)
    request.progress(0.8, "leave-one-out quality")
    metrics = {
        "observations": len(observations), "failed": data.n_failed,
        "quality": {name: loo_metrics(model).to_dict() for name, model in models.items()},
        "fit_seconds_per_outcome": report.seconds, "warm_started": report.warm_started,
        "noise": report.noise, "total_seconds": time.perf_counter() - start,
    }
    if report.constant:
        metrics["constant_outcomes"] = dict(report.constant)
        metrics["warnings"] = list(report.warnings)
    metrics = finite_metrics(metrics)
    # A constant outcome's fallback is not a fit: it is not kept for warm starts.
    fitted = {n: m for n, m in models.items() if n not in report.constant}
    state = dump_state(fitted, extra={"outputs": list(models),
                                            "features": [c.name for c in encoder.columns]})
    return TrainedModel(kind="gp", weights=state,
                        config={"bo": config.to_dict(), "seed": request.seed,
                                "data_hash": data_hash(observations, [])},
                        metrics=metrics)
