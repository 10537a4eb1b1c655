r"""Differentiable surrogates that know their uncertainty.

* :mod:`.ensemble` — :class:`DeepEnsemble` of MLPs (seeds and bootstraps), mean and epistemic
  sd in original units, differentiable w.r.t. the inputs, stored as bytes.
* :mod:`.training` — full-batch heavy-ball training at a curvature-set, provably stable step,
  with early stopping and divergence recovery.
* :mod:`.stability` — :math:`\lambda_\max` of a loss Hessian by the Lanczos iteration on
  Hessian-vector products, and the stable rate :math:`2 f / \lambda_\max`.
* :mod:`.normalization` — the unit-cube input and standard-score output transforms.
* :mod:`.mlp` — a stack of MLPs evaluated as one batched network.
* :mod:`.errors` — :class:`TrainingDivergedError` and friends (science errors).
"""

from .ensemble import DeepEnsemble, EnsembleConfig
from .errors import InvalidTrainingDataError, SurrogateStateError, TrainingDivergedError
from .normalization import Standardize, UnitCube
from .stability import (
    EigenEstimate,
    hessian_vector_product,
    largest_hessian_eigenvalue,
    power_iteration,
    stable_learning_rate,
)

__all__ = [
    "DeepEnsemble",
    "EigenEstimate",
    "EnsembleConfig",
    "InvalidTrainingDataError",
    "Standardize",
    "SurrogateStateError",
    "TrainingDivergedError",
    "UnitCube",
    "hessian_vector_product",
    "largest_hessian_eigenvalue",
    "power_iteration",
    "stable_learning_rate",
]
