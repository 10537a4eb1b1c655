"""Model version schemas: what a client reads about a trained model (never its weights)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal, get_args

from pydantic import Field

from service.schemas.base import ReadModel, StrictModel

#: Model kinds a campaign can train on demand (``models.training.TRAINERS``, kept equal by a
#: test).
ModelKind = Literal["gp", "deep_ensemble", "pinn", "neural_ode"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)


class TrainModelRequest(StrictModel):
    """Train a model version of the campaign now (a job): ``gp`` (one GP per outcome, with
    leave-one-out quality), ``deep_ensemble`` (options: the ensemble's settings, e.g.
    ``members``, ``epochs``), ``pinn`` or ``neural_ode`` (options: ``case``, one of the
    built-in physics cases — ``fisher_kpp_forward``, ``fisher_kpp_inverse``,
    ``neo_hookean_bar``; ``protein_expression`` — and its ``config``)."""

    kind: ModelKind
    options: dict[str, Any] = Field(default_factory=dict)


class ModelVersionRead(ReadModel):
    """A trained model of a campaign with its metrics (e.g. cross-validated error,
    calibration). ``number`` counts up per campaign: a refit is a new version."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    number: int
    kind: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    job_id: uuid.UUID | None
    created_at: dt.datetime
