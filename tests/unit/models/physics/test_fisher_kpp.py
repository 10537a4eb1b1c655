"""The Fisher–KPP references: second-order convergence, conservation, the exact wave."""

from __future__ import annotations

import numpy as np
import pytest

from models.physics.reaction_diffusion import (
    FisherKPP,
    solve_reference,
    solve_reference_2d,
    travelling_wave,
    wave_speed,
)


def test_reference_converges_at_second_order() -> None:
    case = FisherKPP()
    fine = solve_reference(case, nx=1601, nt=6)
    errors = []
    for nx in (101, 201, 401):
        coarse = solve_reference(case, nx=nx, nt=6)
        stride = 1600 // (nx - 1)
        errors.append(np.abs(coarse.u - fine.u[:, ::stride]).max())
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.5 < r < 4.6 for r in ratios), (errors, ratios)
    # the default 801-node reference is ~1e-6 from the 1601-node one: 1000x below 1e-3
    default = solve_reference(case, nx=801, nt=6)
    rel = np.linalg.norm(default.u - fine.u[:, ::2]) / np.linalg.norm(fine.u)
    assert rel < 5e-6


def test_pure_diffusion_conserves_mass_with_no_flux_ends() -> None:
    case = FisherKPP(rate=0.0, diffusivity=0.05)
    ref = solve_reference(case, nx=201, nt=5)
    weights = np.full(ref.x.size, ref.x[1] - ref.x[0])
    weights[[0, -1]] *= 0.5
    mass = ref.u @ weights
    assert np.ptp(mass) < 1e-8 * mass[0]


def test_dirichlet_reference_reproduces_the_exact_travelling_wave() -> None:
    case = FisherKPP(diffusivity=0.01, rate=1.0, horizon=1.0)
    shift = 0.05

    def exact(x: np.ndarray, t: float) -> np.ndarray:
        return np.asarray(travelling_wave(x, np.full_like(x, t), case.diffusivity, case.rate,
                                          shift))

    ref = solve_reference(case, nx=401, nt=11,
                          dirichlet=lambda t: (float(exact(np.array([0.0]), t)[0]),
                                               float(exact(np.array([case.length]), t)[0])),
                          initial=lambda x: exact(x, 0.0))
    truth = np.stack([exact(ref.x, t) for t in ref.t])
    assert np.abs(ref.u - truth).max() < 1e-4
    assert wave_speed(case.diffusivity, case.rate) == pytest.approx(5 * np.sqrt(0.01 / 6))


def test_2d_channel_reference_is_symmetric_and_bounded() -> None:
    case = FisherKPP(horizon=0.5)
    ref = solve_reference_2d(case, width_y=0.5, nx=41, ny=21, nt=3)
    assert ref.u.shape == (3, 41, 21)
    np.testing.assert_allclose(ref.u[-1], ref.u[-1, ::-1, :], atol=1e-9)   # x -> L - x
    assert 0.0 <= ref.u.min() and ref.u.max() <= 1.0
