"""The gradient-check utility: right on known gradients, and it catches wrong ones."""

from __future__ import annotations

import math

import pytest
import torch

from models.gradcheck import central_difference_step, check_gradient


def test_known_gradient_of_a_scalar_function() -> None:
    x = torch.tensor([0.3, -1.2, 2.0, 15.0], dtype=torch.float64)
    result = check_gradient(lambda v: (v.sin() * v**2).sum(), x, rtol=1e-7, atol=1e-10)
    known = x.cos() * x**2 + 2 * x * x.sin()
    assert result.passed
    assert torch.allclose(result.analytic, known, rtol=1e-14)
    assert torch.allclose(result.numeric, known, rtol=1e-8)  # the quotient's accuracy
    assert result.max_rel_error < 1e-8


def test_known_gradient_of_a_quadratic_form_in_a_matrix_argument() -> None:
    a = torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    result = check_gradient(lambda v: torch.trace(v.T @ a @ v), x)
    assert result.passed
    assert torch.allclose(result.numeric, (a + a.T) @ x, rtol=1e-9, atol=1e-10)
    assert len(result.worst_index) == 2


def test_vector_outputs_are_checked_through_a_projection() -> None:
    m = torch.randn(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    v = torch.tensor([1.0, 0.0, -1.0, 2.0], dtype=torch.float64)
    result = check_gradient(lambda u: m @ u, x, projection=v)
    assert result.passed
    assert torch.allclose(result.analytic, v @ m, rtol=1e-14)
    assert check_gradient(lambda u: torch.stack([u.exp().sum(), u.prod()]), x).passed


class WrongBackward(torch.autograd.Function):
    """exp with a backward that is wrong in one component (or slightly wrong everywhere)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float, component: int) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.scale, ctx.component = scale, component
        return x.exp()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (x,) = ctx.saved_tensors
        g = grad * x.exp()
        if ctx.component >= 0:
            g[ctx.component] = -g[ctx.component]
        return g * ctx.scale, None, None


def test_a_wrong_backward_is_detected_and_located() -> None:
    x = torch.tensor([0.1, 0.7, -0.4, 1.3], dtype=torch.float64)
    result = check_gradient(lambda v: WrongBackward.apply(v, 1.0, 2).sum(), x)
    assert not result.passed
    assert result.worst_index == (2,)
    assert result.max_rel_error == pytest.approx(2.0)
    with pytest.raises(AssertionError, match=r"FAILED.*worst component \(2,\)"):
        result.raise_if_failed()


def test_a_slightly_wrong_backward_is_detected() -> None:
    x = torch.tensor([0.1, 0.7, -0.4], dtype=torch.float64)
    assert not check_gradient(lambda v: WrongBackward.apply(v, 1.0 + 1e-4, -1).sum(), x).passed
    assert check_gradient(lambda v: WrongBackward.apply(v, 1.0, -1).sum(), x).passed


def test_step_is_the_cube_root_of_epsilon_scaled_to_the_variable() -> None:
    x = torch.tensor([0.0, 0.5, -3.0, 1e4], dtype=torch.float64)
    eps = 2.0**-52
    expected = torch.tensor([1.0, 1.0, 3.0, 1e4], dtype=torch.float64) * eps ** (1 / 3)
    assert torch.allclose(central_difference_step(x), expected, rtol=1e-12)
    assert float(central_difference_step(torch.ones(1))[0]) == pytest.approx(
        torch.finfo(torch.float32).eps ** (1 / 3))
    result = check_gradient(lambda v: (v**3).sum(), x, rtol=1e-6)
    assert torch.equal(result.step, central_difference_step(x))


def test_float32_works_with_looser_tolerances_and_inputs_are_untouched() -> None:
    x = torch.tensor([0.2, 1.5], dtype=torch.float32)
    before = x.clone()
    assert check_gradient(lambda v: (v**2).sum(), x, rtol=1e-3, atol=1e-3).passed
    assert torch.equal(x, before)


def test_custom_steps_and_bad_arguments() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    result = check_gradient(lambda v: v.log().sum(), x, step=1e-4, rtol=1e-7)
    assert result.passed and float(result.step[0]) == 1e-4
    with pytest.raises(ValueError):
        check_gradient(lambda v: v.sum(), x, step=0.0)
    with pytest.raises(TypeError):
        check_gradient(lambda v: v.sum(), torch.tensor([1, 2]))


def test_a_constant_function_has_a_zero_gradient() -> None:
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    result = check_gradient(lambda v: torch.tensor(math.pi, dtype=torch.float64), x)
    assert result.passed and float(result.analytic.abs().max()) == 0.0
