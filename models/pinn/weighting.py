r"""Adaptive loss weights by gradient-norm balancing.

Loss terms of a PINN differ by orders of magnitude in their gradients, and the largest one
drives the fit while the others stall. Balancing (Wang, Sankaran, Wang & Perdikaris 2023, "An
expert's guide to training PINNs", eq. 4.3) sets

.. math:: \hat\lambda_i = \frac{\sum_j \lVert\nabla_\theta L_j\rVert}
          {\lVert\nabla_\theta L_i\rVert},
          \qquad \lambda_i \leftarrow \alpha\lambda_i + (1-\alpha)\hat\lambda_i,

so every weighted term pulls on the weights with the same gradient norm; the moving average
(:math:`\alpha` = ``momentum``) keeps the weights from jumping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

__all__ = ["GradNormBalancer"]


class GradNormBalancer:
    r"""Moving-average gradient-norm loss weights.

    Args:
        names: The loss terms' names (all start at weight 1).
        momentum: :math:`\alpha` in :math:`[0, 1)`.
    """

    def __init__(self, names: Iterable[str], momentum: float = 0.9) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.weights = {n: 1.0 for n in names}
        self.momentum = momentum

    def weight(self, name: str) -> float:
        """The current weight of a term (1 until first balanced)."""
        return self.weights.get(name, 1.0)

    def update(self, terms: Mapping[str, Tensor], parameters: list[nn.Parameter]) -> dict[str, float]:
        """Recompute the weights from the current terms (which must still have their graph)."""
        norms = {}
        for name, term in terms.items():
            grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
            flat = [g.reshape(-1) for g in grads if g is not None]
            norms[name] = float(torch.linalg.vector_norm(torch.cat(flat))) if flat else 0.0
        total = sum(norms.values())
        for name, norm in norms.items():
            if norm > 0.0 and total > 0.0:
                target = total / norm
                self.weights[name] = (self.momentum * self.weight(name)
                                      + (1.0 - self.momentum) * target)
        return dict(self.weights)
