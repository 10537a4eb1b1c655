r"""Several trajectories with their own irregular times, batched for one solve.

A batch is solved once on the sorted union of every trajectory's times (plus the common
start :math:`t_0`); each trajectory's loss reads only its own times, through a mask. That
keeps one adaptive solve per step for the whole batch (the solver's error control then
covers every trajectory jointly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .errors import InvalidTrajectoryError

__all__ = ["TrajectoryBatch"]


@dataclass(frozen=True)
class TrajectoryBatch:
    """Trajectories on a shared time grid.

    Attributes:
        t: Union time grid `K` (starts at ``t0``), increasing.
        values: Observations `K x B x n` (zero where not observed).
        mask: `K x B x 1`, 1 where trajectory b is observed at t[k].
        inputs: Controls `B x k` (e.g. the dose).
        y0: Initial states `B x n` at ``t[0]``.
    """

    t: Tensor
    values: Tensor
    mask: Tensor
    inputs: Tensor
    y0: Tensor

    @staticmethod
    def build(times: Sequence[np.ndarray], values: Sequence[np.ndarray], inputs: np.ndarray,
              y0: np.ndarray, t0: float = 0.0, dtype: torch.dtype = torch.float32
              ) -> TrajectoryBatch:
        """From per-trajectory times `k_b` and values `k_b x n`."""
        for b, (ts, vs) in enumerate(zip(times, values, strict=True)):
            if ts.ndim != 1 or len(ts) != len(vs) or np.any(np.diff(ts) <= 0) or np.any(
                    ts <= t0):
                raise InvalidTrajectoryError(
                    f"trajectory {b}: times must increase, exceed t0 and match the values",
                    {"trajectory": b})
            if not np.all(np.isfinite(vs)):
                raise InvalidTrajectoryError(f"trajectory {b} has NaN/inf values",
                                             {"trajectory": b})
        grid = np.unique(np.concatenate([[t0], *times]))
        n = values[0].shape[1]
        vals = np.zeros((grid.size, len(times), n))
        mask = np.zeros((grid.size, len(times), 1))
        for b, (ts, vs) in enumerate(zip(times, values, strict=True)):
            index = np.searchsorted(grid, ts)
            vals[index, b] = vs
            mask[index, b] = 1.0
        return TrajectoryBatch(*(torch.as_tensor(a, dtype=dtype) for a in (
            grid, vals, mask, np.asarray(inputs, dtype=float).reshape(len(times), -1),
            np.asarray(y0, dtype=float).reshape(len(times), n))))

    def until(self, horizon: float) -> TrajectoryBatch:
        """The part with :math:`t \\le` ``horizon`` (a curriculum stage)."""
        keep = self.t <= horizon
        return TrajectoryBatch(self.t[keep], self.values[keep], self.mask[keep], self.inputs,
                               self.y0)
