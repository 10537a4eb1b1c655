r"""Train a built-in physics case from a job: ``train_case(name, config, progress)``.

The service's training job calls this with the case name and a JSON config (validated here
against the case's typed settings: an unknown key raises
:class:`~models.pinn.errors.InvalidCaseConfigError`), and stores the returned
:class:`~models.design.rounds.TrainedModel` as a model version: ``weights`` (a torch state
dict as bytes), ``config`` (every setting used) and ``metrics`` (error against the case's
reference, timings, loss curves, solver statistics).

Cases are registered by name as ``"module:function"`` and imported only when trained.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import torch
from torch import nn

from models.design.rounds import TrainedModel

from ..errors import InvalidCaseConfigError, UnknownCaseError

__all__ = ["CASES", "Progress", "settings_from", "state_bytes", "train_case"]

#: ``progress(epoch, {loss term: value})``.
Progress = Callable[[int, dict[str, float]], None]

CASES: dict[str, str] = {
    "fisher_kpp_forward": "models.pinn.cases.jobs:fisher_kpp_forward",
    "fisher_kpp_inverse": "models.pinn.cases.jobs:fisher_kpp_inverse",
    "neo_hookean_bar": "models.pinn.cases.jobs:neo_hookean_bar",
    "fisher_kpp_parametric": "models.pinn.cases.parametric_jobs:fisher_kpp_parametric",
    "protein_expression": "models.neural_ode.jobs:protein_expression",
}

T = TypeVar("T")


def _silent(epoch: int, terms: dict[str, float]) -> None:
    """Default progress: nobody listens."""


def settings_from(cls: type[T], config: Mapping[str, Any]) -> T:
    """Build the dataclass ``cls`` from a JSON config, refusing unknown keys."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(config) - known)
    if unknown:
        raise InvalidCaseConfigError(f"unknown config keys {unknown}; known: {sorted(known)}",
                                     {"unknown": unknown, "known": sorted(known)})
    try:
        return cls(**dict(config))
    except (TypeError, ValueError) as error:
        raise InvalidCaseConfigError(str(error), {"config": dict(config)}) from error


def state_bytes(module: nn.Module) -> bytes:
    """The module's state dict serialised with :func:`torch.save`."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getvalue()


def train_case(name: str, config: Mapping[str, Any] | None = None,
               progress: Progress = _silent) -> TrainedModel:
    """Train the built-in case ``name`` (see :data:`CASES`) with ``config``.

    Raises:
        UnknownCaseError: ``name`` is not registered.
        InvalidCaseConfigError: The config has an unknown key or a bad value.
        NonFiniteLossError / StiffSolverError: Training failed (no model is returned).

    Example:
        >>> model = train_case("neo_hookean_bar", {"adam_epochs": 50,
        ...                    "lbfgs_iterations": 20})                # doctest: +SKIP
        >>> model.kind, model.metrics["rel_l2"] < 1e-2                  # doctest: +SKIP
        ('pinn', True)
    """
    try:
        target = CASES[name]
    except KeyError:
        raise UnknownCaseError(f"unknown case {name!r}; known: {sorted(CASES)}",
                               {"case": name, "known": sorted(CASES)}) from None
    module_name, _, attr = target.partition(":")
    trainer: Callable[[Mapping[str, Any], Progress], TrainedModel] = getattr(
        importlib.import_module(module_name), attr)
    return trainer(dict(config or {}), progress)
