r"""PDE coefficients, known or trainable, positive by a log-parameterisation.

An inverse problem recovers unknown coefficients (a diffusivity :math:`D`, a growth rate
:math:`r`) together with the field. Optimising :math:`\log D` instead of :math:`D` keeps them
positive without a constraint, and makes a relative change the natural step (coefficients of
different orders of magnitude train at comparable rates).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

__all__ = ["Coefficients"]


class Coefficients(nn.Module):
    r"""Named positive PDE coefficients.

    Args:
        known: Fixed values, name -> value (physical units of the PDE).
        unknown: Trainable ones, name -> initial guess (> 0); stored as :math:`\log`.
        dtype: Dtype of the values.
    """

    def __init__(self, known: Mapping[str, float] | None = None,
                 unknown: Mapping[str, float] | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.known = {k: float(v) for k, v in (known or {}).items()}
        unknown = dict(unknown or {})
        bad = {k: v for k, v in unknown.items() if not v > 0}
        if bad:
            raise ValueError(f"initial guesses must be positive: {bad}")
        self.log_values = nn.ParameterDict(
            {k: nn.Parameter(torch.tensor(math.log(v), dtype=dtype)) for k, v in unknown.items()})

    def values(self) -> dict[str, Tensor | float]:  # type: ignore[override]
        """Every coefficient by name (trainable ones as differentiable tensors)."""
        out: dict[str, Tensor | float] = dict(self.known)
        out.update({k: torch.exp(v) for k, v in self.log_values.items()})
        return out

    def estimates(self) -> dict[str, float]:
        """The current values of the trainable coefficients, as floats."""
        return {k: float(torch.exp(v.detach())) for k, v in self.log_values.items()}
