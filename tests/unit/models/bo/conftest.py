"""BO tests share two cores with other engineers' timing-sensitive tests: one thread.

``fast_config`` caps every optimiser (restarts, raw samples, iterations, Monte-Carlo samples)
for tests that check properties of the suggestions rather than their quality.
"""

from __future__ import annotations

import pytest
import torch

from models.bo.config import AcquisitionConfig, BOConfig, GPConfig, OptimizerConfig

torch.set_num_threads(1)


@pytest.fixture
def fast_config() -> BOConfig:
    return BOConfig(
        gp=GPConfig(max_iterations=60, warm_max_iterations=20, max_attempts=1),
        acquisition=AcquisitionConfig(mc_samples=32),
        optimizer=OptimizerConfig(num_restarts=2, raw_samples=32, max_iterations=20,
                                  max_alternating=2, pool_size=256),
        quality=False)
