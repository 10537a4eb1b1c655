r"""Input and output transforms of a surrogate: the unit cube in, standard scores out.

A network trains best when its inputs are :math:`O(1)` and its targets have unit spread, and
an ensemble's spread is only comparable across outputs in a common scale. Both transforms are
affine, invertible, differentiable, and stored with the model (:meth:`state_dict`) so that a
stored model version predicts in the original units without its training data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Standardize", "UnitCube"]


@dataclass(frozen=True)
class UnitCube:
    r"""Maps :math:`x \in [\ell, u]` to :math:`(x - \ell) / (u - \ell) \in [0, 1]^d`.

    Attributes:
        lower: :math:`\ell`, shape `d`.
        upper: :math:`u`, shape `d` (:math:`u > \ell`).

    Example:
        >>> cube = UnitCube.from_bounds(torch.tensor([[0.0, -1.0], [2.0, 1.0]]))
        >>> cube.transform(torch.tensor([[1.0, 1.0]]))
        tensor([[0.5000, 1.0000]])
    """

    lower: Tensor
    upper: Tensor

    def __post_init__(self) -> None:
        if self.lower.shape != self.upper.shape or self.lower.dim() != 1:
            raise ValueError(f"lower and upper must be vectors of one shape, got "
                             f"{tuple(self.lower.shape)} and {tuple(self.upper.shape)}")
        if not bool((self.upper > self.lower).all()):
            raise ValueError("every upper bound must exceed its lower bound")

    @classmethod
    def from_bounds(cls, bounds: Tensor) -> UnitCube:
        """From a `2 x d` tensor of lower and upper bounds."""
        if bounds.dim() != 2 or bounds.shape[0] != 2:
            raise ValueError(f"bounds must be 2 x d, got {tuple(bounds.shape)}")
        return cls(bounds[0].clone(), bounds[1].clone())

    @classmethod
    def from_data(cls, X: Tensor) -> UnitCube:
        """The bounding box of the rows of ``X`` (`n x d`); a constant column gets width 1."""
        lower, upper = X.amin(dim=0), X.amax(dim=0)
        flat = upper <= lower
        return cls(lower.clone(), torch.where(flat, lower + 1.0, upper))

    @property
    def width(self) -> Tensor:
        return self.upper - self.lower

    def transform(self, X: Tensor) -> Tensor:
        """`... x d` in original units to the unit cube."""
        return (X - self.lower.to(X)) / self.width.to(X)

    def untransform(self, U: Tensor) -> Tensor:
        """`... x d` in the unit cube to original units."""
        return self.lower.to(U) + U * self.width.to(U)

    def to(self, dtype: torch.dtype) -> UnitCube:
        return UnitCube(self.lower.to(dtype), self.upper.to(dtype))

    def state_dict(self) -> dict[str, Tensor]:
        return {"lower": self.lower.clone(), "upper": self.upper.clone()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> UnitCube:
        return cls(state["lower"].clone(), state["upper"].clone())


@dataclass(frozen=True)
class Standardize:
    r"""Maps outputs :math:`y` to standard scores :math:`(y - m) / s`, per output.

    Attributes:
        mean: :math:`m`, shape `m`.
        std: :math:`s > 0`, shape `m`.

    Example:
        >>> st = Standardize.fit(torch.tensor([[1.0], [3.0]]))
        >>> st.transform(torch.tensor([[3.0]])), st.untransform_sd(torch.tensor([[1.0]]))
        (tensor([[0.7071]]), tensor([[1.4142]]))
    """

    mean: Tensor
    std: Tensor

    def __post_init__(self) -> None:
        if self.mean.shape != self.std.shape or self.mean.dim() != 1:
            raise ValueError("mean and std must be vectors of one shape")
        if not bool((self.std > 0).all()):
            raise ValueError("every std must be positive")

    @classmethod
    def fit(cls, Y: Tensor) -> Standardize:
        """Mean and (unbiased) sd of each column of ``Y`` (`n x m`); a constant column (or a
        single row) gets sd 1, so that it is only centred."""
        mean = Y.mean(dim=0)
        std = Y.std(dim=0) if Y.shape[0] > 1 else torch.ones_like(mean)
        tiny = 1e-12 * mean.abs().clamp(min=1.0)
        return cls(mean.clone(), torch.where(std > tiny, std, torch.ones_like(std)))

    def transform(self, Y: Tensor) -> Tensor:
        return (Y - self.mean.to(Y)) / self.std.to(Y)

    def untransform(self, Z: Tensor) -> Tensor:
        return self.mean.to(Z) + Z * self.std.to(Z)

    def untransform_sd(self, S: Tensor) -> Tensor:
        """A standard deviation in standard scores back to original units."""
        return S * self.std.to(S)

    def to(self, dtype: torch.dtype) -> Standardize:
        return Standardize(self.mean.to(dtype), self.std.to(dtype))

    def state_dict(self) -> dict[str, Tensor]:
        return {"mean": self.mean.clone(), "std": self.std.clone()}

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> Standardize:
        return cls(state["mean"].clone(), state["std"].clone())
