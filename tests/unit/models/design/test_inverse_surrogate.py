"""Inverse design through a trained deep ensemble: the workflow of the digital twin."""

from __future__ import annotations

import pytest
import torch

from models.design.inverse import InverseDesignConfig, Objective, inverse_design
from models.surrogates import DeepEnsemble, EnsembleConfig

F64 = torch.float64
BOX = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=F64)


def truth(X: torch.Tensor) -> torch.Tensor:
    """Output 0: a bowl with its minimum (0.3, 0.4) inside the data; output 1: a ramp whose
    minimum is the corner (1, 1), far from any data."""
    return torch.stack([(X[:, 0] - 0.3) ** 2 + (X[:, 1] - 0.4) ** 2, -(X[:, 0] + X[:, 1])],
                       dim=-1)


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    """60 designs in [0, 0.6]^2: the model has no data near the corner (1, 1)."""
    return 0.6 * torch.rand(60, 2, generator=torch.Generator().manual_seed(0), dtype=F64)


@pytest.fixture(scope="module")
def ensemble(data: torch.Tensor) -> DeepEnsemble:
    torch.set_num_threads(1)
    return DeepEnsemble.fit(data, truth(data), EnsembleConfig(members=4, width=32, epochs=1000,
                                                              seed=1), bounds=BOX)


def test_finds_the_true_optimum_inside_the_data(ensemble: DeepEnsemble) -> None:
    result = inverse_design(ensemble.predict, BOX, objective=Objective(0),
                            config=InverseDesignConfig(starts=16, kappa=1.0))
    torch.testing.assert_close(result.x[0], torch.tensor([0.3, 0.4], dtype=F64), atol=0.03,
                               rtol=0)
    assert float(truth(result.x[:1])[0, 0]) < 2e-3
    assert bool(result.converged[0])


def test_uncertainty_penalty_keeps_the_design_where_the_model_has_data(
        ensemble: DeepEnsemble, data: torch.Tensor) -> None:
    """Minimising mean + kappa sd: as kappa grows the optimum's sd cannot grow (compare the
    optima's objectives at each other's kappa), and the design is drawn back to the data."""
    sds, gaps = [], []
    for kappa in (0.0, 3.0, 10.0):
        result = inverse_design(ensemble.predict, BOX, objective=Objective(1),
                                config=InverseDesignConfig(starts=16, kappa=kappa))
        if kappa == 0.0:  # trusting the model: runs off to the corner, far from any data
            torch.testing.assert_close(result.x[0], torch.ones(2, dtype=F64))
        sds.append(float(result.sd[0, 1]))
        gaps.append(float(torch.cdist(result.x[:1], data).min()))
    assert sds[0] >= sds[1] >= sds[2] and sds[2] < 0.25 * sds[0], sds
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.2, gaps
