"""Leader clustering of final starts into distinct optima."""

from __future__ import annotations

import torch

from models.design.inverse_clustering import leader_clusters


def test_leaders_are_best_first_and_far_apart() -> None:
    u = torch.tensor([[0.10, 0.10], [0.11, 0.10], [0.90, 0.90], [0.50, 0.50], [0.89, 0.91]])
    order = torch.tensor([2, 0, 4, 1, 3])  # best first
    leaders, labels = leader_clusters(u, order, 0.05)
    assert leaders.tolist() == [2, 0, 3]
    assert labels.tolist() == [1, 1, 0, 2, 0]


def test_distance_is_rms_over_coordinates() -> None:
    # Two points differing by 0.08 in each of 4 coordinates: RMS distance 0.08.
    u = torch.stack([torch.zeros(4), torch.full((4,), 0.08)])
    assert leader_clusters(u, torch.tensor([0, 1]), 0.079)[0].tolist() == [0, 1]
    assert leader_clusters(u, torch.tensor([0, 1]), 0.081)[0].tolist() == [0]
