r"""Outcome surrogates: one exact GP per outcome, fitted by marginal likelihood.

Each outcome gets a BoTorch ``SingleTaskGP`` (``MixedSingleTaskGP`` when the space has
categorical features: a sum and product of a continuous and a Hamming-distance kernel) on its
own observations; together they form a ``ModelListGP``, so outcomes measured on different
designs are fine. Every model

* normalises its inputs to the unit cube (``Normalize`` over the encoder's bounds, not the
  data's, so the same design maps to the same point in every round; categorical indices are
  left alone);
* standardises its outcome (``Standardize``);
* uses the known noise variances when every observation gives one (fixed noise), and infers a
  homoscedastic noise otherwise (see :mod:`models.bo.data`);
* optionally has a saturating prior mean (:mod:`models.bo.prior_mean`).

Warm start: given the state of the campaign's previous model version, every hyperparameter
(the ``raw_*`` parameters: lengthscales, scales, noise, mean parameters) whose name and shape
match is loaded before fitting, and the fit is capped at ``GPConfig.warm_max_iterations``. The
data-sized buffers (transforms, fixed noise) are never copied. A state is plain tensors in
nested dicts, serialised with :func:`torch.save` and read back with ``weights_only=True``.

Constant outcomes (a deliberate fallback, not a fit): when every observation of an outcome has
the same value (an assay at its detection limit or saturated, a constraint nobody came near),
the marginal likelihood has no proper optimum: it drives the signal variance (and the noise) to
zero, so a "successful" fit claims to know the outcome exactly *everywhere*, e.g.
``P(constraint met) = 1`` in corners of the space nobody measured. Refusing the job instead
would stall the campaign (the next round sees the same data). So such an outcome gets
:func:`constant_outcome_model`: a GP that is *not fitted*; its mean is the observed value, its
kernel and noise keep their documented starting values (BoTorch's: the lengthscale at its
prior's initial value, the inferred noise at its initial value, or the known noise), and its
prior sd is :func:`constant_outcome_scale` (``|value|``, or 1 for a value of 0, in the
outcome's units). Near the data it predicts the value confidently; away from it, it is
uncertain, so the acquisition explores instead of trusting a degenerate model. The fit report
lists the outcome (:attr:`FitReport.constant`) and a warning for a person; the state of such a
model is not kept for warm starts (:func:`fit_outcome_models` callers drop it), so the next
round fits the outcome from scratch once its values differ.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from botorch.exceptions.warnings import InputDataWarning, OptimizationWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.gp_regression_mixed import MixedSingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.means import Mean
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor

from models.bo.config import GPConfig, HillPriorConfig
from models.bo.data import OutcomeData
from models.bo.encoding import Encoder
from models.bo.errors import ModelFitError, NotEnoughDataError
from models.bo.log_lbfgs import fit_in_log_coordinates
from models.bo.marginal_likelihood import fit_closure
from models.bo.prior_mean import HillMean

#: Version of the serialised state; bump when its layout changes.
STATE_VERSION = 1
#: Floor on known noise variances, relative to the outcome's variance (keeps K invertible;
#: GPyTorch rounds standardised noise below 1e-6 up to that, with a warning).
MIN_RELATIVE_NOISE_VARIANCE = 2e-6
#: An outcome whose values spread by at most this much (relative to ``max(1, max |y|)``) is
#: constant: it gets :func:`constant_outcome_model` instead of a fit.
CONSTANT_RELATIVE_SPREAD = 1e-9


@dataclass
class FitReport:
    """How the fits of one round went.

    Attributes:
        seconds: Wall time of each outcome's fit.
        warm_started: Whether each outcome's fit started from a previous state.
        noise: Each outcome's noise treatment (``"fixed"``, ``"inferred"``, ...).
        constant: The outcomes whose observations all had one value -> that value; their
            models are the unfitted fallback of :func:`constant_outcome_model`.
        warnings: Sentences for a person (e.g. why an outcome was not fitted).
    """

    seconds: dict[str, float] = field(default_factory=dict)
    warm_started: dict[str, bool] = field(default_factory=dict)
    noise: dict[str, str] = field(default_factory=dict)
    constant: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def build_gp(X: Tensor, Y: Tensor, Yvar: Tensor | None, encoder: Encoder,
             mean_module: Mean | None = None) -> SingleTaskGP:
    r"""An unfitted GP of one outcome.

    Args:
        X: `n x d` features.
        Y: `n x 1` outcomes.
        Yvar: `n x 1` known noise variances, or ``None`` to infer the noise.
        encoder: The feature encoding (bounds, categorical features).
        mean_module: A prior mean (default: a learned constant).

    Returns:
        A ``SingleTaskGP`` (or ``MixedSingleTaskGP``) in float64.
    """
    X, Y = X.to(torch.float64), Y.to(torch.float64)
    if Yvar is not None:
        floor = MIN_RELATIVE_NOISE_VARIANCE * max(float(Y.var()) if Y.numel() > 1 else 0.0, 1e-12)
        Yvar = Yvar.to(torch.float64).clamp_min(floor)
    d = encoder.dimension
    cat = sorted(encoder.cat_dims)
    ordinal = [i for i in range(d) if i not in cat]
    bounds = encoder.bounds
    if cat:
        transform = Normalize(d=d, indices=ordinal, bounds=bounds[:, ordinal]) if ordinal \
            else None
        model: SingleTaskGP = MixedSingleTaskGP(
            X, Y, cat_dims=cat, train_Yvar=Yvar, input_transform=transform,
            outcome_transform=Standardize(m=1))
        if mean_module is not None:
            model.mean_module = mean_module.to(X)
    else:
        model = SingleTaskGP(X, Y, train_Yvar=Yvar, mean_module=mean_module,
                             input_transform=Normalize(d=d, bounds=bounds),
                             outcome_transform=Standardize(m=1))
    return model


def hill_mean_for(encoder: Encoder, config: HillPriorConfig, X: Tensor,
                  Y: Tensor) -> HillMean:
    r"""A :class:`HillMean` on ``config.parameter``'s feature, initialised from the data.

    Args:
        encoder: The feature encoding.
        config: Which parameter, and the Hill coefficient's bounds.
        X: `n x d` training features.
        Y: `n x 1` training outcomes (raw units; standardised here as the model will).

    Raises:
        ValueError: The parameter is not a continuous or integer one with bounds >= 0.
    """
    index = encoder.column_index(config.parameter)
    column = encoder.columns[index]
    if column.kind not in ("continuous", "log", "integer"):
        raise ValueError(f"a Hill prior mean needs a continuous or integer parameter; "
                         f"{config.parameter!r} is {column.kind}")
    parameter = next(p for p in encoder.space.parameters if p.name == config.parameter)
    lower, upper = float(parameter.lower), float(parameter.upper)  # type: ignore[union-attr]
    mean = HillMean(column=index, lower=lower, upper=upper, log_scale=column.kind == "log",
                    hill_bounds=config.hill_bounds).to(torch.float64)
    u = (X[:, index] - column.lower) / (column.upper - column.lower)
    y = Y.reshape(-1)
    y = (y - y.mean()) / y.std().clamp_min(1e-12) if y.numel() > 1 else y - y.mean()
    return mean.initialize_from_data(u, y)


def fit_gp(model: SingleTaskGP, config: GPConfig, *, warm: bool = False,
           name: str = "outcome") -> None:
    r"""Fit a GP's hyperparameters by maximising the exact marginal likelihood (L-BFGS-B).

    Args:
        model: The model, hyperparameters at their starting values.
        config: Iteration caps and fit attempts.
        warm: The starting values come from a previous fit (use the smaller cap).
        name: The outcome, for error messages.

    Raises:
        ModelFitError: Every attempt failed numerically.
    """
    maxiter = config.warm_max_iterations if warm else config.max_iterations
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    closure = fit_closure(mll) if config.torch_likelihood else None
    # Our closures are solved with the positive hyperparameters in log coordinates
    # (models.bo.log_lbfgs); GPyTorch's own closure keeps BoTorch's solver.
    extra: dict[str, Any] = {} if closure is None else {"optimizer": fit_in_log_coordinates}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizationWarning)
            fit_gpytorch_mll(mll, closure=closure,
                             optimizer_kwargs={"options": {"maxiter": maxiter}},
                             max_attempts=config.max_attempts, **extra)
    except Exception as exc:  # botorch raises ModelFittingError, linear algebra NotPSDError
        raise ModelFitError(f"could not fit the model of {name!r}: {exc}",
                            {"outcome": name, "error": f"{type(exc).__name__}: {exc}"}) from exc
    model.eval()


def is_constant(Y: Tensor) -> bool:
    """Whether the outcomes all have one value (up to :data:`CONSTANT_RELATIVE_SPREAD`)."""
    if Y.numel() == 0:
        return False
    spread = float(Y.max() - Y.min())
    return spread <= CONSTANT_RELATIVE_SPREAD * max(1.0, float(Y.abs().max()))


def constant_outcome_scale(value: float) -> float:
    """The prior sd of a constant outcome's fallback model: ``|value|``, or 1 when it is 0.

    The data carry no scale, so the value's own magnitude is the one unit-free choice: a
    constraint measured at -1 with threshold 0 is, far from the data, feasible with
    probability ~0.84, not 1.
    """
    return abs(value) if abs(value) > 1e-12 else 1.0


def constant_outcome_model(X: Tensor, Y: Tensor, Yvar: Tensor | None,
                           encoder: Encoder) -> SingleTaskGP:
    r"""The deliberate fallback for an outcome whose observations all have one value.

    See the module's notes: an unfitted GP whose mean is the value, whose prior sd is
    :func:`constant_outcome_scale`, and whose lengthscales and noise keep their starting values
    (known noise variances are used as given).

    Args:
        X: `n x d` features.
        Y: `n x 1` outcomes, all equal.
        Yvar: `n x 1` known noise variances, or ``None``.
        encoder: The feature encoding.

    Returns:
        The model, in eval mode.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputDataWarning)  # the zero spread is the point
        model = build_gp(X, Y, Yvar, encoder)
    value = float(Y.reshape(-1)[0])
    scale = constant_outcome_scale(value)
    transform = model.outcome_transform
    with torch.no_grad():
        # Standardize met a zero sd and used 1; the targets are all 0 either way, so only the
        # scale the posterior is mapped back with changes.
        transform.means.fill_(value)  # type: ignore[union-attr, operator]
        transform.stdvs.fill_(scale)  # type: ignore[union-attr, operator]
        transform._stdvs_sq.fill_(scale * scale)  # type: ignore[union-attr, operator]
        if Yvar is not None:
            floor = MIN_RELATIVE_NOISE_VARIANCE  # relative to the prior variance (1)
            model.likelihood.noise = (Yvar.to(torch.float64).reshape(-1) / scale**2
                                      ).clamp_min(floor)
    model.eval()
    return model


def fit_outcome_models(outcomes: Mapping[str, OutcomeData], encoder: Encoder,
                       config: GPConfig, previous_state: Mapping[str, Any] | None = None,
                       min_observations: int = 2) -> tuple[dict[str, SingleTaskGP], FitReport]:
    r"""Build and fit one GP per outcome.

    Args:
        outcomes: Outcome name -> training set (see :func:`models.bo.data.assemble`).
        encoder: The feature encoding.
        config: Fitting configuration (prior mean, iteration caps, warm start).
        previous_state: A state read by :func:`load_state`: hyperparameters to start from.
        min_observations: Fewest observations an outcome needs.

    Returns:
        Outcome name -> fitted model (eval mode), and a report of the fits. An outcome whose
        observations all have one value gets the unfitted :func:`constant_outcome_model`
        instead (listed in ``report.constant``, with a warning): never a degenerate fit.

    Raises:
        NotEnoughDataError: An outcome has fewer than ``min_observations`` observations.
        ModelFitError: A fit failed.
    """
    report = FitReport()
    fitted: dict[str, SingleTaskGP] = {}
    previous = (previous_state or {}).get("models", {}) if config.warm_start else {}
    for name, data in outcomes.items():
        n = data.Y.shape[0]
        if n < min_observations:
            raise NotEnoughDataError(
                f"outcome {name!r} has {n} successful observations; at least "
                f"{min_observations} are needed to model it",
                {"outcome": name, "observations": n, "required": min_observations})
        start = time.perf_counter()
        if is_constant(data.Y):
            value = float(data.Y.reshape(-1)[0])
            fitted[name] = constant_outcome_model(data.X, data.Y, data.Yvar, encoder)
            report.seconds[name] = time.perf_counter() - start
            report.warm_started[name] = False
            report.noise[name] = data.noise
            report.constant[name] = value
            report.warnings.append(
                f"outcome {name!r} has the same value ({value:g}) in all {n} successful "
                f"observations: a GP cannot be fitted to it, so it is modelled as flat at that "
                f"value with prior uncertainty (sd {constant_outcome_scale(value):g}) away from "
                f"the data until its values differ")
            continue
        mean = None
        prior = config.prior_mean
        if prior is not None and (prior.outcomes is None or name in prior.outcomes):
            mean = hill_mean_for(encoder, prior, data.X, data.Y)
        model = build_gp(data.X, data.Y, data.Yvar, encoder, mean_module=mean)
        warm = name in previous and load_hyperparameters(model, previous[name]) > 0
        fit_gp(model, config, warm=warm, name=name)
        fitted[name] = model
        report.seconds[name] = time.perf_counter() - start
        report.warm_started[name] = warm
        report.noise[name] = data.noise
    return fitted, report


def model_list(models: Mapping[str, SingleTaskGP]) -> ModelListGP:
    """The models as one ``ModelListGP``, outputs in the mapping's order."""
    return ModelListGP(*models.values())


# --------------------------------------------------------------------------- state


def hyperparameters(model: torch.nn.Module) -> dict[str, Tensor]:
    """The model's ``raw_*`` parameters (no data-sized buffers), detached copies."""
    return {key: value.detach().clone() for key, value in model.state_dict().items()
            if key.rsplit(".", 1)[-1].startswith("raw_")}


def load_hyperparameters(model: torch.nn.Module, state: Mapping[str, Tensor]) -> int:
    """Copy the hyperparameters whose names and shapes match; return how many were copied."""
    own = model.state_dict()
    matching = {k: v for k, v in state.items()
                if k in own and k.rsplit(".", 1)[-1].startswith("raw_")
                and own[k].shape == v.shape}
    if matching:
        model.load_state_dict(matching, strict=False)
    return len(matching)


def dump_state(models: Mapping[str, torch.nn.Module], extra: Mapping[str, Any] | None = None
               ) -> bytes:
    r"""Serialise the models' hyperparameters (and plain extra data) to bytes.

    Args:
        models: Name -> model (outcome models, and e.g. ``"__failure__"``).
        extra: JSON-like metadata kept beside them (feature names, config).

    Returns:
        Bytes for :func:`load_state`.
    """
    payload = {"version": STATE_VERSION,
               "models": {name: hyperparameters(model) for name, model in models.items()},
               "extra": dict(extra or {})}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def load_state(blob: bytes) -> dict[str, Any]:
    r"""Read :func:`dump_state`'s bytes (tensors and plain containers only).

    Returns:
        ``{"version", "models": {name: {key: tensor}}, "extra"}``; an empty dict for a state
        of another version (a warm start is an optimisation, never a requirement).
    """
    payload = torch.load(io.BytesIO(blob), weights_only=True)
    if not isinstance(payload, dict) or payload.get("version") != STATE_VERSION:
        return {}
    return payload
