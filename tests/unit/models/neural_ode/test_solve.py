"""Solving neural ODEs: analytic solutions, statistics, adjoint vs direct gradients, the stiff
fallback, and a model producing NaN/inf told apart from stiffness."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp
from torch import Tensor, nn

from models.gradcheck import check_gradient
from models.neural_ode.errors import (
    NonFiniteFieldError,
    NonFiniteODELossError,
    StiffSolverError,
)
from models.neural_ode.field import ODEField
from models.neural_ode.implicit import sdirk2
from models.neural_ode.solve import SolverOptions, solve


class Decay(ODEField):
    """dy/dt = -k y (k trainable): y = y0 exp(-k t)."""

    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = nn.Parameter(torch.tensor(k, dtype=torch.float64))

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return -self.k * y


class FastBinding(ODEField):
    """Stiff kinetics: A <-> B at k = 1e6 /s both ways, A fed by a slow oscillating source;
    the clock starts at t = 1000 s. Exact slow manifold: A = B."""

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        a, b = y[..., 0:1], y[..., 1:2]
        k = 1e6
        return torch.cat([-k * a + k * b + 0.1 * torch.cos(t), k * a - k * b], dim=-1)


T = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64)


def test_decay_matches_exp_and_counts_steps() -> None:
    field = Decay(1.3)
    y = solve(field, torch.ones(2, 1, dtype=torch.float64), T, SolverOptions(rtol=1e-9,
                                                                            atol=1e-12))
    np.testing.assert_allclose(y[:, 0, 0].detach().numpy(), np.exp(-1.3 * T.numpy()),
                               rtol=1e-7)
    s = field.stats
    assert s.nfe > 0 and s.accepted > 0
    assert s.attempted == s.accepted + s.rejected


@pytest.mark.parametrize("adjoint", [False, True])
def test_gradients_direct_and_adjoint_match_central_differences(adjoint: bool) -> None:
    options = SolverOptions(rtol=1e-10, atol=1e-12, adjoint=adjoint, time_dtype="float64")

    def final(k: Tensor) -> Tensor:
        field = Decay(1.0)
        with torch.no_grad():
            field.k.copy_(k[0])
        field.k.requires_grad_(torch.is_grad_enabled())
        out = solve(field, torch.ones(1, 1, dtype=torch.float64), T, options)[-1, 0, 0]
        if torch.is_grad_enabled():
            (g,) = torch.autograd.grad(out, field.k)
            return out + (k[0] - k[0].detach()) * g    # carry d out/dk onto k
        return out

    k = torch.tensor([0.7], dtype=torch.float64)
    result = check_gradient(final, k, rtol=1e-6, atol=1e-10)
    result.raise_if_failed()
    assert float(result.analytic[0]) == pytest.approx(-2.0 * math.exp(-1.4), rel=1e-6)


def test_stiff_kinetics_underflows_with_a_clear_error() -> None:
    t = torch.tensor([1000.0, 1000.5, 1001.0])
    with pytest.raises(StiffSolverError) as info:
        solve(FastBinding(), torch.ones(1, 2), t, SolverOptions(fallback=None, max_steps=5000))
    assert info.value.details["reason"] == "step-size underflow"
    assert "stiff" in info.value.message


def test_stiff_fallback_matches_a_radau_reference() -> None:
    field = FastBinding()
    t = torch.tensor([1000.0, 1000.5, 1001.0])
    y = solve(field, torch.ones(1, 2), t, SolverOptions(max_steps=5000, fallback_step=0.02))
    assert field.stats.fallbacks == 1

    def rhs(time: float, v: np.ndarray) -> np.ndarray:
        return np.array([-1e6 * v[0] + 1e6 * v[1] + 0.1 * np.cos(time), 1e6 * (v[0] - v[1])])

    ref = solve_ivp(rhs, (1000.0, 1001.0), [1.0, 1.0], method="Radau", t_eval=t.double().numpy(),
                    rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y[:, 0].double().numpy(), ref.y.T, rtol=2e-4)


def test_step_budget_exhaustion_is_reported_too() -> None:
    with pytest.raises(StiffSolverError) as info:
        solve(FastBinding(), torch.ones(1, 2, dtype=torch.float64),
              torch.tensor([0.0, 1.0], dtype=torch.float64),
              SolverOptions(fallback=None, max_steps=200))
    assert info.value.details["reason"] == "too many steps"


def test_sdirk2_is_second_order() -> None:
    def f(t: Tensor, y: Tensor) -> Tensor:
        return -2.0 * y + torch.sin(t)

    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    y0 = torch.ones(1, dtype=torch.float64)
    exact = (math.exp(-2.0) * (1 + 1 / 5) + (2 * math.sin(1.0) - math.cos(1.0)) / 5)
    errors = [abs(float(sdirk2(f, y0, t, h)[-1, 0]) - exact) for h in (0.1, 0.05, 0.025)]
    assert 3.5 < errors[0] / errors[1] < 4.5 and 3.5 < errors[1] / errors[2] < 4.5, errors


class NaNField(ODEField):
    """A broken model: its derivative is NaN everywhere."""

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return y * float("nan")


class NaNLater(ODEField):
    """Decay whose output turns NaN once t > 0.5 (the solver reaches it mid-trajectory)."""

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return torch.where(t > 0.5, torch.full_like(y, float("nan")), -y)


class Quadratic(ODEField):
    """dy/dt = y²: with y0 = 1 the solution blows up at t = 1."""

    def rhs(self, t: Tensor, y: Tensor) -> Tensor:
        return y * y


FALLBACKS = [None, "sdirk2", "rk4"]


@pytest.mark.filterwarnings("ignore:Solver 'rk4' does not support callbacks")
@pytest.mark.parametrize("fallback", FALLBACKS)
@pytest.mark.parametrize("field_type", [NaNField, NaNLater])
def test_a_model_producing_nan_raises_a_clear_error_not_the_stiff_one(
        field_type: type[ODEField], fallback: str | None) -> None:
    field = field_type()
    with pytest.raises(NonFiniteFieldError) as info:
        solve(field, torch.ones(1, 2), torch.tensor([0.0, 1.0, 2.0]),
              SolverOptions(fallback=fallback, max_steps=5000))
    assert not isinstance(info.value, StiffSolverError)
    assert isinstance(info.value, NonFiniteODELossError)      # callers catch both alike
    assert "the model produced NaN/inf" in info.value.message
    assert info.value.details["where"] == "derivative"
    assert info.value.details["method"] == "dopri5"
    time = info.value.details["time"]
    assert time is not None and (time <= 0.5 if field_type is NaNLater else time == 0.0)
    assert field.stats.fallbacks == 0               # never handed to the fallback


@pytest.mark.parametrize("fallback", [None, "sdirk2"])
def test_non_finite_parameters_are_named(fallback: str | None) -> None:
    field = Decay(1.0)
    with torch.no_grad():
        field.k.fill_(float("inf"))
    with pytest.raises(NonFiniteFieldError) as info:
        solve(field, torch.ones(1, 1, dtype=torch.float64), T, SolverOptions(fallback=fallback))
    assert info.value.details["where"] == "parameters"
    assert info.value.details["parameters"] == ["k"]
    assert "['k']" in info.value.message


def test_a_non_finite_initial_state_is_reported_as_such() -> None:
    y0 = torch.tensor([[1.0, float("nan")]])
    with pytest.raises(NonFiniteFieldError) as info:
        solve(FastBinding(), y0, torch.tensor([0.0, 1.0]))
    assert info.value.details["where"] == "initial state"


@pytest.mark.filterwarnings("ignore:Solver 'rk4' does not support callbacks")
@pytest.mark.parametrize("fallback", ["sdirk2", "rk4"])
def test_the_fallback_never_returns_a_non_finite_trajectory(fallback: str) -> None:
    # finite-time blow-up: dopri5 underflows (a finite but huge state), the fallback runs into
    # inf/NaN — raised, not returned
    field = Quadratic()
    with pytest.raises(NonFiniteFieldError) as info:
        solve(field, torch.ones(1, 1), torch.tensor([0.0, 1.0, 2.0]),
              SolverOptions(fallback=fallback, max_steps=5000, fallback_step=0.1))
    assert field.stats.fallbacks == 1
    assert info.value.details["where"] == "trajectory"
    assert info.value.details["method"] == f"{fallback} fallback"
    assert info.value.details["time"] in (1.0, 2.0)


def test_a_fixed_step_solver_never_returns_nan_either() -> None:
    with pytest.raises(NonFiniteFieldError) as info:
        solve(NaNLater(), torch.ones(1, 1), torch.tensor([0.0, 0.4, 1.0]),
              SolverOptions(method="rk4", step_size=0.1))
    assert info.value.details == {"where": "trajectory", "method": "rk4", "time": 1.0,
                                  "parameters": [], "epoch": None}


def test_the_stiff_fallback_still_applies_after_the_finiteness_checks() -> None:
    field = FastBinding()
    y = solve(field, torch.ones(1, 2), torch.tensor([1000.0, 1000.5]),
              SolverOptions(max_steps=5000, fallback_step=0.05))
    assert field.stats.fallbacks == 1 and bool(torch.isfinite(y).all())
    assert field.last_state is None                  # the watch is reset after each solve


def test_the_non_finite_error_pickles_with_its_details() -> None:
    error = NonFiniteFieldError("derivative", "dopri5", 0.25).at_epoch(3)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is NonFiniteFieldError and again.details == error.details
    assert again.details["epoch"] == 3 and "epoch 3" in again.message
