"""The ground-truth expression model against its closed form; the data generator."""

from __future__ import annotations

import numpy as np

from models.physics.protein_expression import (
    ExpressionParameters,
    generate_dataset,
    hill,
    simulate,
    simulate_schedule,
)


def _closed_form(dose: float, t: np.ndarray, p: ExpressionParameters) -> np.ndarray:
    m0, p0 = p.initial_state()
    rate = p.alpha0 + hill(dose, p)
    m_ss = rate / p.delta_m
    a = m0 - m_ss
    m = m_ss + a * np.exp(-p.delta_m * t)
    p_ss = p.beta * m_ss / p.delta_p
    c = p.beta * a / (p.delta_p - p.delta_m)
    prot = p_ss + c * np.exp(-p.delta_m * t) + (p0 - p_ss - c) * np.exp(-p.delta_p * t)
    return np.stack([m, prot], axis=1)


def test_simulation_matches_the_closed_form() -> None:
    params = ExpressionParameters()
    t = np.linspace(0.5, 24.0, 9)
    for dose in (0.0, 0.8, 5.0):
        np.testing.assert_allclose(simulate(dose, t, params), _closed_form(dose, t, params),
                                   rtol=1e-8)


def test_uninduced_state_is_steady_and_regulation_saturates() -> None:
    params = ExpressionParameters()
    np.testing.assert_allclose(simulate(0.0, np.array([10.0]))[0], params.initial_state(),
                               rtol=1e-9)
    saturated = float(hill(1e6, params))
    assert 0.999 * params.alpha < saturated < params.alpha
    assert abs(float(hill(params.half_dose, params)) - params.alpha / 2) < 1e-12


def test_schedule_simulation_with_equal_doses_is_a_constant_dose() -> None:
    t, states = simulate_schedule([2.0, 2.0, 2.0], 6.0)
    np.testing.assert_allclose(states[1:], simulate(2.0, t[1:]), rtol=1e-7)


def test_dataset_has_irregular_noisy_times() -> None:
    data = generate_dataset([0.5, 2.0], horizon=12.0, n_times=10, noise=0.05, seed=3)
    assert not np.allclose(data[0].times, data[1].times)
    for d in data:
        assert np.all(np.diff(d.times) > 0) and d.times.max() <= 12.0
        resid = (d.values - d.clean) / np.abs(d.clean).max(axis=0)
        assert 0.01 < resid.std() < 0.1
