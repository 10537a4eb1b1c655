r"""Observations as tensors: what each surrogate trains on.

:func:`assemble` turns a campaign's observations into per-outcome training sets in the
:class:`~models.bo.encoding.Encoder`'s features. It is the one gate through which data reach a
model, so it is where bad data are refused with a readable error: a non-finite outcome or
noise level never gets further (:class:`~models.bo.errors.BadObservationError`).

* A failed observation enters no outcome model; it is kept in :attr:`TrainingData.X_attempted`
  with ``failed = True`` for the failure model (:mod:`models.bo.failures`).
* An observation that lacks an outcome is left out of that outcome's model only.
* Noise: if every observation of an outcome gives its ``noise_sd``, the model uses these
  variances (fixed noise); otherwise the noise is inferred, and given values are ignored
  (recorded in :attr:`OutcomeData.noise`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from models.bo.encoding import Encoder
from models.bo.errors import BadObservationError
from models.bo.problem import Observation


@dataclass(frozen=True)
class OutcomeData:
    """The training set of one outcome.

    Attributes:
        name: The outcome.
        X: `n x d` features of the observations that carry it.
        Y: `n x 1` measured values.
        Yvar: `n x 1` known noise variances, or ``None`` when the noise is inferred.
        noise: ``"fixed"`` (all given), ``"inferred"`` (none given) or ``"inferred-partial"``
            (some given, ignored).
    """

    name: str
    X: Tensor
    Y: Tensor
    Yvar: Tensor | None
    noise: Literal["fixed", "inferred", "inferred-partial"]


@dataclass(frozen=True)
class TrainingData:
    """Everything the models of one suggest call train on.

    Attributes:
        outcomes: Outcome name -> its training set, in modelling order.
        X_observed: `n_ok x d` features of the successful observations (with any outcome):
            the baseline of the noisy acquisition functions.
        X_attempted: `n x d` features of every observation, failures included.
        failed: `n` booleans, ``True`` where the observation failed.
    """

    outcomes: dict[str, OutcomeData]
    X_observed: Tensor
    X_attempted: Tensor
    failed: Tensor

    @property
    def n_failed(self) -> int:
        return int(self.failed.sum())


def assemble(encoder: Encoder, observations: Sequence[Observation],
             names: Sequence[str]) -> TrainingData:
    r"""Per-outcome training sets from observations.

    Args:
        encoder: The space's feature encoding.
        observations: The campaign's observations, failures included.
        names: The outcomes to model.

    Returns:
        The training data.

    Raises:
        BadObservationError: A design is not one of the space, or an outcome or noise level is
            not a finite number (or a noise level is negative).

    Example:
        >>> from models.space.space import Space
        >>> encoder = Encoder(Space.from_dict({"parameters": [
        ...     {"type": "continuous", "name": "x", "lower": 0, "upper": 1}]}))
        >>> data = assemble(encoder, [Observation({"x": 0.5}, {"y": 1.0}),
        ...                           Observation({"x": 0.9}, failed=True)], ["y"])
        >>> data.outcomes["y"].Y, data.n_failed
        (tensor([[1.]], dtype=torch.float64), 1)
    """
    X_all = encoder.encode([o.parameters for o in observations])
    failed = torch.tensor([bool(o.failed) for o in observations], dtype=torch.bool)
    outcomes: dict[str, OutcomeData] = {}
    carries_any = torch.zeros(len(observations), dtype=torch.bool)
    for name in names:
        rows: list[int] = []
        values: list[float] = []
        variances: list[float | None] = []
        for n, obs in enumerate(observations):
            if obs.failed or name not in obs.outcomes:
                continue
            value = _finite(obs.outcomes[name], n, name, "outcome")
            sd = obs.noise_sd.get(name)
            if sd is not None:
                sd = _finite(sd, n, name, "noise_sd")
                if sd < 0:
                    raise BadObservationError(
                        f"observation {n}: noise_sd of {name!r} is negative ({sd})",
                        {"observation": n, "outcome": name, "noise_sd": sd})
            rows.append(n)
            values.append(value)
            variances.append(None if sd is None else sd * sd)
        index = torch.tensor(rows, dtype=torch.long)
        carries_any[index] = True
        given = [v for v in variances if v is not None]
        if rows and len(given) == len(rows):
            Yvar: Tensor | None = torch.tensor(given, dtype=torch.float64).unsqueeze(-1)
            noise: Literal["fixed", "inferred", "inferred-partial"] = "fixed"
        else:
            Yvar, noise = None, "inferred-partial" if given else "inferred"
        outcomes[name] = OutcomeData(
            name=name, X=X_all[index], Y=torch.tensor(values, dtype=torch.float64).reshape(-1, 1),
            Yvar=Yvar, noise=noise)
    return TrainingData(outcomes=outcomes, X_observed=X_all[carries_any & ~failed],
                        X_attempted=X_all, failed=failed)


def data_hash(observations: Sequence[Observation],
              pending: Sequence[Mapping[str, Any]] = ()) -> str:
    """SHA-256 of the observations and pending designs, in order: what a suggestion saw.

    Floats are written with ``repr`` (exact round trip), so the same data give the same hash
    in any process.
    """
    payload = {
        "observations": [{"parameters": dict(sorted(o.parameters.items())),
                          "outcomes": dict(sorted(o.outcomes.items())),
                          "noise_sd": dict(sorted(o.noise_sd.items())),
                          "failed": bool(o.failed)} for o in observations],
        "pending": [dict(sorted(p.items())) for p in pending],
    }
    text = json.dumps(payload, separators=(",", ":"), default=repr, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _finite(value: Any, n: int, name: str, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise BadObservationError(f"observation {n}: {what} of {name!r} must be a finite "
                                  f"number, got {value!r}",
                                  {"observation": n, "outcome": name, "field": what,
                                   "value": repr(value)})
    return number
