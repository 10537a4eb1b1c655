"""NaN detection (Adam and L-BFGS stages), time budget and the Deep Ritz energy form."""

from __future__ import annotations

import pytest
import torch

from models.physics.hyperelastic import BarProblem, NeoHookean
from models.pinn.cases.neo_hookean import bar_error, bar_problem, plate_error, plate_problem
from models.pinn.coefficients import Coefficients
from models.pinn.domain import Box
from models.pinn.errors import NonFiniteLossError
from models.pinn.network import FieldNet
from models.pinn.problem import PINNProblem
from models.pinn.training import PINNConfig, train_pinn

BOX = Box((0.0,), (1.0,), ("x",))


def test_nan_in_a_loss_term_raises_a_typed_error_with_the_terms() -> None:
    def residual(x, u, c):  # type: ignore[no-untyped-def]
        return torch.log(u - 10.0)          # NaN: u is never above 10

    problem = PINNProblem(BOX, residual, {}, Coefficients())
    with pytest.raises(NonFiniteLossError) as info:
        train_pinn(problem, FieldNet(BOX, width=8, depth=1),
                   PINNConfig(adam_epochs=5, lbfgs_iterations=0, n_collocation=16))
    assert info.value.details["non_finite"] == ["pde"]
    assert info.value.details["stage"] == "adam"


def test_nan_first_met_in_the_lbfgs_stage_raises_with_that_stage() -> None:
    adam_epochs = 4
    broken = {"now": False}

    def residual(x, u, c):  # type: ignore[no-untyped-def]
        r = u - torch.sin(x)
        return r * float("nan") if broken["now"] else r

    def progress(epoch: int, terms: dict[str, float]) -> None:
        if epoch == adam_epochs - 1:        # the last Adam step is done: L-BFGS comes next
            broken["now"] = True

    problem = PINNProblem(BOX, residual, {}, Coefficients())
    with pytest.raises(NonFiniteLossError) as info:
        train_pinn(problem, FieldNet(BOX, width=8, depth=1),
                   PINNConfig(adam_epochs=adam_epochs, lbfgs_iterations=20, n_collocation=16,
                              log_every=1), progress)
    assert info.value.details["stage"] == "lbfgs"
    assert info.value.details["epoch"] == adam_epochs
    assert info.value.details["non_finite"] == ["pde"]
    assert info.value.details["terms"] == {"pde": None}
    assert info.value.message == f"non-finite loss at lbfgs step {adam_epochs} in term(s) ['pde']"


def test_a_nan_gradient_in_lbfgs_is_caught_before_a_broken_net_is_returned() -> None:
    def residual(x, u, c):  # type: ignore[no-untyped-def]
        return u - torch.sin(x) + torch.sqrt(0.0 * u)     # finite (0), but d/du is NaN

    problem = PINNProblem(BOX, residual, {}, Coefficients())
    with pytest.raises(NonFiniteLossError) as info:
        train_pinn(problem, FieldNet(BOX, width=8, depth=1),
                   PINNConfig(adam_epochs=0, lbfgs_iterations=20, n_collocation=16))
    assert info.value.details["stage"] == "lbfgs"
    assert info.value.details["non_finite"] == ["pde"]


def test_max_seconds_stops_training() -> None:
    def residual(x, u, c):  # type: ignore[no-untyped-def]
        return u - torch.sin(x)

    problem = PINNProblem(BOX, residual, {}, Coefficients())
    result = train_pinn(problem, FieldNet(BOX, width=8, depth=1),
                        PINNConfig(adam_epochs=10**6, lbfgs_iterations=10**6,
                                   n_collocation=32, max_seconds=0.5))
    assert result.seconds < 3.0 and result.epochs < 10**6


def test_positive_coefficients_start_at_the_guess() -> None:
    c = Coefficients(known={"a": 2.0}, unknown={"D": 0.05})
    assert c.estimates()["D"] == pytest.approx(0.05)
    assert c.values()["a"] == 2.0
    with pytest.raises(ValueError):
        Coefficients(unknown={"D": -1.0})


def test_deep_ritz_bar_matches_the_exact_nonuniform_solution() -> None:
    bar = BarProblem(material=NeoHookean())
    problem, net = bar_problem(bar, width=16, quadrature=48)
    result = train_pinn(problem, net, PINNConfig(adam_epochs=200, lbfgs_iterations=150,
                                                 learning_rate=1e-2, dtype="float64"))
    assert bar_error(net, bar) < 1e-3
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_deep_ritz_plate_matches_uniaxial_stretch() -> None:
    material = NeoHookean()
    problem, net = plate_problem(0.8, material, width=16, quadrature=10)
    train_pinn(problem, net, PINNConfig(adam_epochs=200, lbfgs_iterations=150,
                                        learning_rate=1e-2, dtype="float64"))
    error, (l1, _) = plate_error(net, 0.8, material)
    assert error < 2e-3 and l1 > 1.2
