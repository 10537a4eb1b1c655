r"""One constrained-BO round: observations in, a batch of suggested designs out.

:func:`suggest` is the entry point a worker calls (a notebook too): it encodes the space,
turns the observations into training sets (refusing bad data), fits one GP per outcome (warm
started from the previous model state) and, when experiments failed, a failure model; builds
qLogNEI / qLogNEHVI with the outcome constraints, the pending designs and any chance
constraints; optimises it over the mixed, constrained space with the fixed features held; and
reports, per suggestion, the model's predictions, probabilities and acquisition value, plus the
new model state and the model-quality metrics. Everything random is seeded by ``seed``, so the
same inputs give the same suggestions.

Example:
    >>> from models.space.space import Space
    >>> space = Space.from_dict({"parameters": [
    ...     {"type": "continuous", "name": "x", "lower": 0, "upper": 1}]})
    >>> observations = [Observation({"x": x}, {"y": (x - 0.3) ** 2, "c": x})
    ...                 for x in (0.1, 0.5, 0.9, 0.7)]
    >>> result = suggest(space, observations, [], [Objective("y", "minimize")],
    ...                  [OutcomeConstraint("c", "<=", 0.8)], q=2, seed=0)
    >>> len(result.suggestions), sorted(result.suggestions[0].mean)
    (2, ['c', 'y'])
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from botorch.models import ModelListGP
from botorch.utils.sampling import manual_seed
from torch import Tensor

from models.bo.acquisition import build_acquisition, constraint_callables
from models.bo.cached_posterior import cached_model_list
from models.bo.config import BOConfig
from models.bo.data import assemble, data_hash
from models.bo.encoding import Encoder
from models.bo.failures import (
    SUCCESS_OUTPUT,
    fit_failure_model,
    success_constraint,
    success_probability,
)
from models.bo.gp import constant_outcome_scale, dump_state, fit_outcome_models, load_state
from models.bo.optimize import optimize_acquisition
from models.bo.problem import Objective, Observation, OutcomeConstraint, outcome_names
from models.bo.quality import loo_metrics
from models.bo.risk import ChanceConstrainedAcquisition, ChanceFilter, constraint_probabilities
from models.bo.winsorize import Clip, winsorize
from models.json_safety import finite_metrics
from models.space.space import Space


@dataclass(frozen=True)
class Suggestion:
    """One proposed design and what the model expects of it.

    Attributes:
        parameters: The design, name -> value.
        mean: Predicted mean per modelled outcome (latent value, the outcome's units).
        sd: Predicted standard deviation per modelled outcome (noise excluded).
        constraint_probabilities: Marginal ``P(met)`` per outcome constraint.
        probability_feasible: Product of the constraint probabilities (the models are
            independent); 1 without constraints.
        probability_success: ``P(not failing)`` from the failure model; ``None`` when no
            experiment has failed.
        acquisition_value: The acquisition (log-scale: log expected (hypervolume)
            improvement) of this design alone, given the pending designs.
    """

    parameters: dict[str, Any]
    mean: dict[str, float]
    sd: dict[str, float]
    constraint_probabilities: dict[str, float]
    probability_feasible: float
    probability_success: float | None
    acquisition_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BOResult:
    """The outcome of one suggest call.

    Attributes:
        suggestions: ``q`` suggestions, in the order they were chosen.
        model_state: The fitted hyperparameters (bytes, see :func:`models.bo.gp.dump_state`):
            store them with the model version and pass them back as ``previous_state``.
        metrics: JSON-ready numbers (finite or ``None``: a value that came out non-finite is
            ``None`` and its path is listed under ``non_finite``): per-outcome leave-one-out
            quality, timings (s), counts, warm starts, noise treatment, pool replacements, the
            batch's joint acquisition value; for outcomes whose observations all had one value,
            ``constant_outcomes`` (name -> value) and ``warnings`` (see
            :func:`models.bo.gp.constant_outcome_model`: such an outcome is modelled as flat
            with prior uncertainty, deliberately, and not kept in ``model_state``).
        data_hash: SHA-256 of the observations and pending designs the call saw.
        seed: The seed it used.
    """

    suggestions: list[Suggestion]
    model_state: bytes
    metrics: dict[str, Any] = field(default_factory=dict)
    data_hash: str = ""
    seed: int = 0


def suggest(space: Space, observations: Sequence[Observation | Mapping[str, Any]],
            pending: Sequence[Mapping[str, Any]], objectives: Sequence[Objective | Mapping],
            constraints: Sequence[OutcomeConstraint | Mapping] = (), q: int = 1,
            config: BOConfig | None = None, seed: int = 0,
            previous_state: bytes | None = None) -> BOResult:
    r"""Propose ``q`` new designs by constrained Bayesian optimisation.

    Args:
        space: The design space.
        observations: Every observation so far, failures included (typed, or the API's
            JSON shape).
        pending: Designs suggested and not yet observed (in flight): never proposed again.
        objectives: One objective (qLogNEI) or several (qLogNEHVI), typed or as JSON.
        constraints: Outcome constraints, typed or as JSON; those with ``risk`` are chance
            constraints.
        q: Batch size.
        config: Configuration (defaults: :class:`BOConfig()`); its ``fixed_features`` are held.
        seed: Seeds everything random (restarts, Monte-Carlo samples, pools).
        previous_state: The ``model_state`` of an earlier call on this campaign, for a warm
            start of the hyperparameters.

    Returns:
        The suggestions with their predictions, the model state and metrics.

    Raises:
        BadObservationError: An observation or pending design is not usable.
        NotEnoughDataError: An outcome has too few observations.
        ModelFitError: A model could not be fitted.
        InfeasibleRequestError: Fixed features break a constraint, or nothing new is left.
        NoSafeDesignError: A chance constraint cannot be met by any design found.
    """
    start = time.perf_counter()
    config = config or BOConfig()
    if q < 1:
        raise ValueError(f"q must be at least 1, got {q}")
    observed = [o if isinstance(o, Observation) else Observation.from_dict(o)
                for o in observations]
    goals = [o if isinstance(o, Objective) else Objective.from_dict(o) for o in objectives]
    limits = [c if isinstance(c, OutcomeConstraint) else OutcomeConstraint.from_dict(c)
              for c in constraints]
    return _suggest(space, observed, pending, goals, limits, q, config, seed, previous_state,
                    start)


def _suggest(space: Space, observations: list[Observation], pending: Sequence[Mapping[str, Any]],
             objectives: list[Objective], constraints: list[OutcomeConstraint], q: int,
             config: BOConfig, seed: int, previous_state: bytes | None,
             start: float) -> BOResult:
    """:func:`suggest` on typed inputs (``start``: when the call began, for the timings)."""
    if not objectives:
        raise ValueError("at least one objective is needed")
    names = outcome_names(objectives, constraints)
    encoder = Encoder(space)
    data = assemble(encoder, observations, names)
    clips: dict[str, Clip] = {}
    if config.gp.winsorize:
        data, clips = winsorize(data, objectives, constraints)
    X_pending = encoder.encode(pending) if pending else None
    fixed = encoder.encode_partial(config.fixed_features)
    previous = load_state(previous_state) if previous_state else {}

    with manual_seed(seed):
        fit_start = time.perf_counter()
        models, report = fit_outcome_models(data.outcomes, encoder, config.gp, previous,
                                            min_observations=config.min_observations)
        failure_model = None
        if config.failures.enabled:
            failure_model = fit_failure_model(data, encoder, config.gp,
                                              previous.get("models", {}).get(SUCCESS_OUTPUT))
        fit_seconds = time.perf_counter() - fit_start

        outputs = list(names)
        members = list(models.values())
        if failure_model is not None:
            outputs.append(SUCCESS_OUTPUT)
            members.append(failure_model)
        model = ModelListGP(*members)
        scales = {n: _scale(d.Y, report.constant.get(n)) for n, d in data.outcomes.items()}
        callables = constraint_callables(constraints, outputs, scales)
        if failure_model is not None:
            callables.append(success_constraint(outputs.index(SUCCESS_OUTPUT)))

        acq_start = time.perf_counter()
        acq_model = cached_model_list(model) if config.acquisition.cached_posterior else model
        base = build_acquisition(acq_model, objectives, callables, outputs,
                                 X_baseline=data.X_observed, X_pending=X_pending,
                                 config=config.acquisition, seed=seed)
        acqf = base
        accept = None
        if any(c.risk is not None for c in constraints):
            acqf = ChanceConstrainedAcquisition(base, acq_model, constraints, outputs,
                                                penalty=config.risk.penalty)
            accept = ChanceFilter(acq_model, constraints, outputs)
        candidates = optimize_acquisition(acqf, encoder, q=q, fixed=fixed,
                                          config=config.optimizer, seed=seed,
                                          X_pending=X_pending, accept=accept)
        acq_seconds = time.perf_counter() - acq_start

    X = candidates.X
    with torch.no_grad():
        values = base(X.unsqueeze(-2)).tolist()
        joint = float(base(X.unsqueeze(0)))
        # The acquisition's model: the same posterior (cached factors where it has them).
        posterior: Any = acq_model.posterior(X)
        mean, sd = posterior.mean, posterior.variance.clamp_min(0.0).sqrt()
    probabilities = constraint_probabilities(acq_model, X, constraints, outputs)
    success = success_probability(failure_model, X).tolist() if failure_model is not None \
        else [None] * X.shape[0]
    suggestions = [
        Suggestion(
            parameters=design,
            mean={n: float(mean[i, outputs.index(n)]) for n in names},
            sd={n: float(sd[i, outputs.index(n)]) for n in names},
            constraint_probabilities={c.name: float(probabilities[i, k])
                                      for k, c in enumerate(constraints)},
            probability_feasible=float(probabilities[i].prod()) if constraints else 1.0,
            probability_success=success[i],
            acquisition_value=float(values[i]))
        for i, design in enumerate(_hold(encoder.decode(X), config.fixed_features))]

    metrics: dict[str, Any] = {
        "observations": len(observations), "failed": data.n_failed,
        "pending": 0 if X_pending is None else int(X_pending.shape[0]), "q": q,
        "fit_seconds": fit_seconds, "acquisition_seconds": acq_seconds,
        "fit_seconds_per_outcome": report.seconds, "warm_started": report.warm_started,
        "noise": report.noise, "pool_replacements": candidates.replaced,
        "batch_acquisition_value": joint,
        "acquisition": "qLogNEI" if len(objectives) == 1 else "qLogNEHVI",
    }
    if clips:
        metrics["winsorized"] = {n: asdict(c) for n, c in clips.items()}
    if report.constant:
        metrics["constant_outcomes"] = dict(report.constant)
        metrics["warnings"] = list(report.warnings)
    if config.quality:
        metrics["quality"] = {n: loo_metrics(m).to_dict() for n, m in models.items()}
    metrics = finite_metrics(metrics)
    # A constant outcome's fallback is not a fit: its next round starts from scratch.
    state_models: dict[str, torch.nn.Module] = {n: m for n, m in models.items()
                                                if n not in report.constant}
    if failure_model is not None:
        state_models[SUCCESS_OUTPUT] = failure_model
    state = dump_state(state_models, extra={"outputs": outputs,
                                            "features": [c.name for c in encoder.columns]})
    metrics["total_seconds"] = time.perf_counter() - start
    return BOResult(suggestions=suggestions, model_state=state, metrics=metrics,
                    data_hash=data_hash(observations, pending), seed=seed)


def _hold(designs: list[dict[str, Any]], fixed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The designs with the fixed parameters set to the requested values exactly (a log-scale
    value's round trip through its logarithm may differ in the last bit)."""
    for design in designs:
        for name, value in fixed.items():
            design[name] = type(design[name])(value)
    return designs


def _scale(Y: Tensor, constant: float | None = None) -> float:
    """An outcome's spread in the data: its sd; for a constant outcome the prior sd of its
    fallback model; 1 when it has none."""
    if constant is not None:
        return constant_outcome_scale(constant)
    sd = float(Y.std()) if Y.numel() > 1 else 0.0
    return sd if sd > 1e-12 else 1.0

