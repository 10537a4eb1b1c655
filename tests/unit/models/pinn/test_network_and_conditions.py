"""Embeddings, hard constraints, loss terms, resampling and weighting of the PINN engine."""

from __future__ import annotations

import torch

from models.pinn.conditions import Dirichlet, Neumann, Observations, Periodic
from models.pinn.derivatives import derivative
from models.pinn.domain import Box
from models.pinn.network import FieldNet
from models.pinn.sampling import resample, residual_probabilities
from models.pinn.weighting import GradNormBalancer

BOX = Box((0.0, 0.0), (2.0, 1.0), ("x", "t"))


def test_cosine_embedding_gives_exact_no_flux() -> None:
    net = FieldNet(BOX, cosine_dims=("x",), seed=3, dtype=torch.float64)
    ends = torch.tensor([[0.0, 0.3], [2.0, 0.7], [0.0, 0.9]], dtype=torch.float64)
    x = ends.clone().requires_grad_(True)
    assert float(derivative(net(x), x, 0).detach().abs().max()) < 1e-12
    inside = torch.tensor([[0.7, 0.3]], dtype=torch.float64, requires_grad=True)
    assert float(derivative(net(inside), inside, 0).detach().abs().max()) > 1e-6
    loss = Neumann(BOX.sample_face("x", "upper", 16, 0, torch.float64), dim=0).loss(net)
    assert float(loss.detach()) < 1e-20


def test_periodic_embedding_and_periodic_loss() -> None:
    periodic = FieldNet(BOX, periodic_dims=("x",), seed=1, dtype=torch.float64)
    plain = FieldNet(BOX, seed=1, dtype=torch.float64)
    condition = Periodic(BOX, "x", 32, dtype=torch.float64)
    assert float(condition.loss(periodic).detach()) < 1e-20
    assert float(condition.loss(plain).detach()) > 1e-6


def test_fourier_features_and_output_transform() -> None:
    net = FieldNet(BOX, fourier_features=16, fourier_scale=2.0, seed=0,
                   transform=lambda x, raw: 3.0 + x[:, 1:] * raw)
    start = BOX.sample_face("t", "lower", 10, 0)
    torch.testing.assert_close(net(start), torch.full((10, 1), 3.0))
    assert net.features(start).shape == (10, 1 + 1 + 32)


def test_dirichlet_and_observation_losses() -> None:
    net = FieldNet(BOX, seed=0, dtype=torch.float64)
    pts = BOX.sample(30, 0, torch.float64)
    with torch.no_grad():
        truth = net(pts)
    assert float(Dirichlet(pts, lambda p: net(p).detach()).loss(net)) < 1e-24
    assert abs(float(Observations(pts, truth + 0.1).loss(net)) - 0.01) < 1e-12


def test_rad_probabilities_concentrate_on_large_residuals() -> None:
    residual = torch.tensor([0.0, 0.0, 1.0, 3.0])
    p = residual_probabilities(residual, k=1.0, c=1.0)
    torch.testing.assert_close(p.sum(), torch.tensor(1.0))
    assert bool((p[3] > p[2]) & (p[2] > p[0]))
    candidates = torch.linspace(0, 1, 1000).reshape(-1, 1)
    big = (candidates[:, 0] > 0.9).float() * 100.0
    chosen = resample(candidates, big, 100, seed=0, k=1.0, c=0.1)
    assert chosen.shape == (100, 1)
    assert float((chosen > 0.9).float().mean()) > 0.8


def test_grad_norm_balancer_equalises_gradient_norms() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
    terms = {"big": 100.0 * (w**2).sum(), "small": 0.01 * (w**2).sum()}
    balancer = GradNormBalancer(terms, momentum=0.0)
    weights = balancer.update(terms, [w])
    assert abs(weights["big"] * 100.0 - weights["small"] * 0.01) < 1e-6 * weights["small"]
