r"""Noisy measurements of the ground truth at irregular times, for several doses.

Each dose gets its own random measurement times (uniform in :math:`(0, T]`, sorted): a lab
never samples every culture at the same moments. Noise is Gaussian with a standard deviation
of ``noise`` times each species' peak over that trajectory (a constant-variance assay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import ExpressionParameters, simulate

__all__ = ["Measurement", "generate_dataset"]


@dataclass(frozen=True)
class Measurement:
    """One culture's time series.

    Attributes:
        dose: Inducer dose (µM), constant from t = 0.
        times: Measurement times `k` (h), increasing, > 0.
        values: Noisy (m, p) `k x 2` (nM).
        clean: The noise-free values `k x 2`.
    """

    dose: float
    times: np.ndarray
    values: np.ndarray
    clean: np.ndarray


def generate_dataset(doses: Sequence[float], horizon: float, n_times: int = 15,
                     noise: float = 0.02, seed: int = 0,
                     params: ExpressionParameters | None = None) -> list[Measurement]:
    """One :class:`Measurement` per dose, ``n_times`` irregular times in ``(0, horizon]``."""
    rng = np.random.default_rng(seed)
    params = params or ExpressionParameters()
    out = []
    for dose in doses:
        times = np.sort(rng.uniform(0.05 * horizon, horizon, n_times))
        clean = simulate(float(dose), times, params)
        sd = noise * np.abs(clean).max(axis=0)
        out.append(Measurement(float(dose), times, clean + sd * rng.standard_normal(clean.shape),
                               clean))
    return out
