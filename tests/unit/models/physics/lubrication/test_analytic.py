"""The closed forms themselves, against independent quadrature and the classical numbers."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.integrate import quad
from scipy.optimize import minimize

from models.physics.lubrication import analytic


def test_rayleigh_step_optimum_is_the_classical_one() -> None:
    ratio, position, load = analytic.rayleigh_step_optimum()
    assert ratio == pytest.approx(1.866, abs=5e-4)
    assert position == pytest.approx(0.718, abs=5e-4)
    assert load == pytest.approx(0.2063, abs=5e-5)
    # A numerical maximisation over both variables finds the same point.
    best = minimize(lambda v: -analytic.rayleigh_step_load(v[0], v[1]), x0=[1.5, 0.5],
                    bounds=[(1.01, 4.0), (0.05, 0.95)])
    assert best.x == pytest.approx([ratio, position], abs=1e-4)
    assert -best.fun == pytest.approx(load, rel=1e-9)


def test_inclined_slider_optimum_is_the_classical_one() -> None:
    inclination, load = analytic.inclined_slider_optimum()
    assert load == pytest.approx(0.1602, abs=5e-5)
    assert 1.0 + inclination == pytest.approx(2.189, abs=5e-4)


@pytest.mark.parametrize("k", [0.3, 1.0, 1.2, 3.0])
def test_inclined_slider_pressure_integrates_to_the_load_and_friction(k: float) -> None:
    def pressure(x: float) -> float:
        return float(analytic.inclined_slider_pressure(torch.tensor(x, dtype=torch.float64), k))

    assert pressure(0.0) == pytest.approx(0.0, abs=1e-14)
    assert pressure(1.0) == pytest.approx(0.0, abs=1e-14)
    assert quad(pressure, 0, 1)[0] == pytest.approx(analytic.inclined_slider_load(k), rel=1e-10)
    # The Reynolds equation (h^3 p')' = 6 h' holds: the flux h/2 - h^3 p'/12 is constant.
    eps = 1e-5

    def flux(x: float) -> float:
        h = 1.0 + k * (1.0 - x)
        return h / 2 - h**3 * (pressure(x + eps) - pressure(x - eps)) / (2 * eps) / 12

    assert flux(0.2) == pytest.approx(flux(0.8), rel=1e-8)
    # Friction = int 1/h + int h p'/2, by quadrature, with p' = 6/h^2 + c/h^3 from the flux.
    c = -12.0 * (1.0 + k) / (2.0 + k)

    def film(x: float) -> float:
        return 1.0 + k * (1.0 - x)

    assert (pressure(0.3 + eps) - pressure(0.3 - eps)) / (2 * eps) == pytest.approx(
        6 / film(0.3) ** 2 + c / film(0.3) ** 3, rel=1e-7)
    shear = quad(lambda x: 1.0 / film(x), 0, 1)[0]
    poiseuille = quad(lambda x: 0.5 * film(x) * (6 / film(x) ** 2 + c / film(x) ** 3), 0, 1)[0]
    assert shear + poiseuille == pytest.approx(analytic.inclined_slider_friction(k), rel=1e-10)


def test_inclined_slider_tends_to_the_parallel_pad() -> None:
    assert analytic.inclined_slider_friction(1e-6) == pytest.approx(1.0, rel=1e-5)
    assert analytic.inclined_slider_load(1e-3) == pytest.approx(1e-3 / 2, rel=2e-3)


def test_rayleigh_step_friction_by_pieces() -> None:
    ratio, a = 1.5, 0.6
    peak = analytic.rayleigh_step_peak(ratio, a)
    flux_in = ratio / 2 - ratio**3 * (peak / a) / 12
    flux_out = 0.5 + (peak / (1 - a)) / 12
    assert flux_in == pytest.approx(flux_out, rel=1e-12)
    expected = a / ratio + (1 - a) + 0.5 * ratio * peak + 0.5 * (-peak)
    assert analytic.rayleigh_step_friction(ratio, a) == pytest.approx(expected, rel=1e-12)


def test_pocket_solution_balances_its_fluxes() -> None:
    sol = analytic.pocket_jfo_solution(1.1, 2.0, 1.0, 0.2, 0.8)
    pb, c = sol.peak_pressure, sol.reformation
    assert 0.2 < c < 0.8
    assert sol.cavity_fill * 2.0 / 2 == pytest.approx(sol.flux)
    assert 2.0 / 2 - 2.0**3 * (pb / (0.8 - c)) / 12 == pytest.approx(sol.flux, rel=1e-12)
    assert 1.0 / 2 + 1.0**3 * (pb / 0.2) / 12 == pytest.approx(sol.flux, rel=1e-12)
    x = torch.linspace(0, 1, 100001, dtype=torch.float64)
    assert float(torch.trapezoid(sol.pressure(x, 0.8), x)) == pytest.approx(sol.load, rel=1e-6)
    with pytest.raises(ValueError, match="no cavity"):
        analytic.pocket_jfo_solution(1.5, 3.0, 1.0, 0.3, 0.7)


def test_short_bearing_limit_formula() -> None:
    k = 1.0
    # lambda^2 h^3 p_zz = 6 h' integrates to p = 3 h' (z^2 - z) / (lambda^2 h^3).
    value = quad(lambda x: k / (2 * (1 + k * (1 - x)) ** 3), 0, 1)[0]  # -h' = k
    assert analytic.inclined_slider_short_bearing_load(k, 0.1) == pytest.approx(
        0.01 * value, rel=1e-10)
    assert math.isclose(analytic.RAYLEIGH_OPTIMAL_RATIO, 1 + math.sqrt(3) / 2)
