"""Autograd derivatives and PDE residuals, checked against analytic values and central
differences (models.gradcheck)."""

from __future__ import annotations

import math

import torch

from models.gradcheck import check_gradient
from models.physics.reaction_diffusion import travelling_wave
from models.pinn.cases.fisher_kpp import fisher_residual
from models.pinn.derivatives import derivative, gradient, laplacian


def _points() -> torch.Tensor:
    return torch.tensor([[0.1, 0.2], [0.7, 0.4], [-0.3, 1.1]], dtype=torch.float64,
                        requires_grad=True)


def test_derivatives_match_analytic() -> None:
    x = _points()
    u = (torch.sin(2 * x[:, :1]) * torch.exp(x[:, 1:]))
    xs, ts = x[:, :1].detach(), x[:, 1:].detach()
    torch.testing.assert_close(derivative(u, x, 0), 2 * torch.cos(2 * xs) * torch.exp(ts))
    torch.testing.assert_close(derivative(u, x, 0, 2), -4 * torch.sin(2 * xs) * torch.exp(ts))
    torch.testing.assert_close(laplacian(u, x, (0, 1)), -3 * torch.sin(2 * xs) * torch.exp(ts))
    assert gradient(u, x).shape == (3, 2)


def test_first_derivative_agrees_with_central_differences() -> None:
    """derivative() of a network equals the central-difference slope of its output."""
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    net.double()
    x = _points()
    slope = derivative(net(x), x, 0).detach()
    for i in range(3):
        check = check_gradient(lambda v: net(v.reshape(1, 2)).sum(), x[i].detach())
        check.raise_if_failed()
        assert math.isclose(float(slope[i, 0]), float(check.numeric[0]), rel_tol=1e-7)


def test_residual_gradient_wrt_coefficients_and_weights() -> None:
    """The mean-square residual's gradient w.r.t. log D, log r and a weight matches central
    differences: the trainer's gradient of the physics loss is right."""
    torch.manual_seed(0)
    first = torch.nn.Linear(2, 6, dtype=torch.float64)
    last = torch.nn.Linear(6, 1, dtype=torch.float64)
    x = torch.rand(20, 2, dtype=torch.float64)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        # The difference quotients run under no_grad; the residual needs d/dx inside.
        with torch.enable_grad():
            pts = x.clone().requires_grad_(True)
            w = first.weight.detach().clone()
            w[0, 0] = theta[2]
            h = torch.tanh(pts @ w.T + first.bias.detach())
            u = last(h)
            c = {"D": torch.exp(theta[0]), "r": torch.exp(theta[1])}
            return (fisher_residual(pts, u, c) ** 2).mean()

    weight = float(first.weight[0, 0].detach())
    theta = torch.tensor([math.log(0.01), 0.0, weight], dtype=torch.float64)
    check_gradient(loss, theta, rtol=1e-6, atol=1e-10).raise_if_failed()


def test_travelling_wave_solves_fisher_kpp() -> None:
    """The Ablowitz–Zeppetella wave makes the residual vanish (to round-off)."""
    x = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = x.requires_grad_(True)
    d, r = 0.02, 1.5
    u = travelling_wave(x[:, :1], x[:, 1:], d, r, shift=0.3)
    assert isinstance(u, torch.Tensor)
    residual = fisher_residual(x, u, {"D": d, "r": r})
    assert float(residual.detach().abs().max()) < 1e-12
    wrong = fisher_residual(x, u, {"D": 1.1 * d, "r": r})
    assert float(wrong.detach().abs().max()) > 1e-4
