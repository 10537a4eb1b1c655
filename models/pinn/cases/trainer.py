r"""The ``pinn`` and ``neural_ode`` trainers: a built-in physics case trained as a model version.

``POST /v1/campaigns/{id}/models {"kind": "pinn", "options": {"case": "fisher_kpp_forward",
"config": {...}}}`` trains the case (see :data:`~models.pinn.cases.registry.CASES`) in a job
and stores its weights, its settings and its metrics (error against the case's reference
solution, loss curves, solver statistics). Progress goes to the job row as it trains: the
fraction of the epoch budget done, and the epoch's loss terms in the message, so
``GET /v1/jobs/{id}`` shows a live picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from models.design.rounds import InvalidOptionsError, TrainedModel
from models.neural_ode.jobs import ProteinSettings
from models.pinn.cases.jobs import BarSettings, FisherSettings
from models.pinn.cases.parametric_jobs import ParametricSettings
from models.pinn.cases.registry import settings_from, train_case
from models.training import TrainRequest

#: Model kind -> case -> the case's typed settings (for the epoch budget of the progress).
CASES_BY_KIND: dict[str, dict[str, type]] = {
    "pinn": {"fisher_kpp_forward": FisherSettings, "fisher_kpp_inverse": FisherSettings,
             "neo_hookean_bar": BarSettings, "fisher_kpp_parametric": ParametricSettings},
    "neural_ode": {"protein_expression": ProteinSettings},
}


def epoch_budget(settings: Any) -> int:
    """Epochs the case will run at most (Adam then L-BFGS, or stages of a curriculum)."""
    names = {f.name for f in fields(settings)}
    if {"adam_epochs", "lbfgs_iterations"} <= names:
        return int(settings.adam_epochs + settings.lbfgs_iterations)
    if {"epochs_per_stage", "horizons"} <= names:
        return int(settings.epochs_per_stage * len(settings.horizons))
    return 0


def reporter(request: TrainRequest, budget: int) -> Callable[[int, dict[str, float]], None]:
    """Adapt the case's ``(epoch, loss terms)`` callback to the job's ``(fraction, message)``."""
    def report(epoch: int, terms: dict[str, float]) -> None:
        fraction = min(1.0, epoch / budget) if budget else 0.0
        shown = ", ".join(f"{k}={v:.3g}" for k, v in terms.items()
                          if isinstance(v, float) and math.isfinite(v))
        request.progress(fraction, f"epoch {epoch}/{budget}: {shown}")
    return report


def _train(kind: str, request: TrainRequest) -> TrainedModel:
    cases = CASES_BY_KIND[kind]
    case = request.options.get("case", next(iter(cases)))
    if case not in cases:
        raise InvalidOptionsError(f"options.case: {kind} cases are {sorted(cases)}, not "
                                  f"{case!r}", {"option": "case"})
    unknown = sorted(set(request.options) - {"case", "config"})
    if unknown:
        raise InvalidOptionsError(f"options {unknown} are not understood; give 'case' and "
                                  "'config'", {"option": unknown[0]})
    config: Mapping[str, Any] = request.options.get("config") or {}
    budget = epoch_budget(settings_from(cases[case], config))
    return train_case(case, config, reporter(request, budget))


def train_pinn(request: TrainRequest) -> TrainedModel:
    """The ``pinn`` trainer."""
    return _train("pinn", request)


def train_neural_ode(request: TrainRequest) -> TrainedModel:
    """The ``neural_ode`` trainer."""
    return _train("neural_ode", request)
