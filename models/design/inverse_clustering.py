r"""Distinct local optima from a batch of optimised starts.

Many starts of a local optimiser end on the same optimum. Ordered best first, each final point
joins the first *leader* within ``distance`` of it, else becomes a leader itself (leader
clustering, a single greedy pass): the leaders are then the best point of each basin, best
first, at least ``distance`` apart. Distances are root-mean-square over coordinates in the
unit cube, :math:`\lVert u_i - u_j\rVert_2 / \sqrt d`, so one threshold means the same in any
dimension: 0.05 is "5% of the range in every coordinate".
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["leader_clusters"]


def leader_clusters(u: Tensor, order: Tensor, distance: float) -> tuple[Tensor, Tensor]:
    r"""Leader clustering of points visited in a given order.

    Args:
        u: Points in the unit cube, `n x d`.
        order: A permutation of ``range(n)``, best first.
        distance: RMS distance below which a point joins a leader.

    Returns:
        ``(leaders, labels)``: leaders' row indices into ``u`` (`k`, in the order they were
        found, i.e. best first) and every point's cluster index into ``leaders`` (`n`).

    Example:
        >>> u = torch.tensor([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0]])
        >>> leader_clusters(u, torch.tensor([2, 0, 1]), 0.05)
        (tensor([2, 0]), tensor([1, 1, 0]))
    """
    n, d = u.shape
    if distance < 0:
        raise ValueError(f"distance must be >= 0, got {distance}")
    pairwise = torch.cdist(u, u) / math.sqrt(max(d, 1))
    labels = torch.full((n,), -1, dtype=torch.long)
    leaders: list[int] = []
    for i in order.tolist():
        if leaders:
            near = pairwise[i, leaders] <= distance
            if bool(near.any()):
                labels[i] = int(near.nonzero()[0])
                continue
        labels[i] = len(leaders)
        leaders.append(i)
    return torch.tensor(leaders, dtype=torch.long), labels
