r"""The ``deep_ensemble`` trainer: a deep ensemble of the campaign's outcomes, on demand.

Inputs are the campaign's designs in the BO feature encoding (categoricals as indices, log
scales, composition fractions; bounds of the whole space, so the ensemble's sd measures
extrapolation against the space, not the data); outputs are every outcome that all successful
observations carry. The model version stores the ensemble's bytes and its training report:
the curvature estimates and the provably stable step size used, validation error, steps.

Options: any :class:`~models.surrogates.ensemble.EnsembleConfig` field (``members``,
``width``, ``epochs``, ...); ``seed`` defaults to the campaign's.
"""

from __future__ import annotations

import dataclasses

import torch

from models.bo.encoding import Encoder
from models.design.rounds import InvalidOptionsError, TrainedModel
from models.surrogates.ensemble import DeepEnsemble, EnsembleConfig
from models.surrogates.errors import InvalidTrainingDataError
from models.training import TrainRequest


def ensemble_config(request: TrainRequest) -> EnsembleConfig:
    """The ensemble's hyperparameters from the request's options (unknown ones named)."""
    known = {f.name for f in dataclasses.fields(EnsembleConfig)}
    unknown = sorted(set(request.options) - known)
    if unknown:
        raise InvalidOptionsError(f"options {unknown} are not deep-ensemble settings; known: "
                                  f"{sorted(known)}", {"option": unknown[0]})
    try:
        return EnsembleConfig(**{"seed": request.seed, **request.options})
    except (TypeError, ValueError) as exc:
        raise InvalidOptionsError(f"options: {exc}", {"option": "options"}) from exc


def train(request: TrainRequest) -> TrainedModel:
    """Fit the ensemble on the successful observations that carry every outcome."""
    config = ensemble_config(request)
    names = request.outcome_names()
    rows = [o for o in request.observations
            if not o.get("failed") and all(n in o.get("outcomes", {}) for n in names)]
    if len(rows) < 2:
        raise InvalidTrainingDataError(
            f"a deep ensemble needs at least 2 complete observations, the campaign has "
            f"{len(rows)}", {"observations": len(rows)})
    encoder = Encoder(request.space)
    X = encoder.encode([o["parameters"] for o in rows]).to(config.torch_dtype)
    Y = torch.tensor([[float(o["outcomes"][n]) for n in names] for o in rows],
                     dtype=config.torch_dtype)
    request.progress(0.1, f"training {config.members} members on {len(rows)} observations")
    model = DeepEnsemble.fit(X, Y, config, bounds=encoder.bounds)
    return TrainedModel(kind="deep_ensemble", weights=model.to_bytes(),
                        config={"ensemble": dataclasses.asdict(config), "outputs": names,
                                "features": [c.name for c in encoder.columns]},
                        metrics=dict(model.metrics))
