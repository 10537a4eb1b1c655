"""Neo-Hookean energies and references: stresses from energies, small-strain limits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.gradcheck import check_gradient
from models.physics.hyperelastic import (
    BarProblem,
    NeoHookean,
    bar_energy_density,
    bar_reference,
    plane_strain_energy_density,
    uniaxial_stretch,
)
from models.physics.hyperelastic.energy import bar_stress

MATERIAL = NeoHookean(mu=1.0, lam=1.5)


def test_bar_stress_is_the_energy_derivative() -> None:
    stretch = torch.tensor([0.7, 1.0, 1.4], dtype=torch.float64)
    check = check_gradient(lambda s: bar_energy_density(s, MATERIAL).sum(), stretch)
    check.raise_if_failed()
    expected = [bar_stress(float(s), MATERIAL) for s in stretch]
    np.testing.assert_allclose(check.analytic.numpy(), expected, rtol=1e-12)
    assert float(bar_energy_density(torch.tensor(1.0), MATERIAL)) == 0.0


def test_plane_strain_energy_gradient_and_rest_state() -> None:
    grad_u = torch.tensor([[[0.1, 0.05], [-0.02, 0.2]]], dtype=torch.float64)
    check_gradient(lambda g: plane_strain_energy_density(g, MATERIAL).sum(), grad_u)\
        .raise_if_failed()
    zero = torch.zeros(1, 2, 2, dtype=torch.float64)
    assert float(plane_strain_energy_density(zero, MATERIAL)) == 0.0


def test_bar_reference_tends_to_linear_elasticity_under_small_loads() -> None:
    bar = BarProblem(body_force=1e-4, traction=5e-5, material=MATERIAL)
    x = np.linspace(0.0, 1.0, 11)
    u, _ = bar_reference(bar, x)
    modulus = 2 * MATERIAL.mu + MATERIAL.lam       # dP/dstretch at stretch 1
    linear = (bar.traction * x + bar.body_force * (x - x**2 / 2)) / modulus
    np.testing.assert_allclose(u, linear, rtol=2e-4, atol=1e-12)


def test_bar_reference_is_in_equilibrium() -> None:
    bar = BarProblem(material=MATERIAL)
    x = np.linspace(0.0, 1.0, 5)
    _, stretch = bar_reference(bar, x)
    stress = [bar_stress(s, MATERIAL) for s in stretch]
    np.testing.assert_allclose(stress, bar.traction + bar.body_force * (1.0 - x), rtol=1e-10)


def test_uniaxial_stretch_small_load_limit_and_free_lateral_face() -> None:
    tau = 1e-5
    l1, l2 = uniaxial_stretch(tau, MATERIAL)
    mu, lam = MATERIAL.mu, MATERIAL.lam
    assert l1 - 1 == pytest.approx(tau * (lam + 2 * mu) / (4 * mu * (lam + mu)), rel=1e-4)
    assert l2 - 1 == pytest.approx(-tau * lam / (4 * mu * (lam + mu)), rel=1e-4)
    l1, l2 = uniaxial_stretch(0.8, MATERIAL)
    p22 = mu * (l2 - 1 / l2) + lam * np.log(l1 * l2) / l2
    assert abs(p22) < 1e-12 and l1 > 1.2 and l2 < 1.0
