r"""Rediscovering Rayleigh's optimal bearing by gradient inverse design through the simulator.

Among all films of an infinitely wide slider with minimum film :math:`h_\min`, the one of
greatest load is a single step (Rayleigh 1918): inlet film :math:`h_1/h_2 = 1 + \sqrt3/2 =
1.866` up to :math:`x = 0.718`, then a land at :math:`h_\min`; load
:math:`w = W h_\min^2/(\mu U L^2 B) = 0.2063`, against 0.1602 for the best plane slider.

The design is a free-form profile of ``M`` cell values :math:`h_k \in [1, 3]` (units of
:math:`h_\min`), piecewise constant, solved with mass-conserving (JFO) cavitation on a grid whose
nodes fall on the cell edges (``nx - 1`` a multiple of ``M``): the 1D finite volumes are then
exact for a piecewise-constant film. The lower bound *is* the minimum film: the optimiser can
only raise cells above it, so it cannot buy load by thinning the film (load scales as
:math:`1/h^2`), and the tests check that the land sits exactly at 1.

Why a smoothness homotopy: from random starts, plain projected gradient ends in bang-bang
local optima (isolated cells at the upper bound that cavitate, or steps downstream of 0.718,
which are KKT points of the discrete problem: moving a step by a cell is not an infinitesimal
move). Heavily smoothed problems have one smooth optimum; annealing the roughness weight to
zero (``smoothness_continuation``) sharpens it into the step at the right place.
"""

from __future__ import annotations

import itertools
import time

import pytest
import torch

from models.design.inverse import (
    InverseDesignConfig,
    InverseDesignResult,
    Objective,
    inverse_design,
)
from models.physics.lubrication import Grid, analytic, simulate

F64 = torch.float64
RATIO, POSITION, LOAD = analytic.rayleigh_step_optimum()
_, PLANE_LOAD = analytic.inclined_slider_optimum()


def load_model(m: int, nx: int, cavitation: str):
    """``predict`` for inverse design: cell values `n x m` -> (load `n x 1`, sd 0)."""
    grid = Grid.line(nx)

    def predict(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        def film(x: torch.Tensor, zeta: torch.Tensor | None = None) -> torch.Tensor:
            return X[..., torch.floor(x * m).long().clamp(0, m - 1)]

        load = simulate(film, grid, cavitation=cavitation).load[:, None]
        return load, torch.zeros_like(load)

    return predict


def bounds(m: int) -> torch.Tensor:
    return torch.tensor([[1.0] * m, [3.0] * m], dtype=F64)


def rediscover(m: int, nx: int, cavitation: str, starts: int,
               smoothing: tuple[float, ...]) -> tuple[InverseDesignResult, float]:
    config = InverseDesignConfig(starts=starts, kappa=0.0, constraint_kappa=0.0,
                                 continuation=(0.0,) * len(smoothing),
                                 smoothness_continuation=smoothing)
    t0 = time.perf_counter()
    result = inverse_design(load_model(m, nx, cavitation), bounds(m),
                            objective=Objective(0, maximize=True), config=config)
    return result, time.perf_counter() - t0


def step_geometry(h: torch.Tensor) -> tuple[float, float, int]:
    """``(h1/h2, step position, first land cell)`` of a step profile (checked to be one)."""
    m = h.shape[0]
    land = int(torch.nonzero(h > 1.0 + 1e-6).max()) + 1  # first cell of the trailing land
    inlet = h[:land]
    assert float((inlet - inlet.mean()).abs().max()) < 1e-3 * float(inlet.mean()), h
    assert bool((h[land:] == 1.0).all()), h  # the land sits exactly on the minimum film
    return float(inlet.mean()), land / m, land


def check_rayleigh(result: InverseDesignResult, m: int, load_rtol: float,
                   ratio_rtol: float) -> None:
    best = result.x[0]
    assert float(best.min()) == 1.0  # minimum film fixed at h_min: no thinning
    assert float(result.value[0]) == pytest.approx(LOAD, rel=load_rtol)
    assert float(result.value[0]) > PLANE_LOAD * 1.25
    ratio, position, _ = step_geometry(best)
    assert ratio == pytest.approx(RATIO, rel=ratio_rtol)
    assert abs(position - POSITION) <= 1.0 / m  # within the resolution of the profile
    assert bool(result.converged[0])
    assert float(result.kkt.stationarity[0]) < 1e-6


@pytest.fixture(scope="module")
def coarse() -> tuple[InverseDesignResult, float]:
    torch.set_num_threads(1)
    return rediscover(40, 41, "jfo", starts=4, smoothing=(0.1, 0.01, 0.001, 0.0))


def test_rediscovers_the_rayleigh_step(coarse: tuple[InverseDesignResult, float]) -> None:
    result, seconds = coarse
    check_rayleigh(result, 40, load_rtol=0.01, ratio_rtol=0.01)
    print(f"coarse rediscovery (M=40, nx=41, 4 starts, jfo): load "
          f"{float(result.value[0]):.5f}, {seconds:.1f} s, "
          f"{result.metrics['predict_calls']} simulator calls")


def test_optimum_softens_as_the_smoothness_weight_grows() -> None:
    """Warm-started sweep from heavy to no smoothing: the load falls and the profile's second
    differences shrink, monotonically, as the weight grows (as they must between global
    optima of -w + c R: compare each optimum's objective at the other's weight)."""
    model, box = load_model(40, 41, "jfo"), bounds(40)
    weights = [0.1, 0.01, 0.001, 0.0]
    loads, roughness = [], []
    initial = None
    for weight in weights:
        config = InverseDesignConfig(starts=2, kappa=0.0, constraint_kappa=0.0,
                                     continuation=(0.0,), smoothness_weight=weight,
                                     inner_iterations=400 if initial is None else 200)
        result = inverse_design(model, box, objective=Objective(0, maximize=True),
                                config=config, initial=initial)
        initial = result.starts
        loads.append(float(result.value[0]))
        roughness.append(float(result.roughness[0]))
    # weights decrease along the list: loads increase, roughness increases
    assert all(a < b for a, b in itertools.pairwise(loads)), loads
    assert all(a < b for a, b in itertools.pairwise(roughness)), roughness
    assert loads[-1] == pytest.approx(LOAD, rel=0.01)
    assert loads[0] < loads[-1] - 1e-4  # a visible softening at the heaviest weight
    print("smoothness sweep", list(zip(weights, loads, roughness, strict=True)))


@pytest.mark.slow
@pytest.mark.parametrize("cavitation", ["jfo", "reynolds"])
def test_rediscovers_the_rayleigh_step_at_full_resolution(cavitation: str) -> None:
    """64 cells put a cell edge at 46/64 = 0.71875: the step lands on Rayleigh's position."""
    result, seconds = rediscover(64, 65, cavitation, starts=16,
                                 smoothing=(1.0, 0.1, 0.01, 0.001, 0.0))
    check_rayleigh(result, 64, load_rtol=1e-3, ratio_rtol=2e-3)
    ratio, position, land = step_geometry(result.x[0])
    assert land == 46
    print(f"full rediscovery (M=64, nx=65, 16 starts, {cavitation}): load "
          f"{float(result.value[0]):.5f}, h1/h2 {ratio:.4f}, step {position:.4f}, "
          f"{seconds:.1f} s, {result.metrics['predict_calls']} simulator calls, "
          f"{result.x.shape[0]} distinct optima {result.value.tolist()}")
