r"""Chance constraints: "suggest only designs with ``P(constraint met) >= 1 - alpha``".

A soft outcome constraint (the default) weights the acquisition by the probability of
feasibility, so a design with a large enough expected improvement is suggested even when it is
probably unsafe. A lab that must not run unsafe experiments sets a risk level ``alpha`` on the
constraint, and then every suggestion must have, under the model, a marginal probability of
meeting it of at least ``1 - alpha``:

    P(met) = Phi(z),  z = -sign * (mu(x) - threshold) / sigma(x)  >=  z_alpha = Phi^{-1}(1 - alpha)

(``mu``, ``sigma``: the posterior mean and sd of the outcome's latent value, noise excluded).

How it is enforced, in two parts:

1. **Steering (a penalty).** BoTorch's mixed optimiser takes no nonlinear constraints, so the
   optimised function is ``log a(X) - penalty * sum_{x in X} softplus(z_alpha - z(x))``:
   zero-ish where the requirement holds, growing linearly with the shortfall (in sd units) where
   it does not, with a gradient that points to safe designs.
2. **The guarantee (a filter).** Every optimised design is then checked exactly
   (:class:`ChanceFilter`); one that misses the probability is replaced by another restart's
   optimum that meets it, else by the best-scoring design of a random feasible pool that meets
   it (:func:`models.bo.optimize.optimize_acquisition`). If none does,
   :class:`~models.bo.errors.NoSafeDesignError` says so, with the best probability seen.

So the guarantee comes from the filter, and the penalty only makes the filter rarely needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import torch
import torch.nn.functional as F
from botorch.acquisition import AcquisitionFunction
from botorch.models.model import Model
from torch import Tensor

from models.bo.errors import NoSafeDesignError
from models.bo.problem import OutcomeConstraint

#: Sharpness of the softplus in the penalty (per sd of shortfall).
_SOFTPLUS_BETA = 10.0


@dataclass(frozen=True)
class ChanceConstraint:
    """An outcome constraint with its risk level, located in the model list.

    Attributes:
        constraint: The outcome constraint (``risk`` set).
        output: Index of its outcome among the model list's outputs.
    """

    constraint: OutcomeConstraint
    output: int

    @property
    def alpha(self) -> float:
        assert self.constraint.risk is not None
        return self.constraint.risk

    @property
    def z_required(self) -> float:
        """``Phi^{-1}(1 - alpha)``."""
        return NormalDist().inv_cdf(1.0 - self.alpha)


def chance_constraints(constraints: Sequence[OutcomeConstraint],
                       outputs: Sequence[str]) -> list[ChanceConstraint]:
    """The constraints with a risk level, located among the model outputs."""
    return [ChanceConstraint(c, outputs.index(c.name)) for c in constraints
            if c.risk is not None]


def standardized_margin(model: Model, X: Tensor, constraints: Sequence[OutcomeConstraint],
                        outputs: Sequence[str]) -> Tensor:
    r"""``z = -sign * (mu - threshold) / sigma`` of each constraint: ``P(met) = Phi(z)``.

    Args:
        model: The model list.
        X: `batch_shape x d` features.
        constraints: The outcome constraints.
        outputs: The model list's outputs, in order.

    Returns:
        `batch_shape x c` margins.
    """
    if not constraints:
        return torch.zeros(*X.shape[:-1], 0, dtype=X.dtype, device=X.device)
    indices = sorted({outputs.index(c.name) for c in constraints})
    posterior: Any = model.posterior(X, output_indices=indices)
    mean, variance = posterior.mean, posterior.variance
    columns = [indices.index(outputs.index(c.name)) for c in constraints]
    sign = torch.tensor([c.sign for c in constraints], dtype=X.dtype, device=X.device)
    threshold = torch.tensor([c.threshold for c in constraints], dtype=X.dtype,
                             device=X.device)
    sd = variance[..., columns].clamp_min(1e-18).sqrt()
    return -sign * (mean[..., columns] - threshold) / sd


def constraint_probabilities(model: Model, X: Tensor,
                             constraints: Sequence[OutcomeConstraint],
                             outputs: Sequence[str]) -> Tensor:
    r"""Marginal ``P(met)`` of each constraint at each design.

    Args:
        model: The model list.
        X: `n x d` features.
        constraints: The outcome constraints.
        outputs: The model list's outputs, in order.

    Returns:
        `n x c` probabilities.
    """
    with torch.no_grad():
        z = standardized_margin(model, X, constraints, outputs)
    return torch.special.ndtr(z)


class ChanceConstrainedAcquisition(AcquisitionFunction):
    r"""``log a(X)`` minus a penalty on designs short of the required probabilities.

    Args:
        acq_function: The base (log-valued) acquisition; its ``X_pending`` is the one used.
        model: The model list.
        constraints: The outcome constraints with a risk level.
        outputs: The model list's outputs, in order.
        penalty: Log-acquisition units per sd of shortfall.
    """

    def __init__(self, acq_function: AcquisitionFunction, model: Model,
                 constraints: Sequence[OutcomeConstraint], outputs: Sequence[str],
                 penalty: float) -> None:
        super().__init__(model=model)
        self.acq_function = acq_function
        self.constraints = [c for c in constraints if c.risk is not None]
        self.outputs = list(outputs)
        self.penalty = float(penalty)
        alphas = [float(c.risk or 0.0) for c in self.constraints]
        self.register_buffer("z_required", torch.tensor(
            [NormalDist().inv_cdf(1.0 - a) for a in alphas], dtype=torch.float64))

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        """Set the base acquisition's pending designs (the only ones: they are shared)."""
        self.acq_function.set_X_pending(X_pending)

    def forward(self, X: Tensor) -> Tensor:
        r"""Penalised acquisition.

        Args:
            X: `batch_shape x q x d` candidate batches.

        Returns:
            `batch_shape` values.
        """
        value = self.acq_function(X)
        z = standardized_margin(self.model, X, self.constraints, self.outputs)
        required: Tensor = self.z_required  # type: ignore[assignment]
        shortfall = F.softplus(required.to(z) - z, beta=_SOFTPLUS_BETA)
        return value - self.penalty * shortfall.sum(dim=(-1, -2))


class ChanceFilter:
    r"""Accepts the designs that meet every chance constraint (a
    :class:`~models.bo.optimize.CandidateFilter`).

    Args:
        model: The model list.
        constraints: The outcome constraints (those without a risk level are ignored).
        outputs: The model list's outputs, in order.
    """

    def __init__(self, model: Model, constraints: Sequence[OutcomeConstraint],
                 outputs: Sequence[str]) -> None:
        self.model = model
        self.constraints = [c for c in constraints if c.risk is not None]
        self.outputs = list(outputs)
        self.required = torch.tensor([1.0 - float(c.risk or 0.0) for c in self.constraints],
                                     dtype=torch.float64)

    def probabilities(self, X: Tensor) -> Tensor:
        """`n x c` marginal probabilities of the chance constraints."""
        return constraint_probabilities(self.model, X, self.constraints, self.outputs)

    def __call__(self, X: Tensor) -> Tensor:
        """`n` booleans: every chance constraint's probability is at least ``1 - alpha``."""
        return (self.probabilities(X) >= self.required.to(X)).all(dim=-1)

    def error(self, X: Tensor) -> NoSafeDesignError:
        """The error for a pool ``X`` in which no design is safe enough."""
        shortfall = (self.probabilities(X) - self.required.to(X)).min(dim=-1).values
        best = int(shortfall.argmax())
        probabilities = self.probabilities(X[best:best + 1])[0].tolist()
        return NoSafeDesignError(
            f"no design found with P(constraint met) >= 1 - alpha for every chance "
            f"constraint; the best of {X.shape[0]} feasible designs reaches "
            + ", ".join(f"{c.name}: {p:.3f} (needs {r:.3f})" for c, p, r in
                        zip(self.constraints, probabilities, self.required.tolist(),
                            strict=True)),
            {"candidates": int(X.shape[0]),
             "best_probabilities": {c.name: p for c, p in
                                    zip(self.constraints, probabilities, strict=True)},
             "required": {c.name: r for c, r in
                          zip(self.constraints, self.required.tolist(), strict=True)}})
