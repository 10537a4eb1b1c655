"""End-to-end gradients of load and friction w.r.t. design parameters, against truth.

Two kinds of truth: central differences (:func:`models.gradcheck.check_gradient`, float64)
at designs where no node changes cavitation state within the difference step, and the
derivatives of the closed forms. Each linear-solver path is covered: dense (small), cyclic
reduction (1D, more than 400 unknowns), block Thomas (2D, more than 400 unknowns).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from models.gradcheck import central_difference_step, check_gradient
from models.physics.lubrication import (
    DimpleTexture,
    FreeFormProfile,
    Grid,
    GrooveTexture,
    InclinedPad,
    LubricationSolution,
    RayleighStep,
    analytic,
    simulate,
)


def wavy_profile(m: int = 32) -> torch.Tensor:
    """Film values that converge, diverge (cavitation) and converge again (reformation)."""
    x = (torch.arange(m, dtype=torch.float64) + 0.5) / m
    noise = torch.rand(m, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return 1.1 + 0.2 * (1 - x) + torch.sin(2 * math.pi * x) ** 2 + 0.05 * noise


def cached(solve: Callable[[torch.Tensor], LubricationSolution]
           ) -> Callable[[torch.Tensor], LubricationSolution]:
    """Reuse no-grad solutions: the difference quotients of load, of friction and the
    active-set check all evaluate the same perturbed designs."""
    memo: dict[bytes, LubricationSolution] = {}

    def wrapper(x: torch.Tensor) -> LubricationSolution:
        if x.requires_grad:
            return solve(x)
        key = x.detach().numpy().tobytes()
        if key not in memo:
            memo[key] = solve(x)
        return memo[key]

    return wrapper


def assert_active_set_is_stable(solve: Callable[[torch.Tensor], LubricationSolution],
                                x: torch.Tensor) -> None:
    """Central differences are only meaningful if no node changes state within the step."""
    base = solve(x).cavitated
    steps = central_difference_step(x).reshape(-1)
    for i in range(x.numel()):
        for sign in (-1.0, 1.0):
            shifted = x.clone().reshape(-1)
            shifted[i] += sign * steps[i]
            assert torch.equal(solve(shifted.reshape(x.shape)).cavitated, base)


@pytest.mark.parametrize(("model", "nx"), [("jfo", 129), ("reynolds", 129), ("jfo", 513)])
def test_free_form_profile_gradients(model: str, nx: int) -> None:
    grid = Grid.line(nx)
    raw = FreeFormProfile.from_values(wavy_profile(), h_min=1.0, h_max=3.0).raw

    @cached
    def solve(v: torch.Tensor) -> LubricationSolution:
        return simulate(FreeFormProfile(v, 1.0, 3.0), grid, cavitation=model)

    solution = solve(raw)
    assert solution.cavitated.any()            # a cavity, and (JFO) a reformation after it
    assert_active_set_is_stable(solve, raw)
    for output in ("load", "friction"):
        result = check_gradient(lambda v, o=output: getattr(solve(v), o), raw,
                                rtol=1e-5, atol=1e-9)
        result.raise_if_failed()
        assert result.analytic.abs().max() > 1e-3


def test_linear_profile_gradients_as_a_vector_output() -> None:
    grid = Grid.line(97)
    raw = FreeFormProfile.from_values(wavy_profile(48), 1.0, None, "linear").raw

    def outputs(v: torch.Tensor) -> torch.Tensor:
        sol = simulate(FreeFormProfile(v, 1.0, None, "linear"), grid)
        return torch.stack([sol.load, sol.friction, sol.friction_coefficient])

    check_gradient(outputs, raw, rtol=1e-5, atol=1e-9).raise_if_failed()


def test_dimple_parameter_gradients_2d() -> None:
    grid = Grid.pad(41, 21, 1.0)   # 741 unknowns: the block-Thomas path
    params = torch.tensor([1.5, 0.06, 0.35, 0.55], dtype=torch.float64)  # 16 nodes cavitate

    @cached
    def solve(p: torch.Tensor) -> LubricationSolution:
        texture = DimpleTexture(p[0], p[1], p[2], p[3], base=InclinedPad(0.2))
        return simulate(texture, grid, cavitation="jfo")

    assert solve(params).cavitated.any()
    assert_active_set_is_stable(solve, params)
    for output in ("load", "friction"):
        result = check_gradient(lambda p, o=output: getattr(solve(p), o), params,
                                rtol=1e-5, atol=1e-9)
        result.raise_if_failed()


def test_groove_parameter_gradients_1d() -> None:
    grid = Grid.line(201)
    params = torch.tensor([2.0, 0.04, 0.5, 0.7, 0.8], dtype=torch.float64)

    def outputs(p: torch.Tensor) -> torch.Tensor:
        texture = GrooveTexture(p[0], p[1], p[2], p[3], base=InclinedPad(p[4]))
        sol = simulate(texture, grid)
        return torch.stack([sol.load, sol.friction])

    check_gradient(outputs, params, rtol=1e-5, atol=1e-9).raise_if_failed()


def test_plane_slider_gradient_matches_the_closed_form_derivative() -> None:
    k = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    sol = simulate(InclinedPad(k), Grid.line(401))
    dw, df = (torch.autograd.grad(out, k, retain_graph=True)[0] for out in (sol.load,
                                                                           sol.friction))
    exact_k = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    ew = torch.autograd.grad(analytic.inclined_slider_load(exact_k), exact_k)[0]
    ef = torch.autograd.grad(analytic.inclined_slider_friction(exact_k), exact_k)[0]
    assert float(dw) == pytest.approx(float(ew), rel=1e-4)
    assert float(df) == pytest.approx(float(ef), rel=1e-4)


def test_rayleigh_step_gradient_is_exact_on_a_node() -> None:
    ratio = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    load = simulate(RayleighStep(ratio, 0.75), Grid.line(101), cavitation="reynolds").load
    (grad,) = torch.autograd.grad(load, ratio)
    exact = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(analytic.rayleigh_step_load(exact, 0.75), exact)
    assert float(grad) == pytest.approx(float(expected), rel=1e-10)
