"""SI units: the dimensionless solution satisfies the dimensional Reynolds equation."""

from __future__ import annotations

import pytest
import torch

from models.physics.lubrication import BearingScales, Grid, InclinedPad, simulate


def test_dimensional_solution_satisfies_the_dimensional_reynolds_equation() -> None:
    mu, speed, length, width, h2, k = 0.04, 5.0, 0.03, 0.05, 20e-6, 1.2
    scales = BearingScales(viscosity=mu, speed=speed, length=length, width=width, film=h2)
    grid = Grid.line(2001)
    sol = simulate(InclinedPad(k), grid, cavitation="none")
    x_m = grid.x() * length                                   # m
    film_m = scales.film_thickness(1.0 + k * (1.0 - grid.x()))  # m
    pressure_pa = scales.pressure(sol.pressure[:, 0])          # Pa
    dp_dx = torch.gradient(pressure_pa, spacing=(x_m,))[0]
    flow = speed * film_m / 2 - film_m**3 / (12 * mu) * dp_dx  # m^2/s per unit width
    interior = flow[5:-5]
    assert float(interior.std() / interior.mean()) < 1e-5
    load_n = width * torch.trapezoid(pressure_pa, x_m)
    assert float(scales.load(sol.load)) == pytest.approx(float(load_n), rel=1e-6)
    shear = mu * speed / film_m + film_m / 2 * dp_dx           # Pa, on the moving surface
    friction_n = width * torch.trapezoid(shear, x_m)
    assert float(scales.friction(sol.friction)) == pytest.approx(float(friction_n), rel=1e-4)
    assert float(scales.friction_coefficient(sol.friction, sol.load)) == pytest.approx(
        float(friction_n / load_n), rel=1e-4)


def test_conversions_round_trip() -> None:
    scales = BearingScales(viscosity=0.05, speed=10.0, length=0.02, width=0.02, film=10e-6)
    assert scales.pressure_scale == pytest.approx(1e8)
    assert scales.load(0.2063) == pytest.approx(8252.0)
    assert scales.dimensionless_pressure(scales.pressure(0.3)) == pytest.approx(0.3)
    assert scales.dimensionless_film(scales.film_thickness(1.7)) == pytest.approx(1.7)
    assert scales.width_ratio == pytest.approx(1.0)
    with pytest.raises(ValueError, match="viscosity"):
        BearingScales(viscosity=0.0, speed=1.0, length=1.0, width=1.0, film=1.0)
