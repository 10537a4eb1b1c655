r"""The terms qLogNEI is built from, as value objects: the objective and the constraint slacks.

BoTorch takes both as callables on posterior samples. Plain closures would do for BoTorch;
frozen dataclasses also say what they compute (which output, which sign, threshold and
scale), so :class:`models.bo.fused_log_nei.FusedLogNEI` can evaluate every constraint in one
pass and the failure model's constraint is one of the same kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

__all__ = ["OutcomeSlack", "SignedOutcome"]


@dataclass(frozen=True)
class OutcomeSlack:
    r"""A BoTorch constraint callable: ``sign * (y_index - threshold) / scale``, ``<= 0``
    where met. A value object rather than a closure, so that
    :class:`models.bo.fused_log_nei.FusedLogNEI` can evaluate all constraints in one pass.

    Attributes:
        index: The constrained output in the model list.
        sign: ``+1`` for ``y <= threshold``, ``-1`` for ``y >= threshold``.
        threshold: The bound, in the outcome's units.
        scale: The slack's unit (the outcome's sd in the data, so one ``eta`` suits all).
    """

    index: int
    sign: float
    threshold: float
    scale: float

    def __call__(self, Y: Tensor, X: Any = None) -> Tensor:
        """`sample_shape x batch_shape x q` slacks of `... x q x m` samples."""
        return self.sign * (Y[..., self.index] - self.threshold) / self.scale


@dataclass(frozen=True)
class SignedOutcome:
    """A one-output MC objective, ``sign * y_index`` (``sign = -1`` to minimise)."""

    index: int
    sign: float

    def __call__(self, Y: Tensor, X: Any = None) -> Tensor:
        return self.sign * Y[..., self.index]
