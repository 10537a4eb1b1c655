"""1D solutions against their closed forms: plane slider, Rayleigh step, grid convergence.

Documented accuracy (dimensionless load, plane slider K = 1.2, no cavitation needed):
nx = 41 nodes (dx = L/40): -0.13 %; nx = 201: -0.005 %; second order.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from models.physics.lubrication import (
    Grid,
    GrooveTexture,
    InclinedPad,
    RayleighStep,
    analytic,
    simulate,
)

MODELS = ["none", "reynolds", "jfo"]


def observed_orders(errors: list[float]) -> list[float]:
    """Orders between successive grid halvings."""
    return [math.log2(a / b) for a, b in itertools.pairwise(errors)]


@pytest.mark.parametrize("model", MODELS)
def test_plane_slider_load_within_half_a_percent_at_41_nodes(model: str) -> None:
    k = 1.2
    sol = simulate(InclinedPad(k), Grid.line(41), cavitation=model)
    exact = analytic.inclined_slider_load(k)
    assert abs(float(sol.load) / exact - 1) < 5e-3
    assert abs(float(sol.load) / exact - 1) < 1.5e-3  # the measured error is 0.13 %
    assert abs(float(sol.friction) / analytic.inclined_slider_friction(k) - 1) < 5e-4
    assert not sol.cavitated.any()


@pytest.mark.parametrize("k", [0.2, 1.0, 1.1887, 4.0])
def test_plane_slider_at_201_nodes(k: float) -> None:
    sol = simulate(InclinedPad(k), Grid.line(201), cavitation="jfo")
    assert float(sol.load) == pytest.approx(analytic.inclined_slider_load(k), rel=2e-4)
    assert float(sol.friction) == pytest.approx(analytic.inclined_slider_friction(k), rel=1e-4)
    x = Grid.line(201).x()
    exact = analytic.inclined_slider_pressure(x, k)
    assert float((sol.pressure[:, 0] - exact).abs().max() / exact.max()) < 3e-4
    assert float(sol.friction_coefficient) == pytest.approx(
        analytic.inclined_slider_friction(k) / analytic.inclined_slider_load(k), rel=3e-4)


def test_best_plane_slider_gives_0_1602() -> None:
    k, _ = analytic.inclined_slider_optimum()
    assert float(simulate(InclinedPad(k), Grid.line(401)).load) == pytest.approx(0.1602, abs=5e-5)


def test_plane_slider_converges_at_second_order() -> None:
    k = 1.2
    exact = analytic.inclined_slider_load(k)
    errors = [abs(float(simulate(InclinedPad(k), Grid.line(n)).load) - exact)
              for n in (21, 41, 81, 161)]
    friction = [abs(float(simulate(InclinedPad(k), Grid.line(n)).friction)
                    - analytic.inclined_slider_friction(k)) for n in (21, 41, 81, 161)]
    for order in observed_orders(errors) + observed_orders(friction):
        assert 1.5 < order < 2.5


@pytest.mark.parametrize("model", MODELS)
def test_rayleigh_step_on_a_node_is_exact(model: str) -> None:
    # 0.718 = 359 / 500: the step falls on node 359 of 501, so every link is uniform.
    ratio, position = analytic.RAYLEIGH_OPTIMAL_RATIO, 0.718
    sol = simulate(RayleighStep(ratio, position), Grid.line(501), cavitation=model)
    assert float(sol.load) == pytest.approx(analytic.rayleigh_step_load(ratio, position),
                                            rel=1e-10)
    assert float(sol.friction) == pytest.approx(
        analytic.rayleigh_step_friction(ratio, position), rel=1e-10)
    assert float(sol.load) == pytest.approx(0.2063, abs=5e-5)


@pytest.mark.parametrize(("ratio", "position", "nx"), [(1.5, 0.5, 11), (3.0, 0.25, 9),
                                                        (1.2, 0.9, 21)])
def test_rayleigh_steps_on_nodes(ratio: float, position: float, nx: int) -> None:
    sol = simulate(RayleighStep(ratio, position), Grid.line(nx))
    assert float(sol.load) == pytest.approx(analytic.rayleigh_step_load(ratio, position),
                                            rel=1e-12)


def test_rayleigh_step_inside_a_link_stays_within_a_first_order_bound() -> None:
    # The link holding the step averages h and h^3 across it: a local O(dx) error.
    ratio, position = analytic.RAYLEIGH_OPTIMAL_RATIO, analytic.RAYLEIGH_OPTIMAL_POSITION
    exact = analytic.rayleigh_step_load(ratio, position)
    grids = (51, 101, 201, 401, 801)
    errors = [abs(float(simulate(RayleighStep(ratio, position), Grid.line(n)).load) - exact)
              for n in grids]
    for n, error in zip(grids, errors, strict=True):
        assert error < 0.01 / (n - 1)  # measured: relative errors 1.5e-5 (51) to 1.5e-6 (801)
    assert errors[-1] < errors[0] / 8


def test_grooved_slider_converges_at_second_order_against_a_fine_grid() -> None:
    # A smooth textured film (C2 grooves on an inclined pad), full film throughout.
    texture = GrooveTexture(depth=1.0, radius=0.06, density=0.5, fraction=0.7,
                            base=InclinedPad(1.0))
    reference = simulate(texture, Grid.line(5121), cavitation="none")
    assert not simulate(texture, Grid.line(5121), cavitation="reynolds").cavitated.any()
    grids = (81, 161, 321, 641)
    errors = [abs(float(simulate(texture, Grid.line(n), cavitation="none").load)
                  - float(reference.load)) for n in grids]
    for order in observed_orders(errors):
        assert 1.5 < order < 2.5


def test_a_batch_solves_like_its_members() -> None:
    k = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    batch = simulate(InclinedPad(k), Grid.line(101))
    assert batch.pressure.shape == (3, 101, 1)
    assert batch.load.shape == (3,)
    for i in range(3):
        single = simulate(InclinedPad(float(k[i])), Grid.line(101))
        assert torch.allclose(batch.pressure[i], single.pressure, rtol=1e-12, atol=1e-14)
        assert float(batch.friction[i]) == pytest.approx(float(single.friction), rel=1e-12)


def test_parallel_pad_carries_no_load_and_couette_friction() -> None:
    sol = simulate(InclinedPad(0.0), Grid.line(51))
    assert float(sol.pressure.abs().max()) < 1e-14
    assert float(sol.friction) == pytest.approx(1.0, rel=1e-14)
    with pytest.raises(ValueError, match="unknown cavitation model"):
        simulate(InclinedPad(0.0), Grid.line(51), cavitation="half-sommerfeld")
