"""Training stops with a readable typed error when the loss or the model goes NaN/inf."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from models.neural_ode.data import TrajectoryBatch
from models.neural_ode.errors import NonFiniteFieldError, NonFiniteODELossError
from models.neural_ode.field import ODEField
from models.neural_ode.solve import SolverOptions
from models.neural_ode.training import NeuralODEConfig, train_neural_ode


def _decay_data(rate: float = 3.0) -> TrajectoryBatch:
    times = np.array([0.25, 0.5, 0.75, 1.0])
    values = np.exp(-rate * times)[:, None]
    return TrajectoryBatch.build([times], [values], np.array([0.0]), np.array([1.0]))


def _config(learning_rate: float = 0.5, fallback: str | None = "sdirk2") -> NeuralODEConfig:
    return NeuralODEConfig(epochs_per_stage=5, horizons=(1.0,), learning_rate=learning_rate,
                           solver=SolverOptions(rtol=1e-5, atol=1e-7, fallback=fallback),
                           log_every=1)


class BreaksWhenFast(ODEField):
    """dy/dt = -k y while k <= 1.2, NaN beyond: the first Adam step (k: 1 -> 1.5, towards the
    data's rate 3) breaks it."""

    def __init__(self) -> None:
        super().__init__()
        self.k = nn.Parameter(torch.tensor(1.0))

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return torch.where(self.k > 1.2, torch.full_like(y, float("nan")), -self.k * y)


class Overflowing(ODEField):
    """A finite but huge trajectory (y ~ 1e30): its squared error overflows float32."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Parameter(torch.tensor(1.0))

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return 1e30 * self.c * torch.ones_like(y)


@pytest.mark.parametrize("fallback", [None, "sdirk2"])
def test_a_model_turning_nan_mid_training_raises_the_typed_error_with_the_epoch(
        fallback: str | None) -> None:
    field = BreaksWhenFast()
    seen: list[int] = []
    with pytest.raises(NonFiniteODELossError) as info:
        train_neural_ode(field, _decay_data(), _config(fallback=fallback),
                         lambda epoch, terms: seen.append(epoch))
    error = info.value
    assert isinstance(error, NonFiniteFieldError)
    assert seen == [0]                                   # epoch 0 trained, epoch 1 broke
    assert error.details["epoch"] == 1 and error.details["where"] == "derivative"
    assert error.message.startswith("the model produced NaN/inf at training epoch 1: "
                                    "non-finite derivative")
    assert field.stats.fallbacks == 0                    # not mistaken for stiffness


def test_non_finite_parameters_after_a_step_are_reported_by_name() -> None:
    field = BreaksWhenFast()
    with torch.no_grad():
        field.k.fill_(float("nan"))
    with pytest.raises(NonFiniteFieldError) as info:
        train_neural_ode(field, _decay_data(), _config())
    assert info.value.details["parameters"] == ["k"] and info.value.details["epoch"] == 0
    assert "non-finite parameters ['k']" in info.value.message


def test_an_overflowing_loss_raises_a_readable_non_finite_loss_error() -> None:
    with pytest.raises(NonFiniteODELossError) as info:
        train_neural_ode(Overflowing(), _decay_data(), _config())
    error = info.value
    assert not isinstance(error, NonFiniteFieldError)    # the trajectory itself was finite
    assert error.details == {"epoch": 0, "horizon": 1.0}
    assert error.message.startswith("non-finite loss (NaN/inf) at epoch 0, horizon 1 of the "
                                    "series")


def test_the_training_picture_leaves_out_every_solver_counter_of_the_history() -> None:
    from service.plots.training import NOT_TERMS, terms

    field = BreaksWhenFast()
    result = train_neural_ode(field, _decay_data(), NeuralODEConfig(
        epochs_per_stage=2, horizons=(1.0,), learning_rate=1e-3, log_every=1))
    assert set(field.stats.as_dict()) <= NOT_TERMS
    assert set(terms(result.history)) == {"loss"}
