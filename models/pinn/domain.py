r"""Rectangular domains (1D, 2D, space-time) and their collocation points.

A :class:`Box` is a product of intervals, one per input dimension (e.g. ``("x", "t")`` or
``("x", "y", "t")``). Points are drawn from a scrambled Sobol sequence (low discrepancy: a
residual averaged over them is a better quadrature than over uniform draws) or uniformly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Box"]


@dataclass(frozen=True)
class Box:
    """A box :math:`\\prod_j [a_j, b_j]` in the network's input space.

    Attributes:
        lower: Lower bounds :math:`a_j` (physical units of each input).
        upper: Upper bounds :math:`b_j`.
        names: One name per dimension, e.g. ``("x", "t")``; ``"t"`` marks time for the
            initial condition.
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.lower) == len(self.upper) == len(self.names)):
            raise ValueError("lower, upper and names must have one entry per dimension")
        if any(b <= a for a, b in zip(self.lower, self.upper, strict=True)):
            raise ValueError(f"empty box: lower {self.lower}, upper {self.upper}")

    @property
    def dim(self) -> int:
        """Number of input dimensions."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Position of the dimension called ``name``."""
        return self.names.index(name)

    def scale(self, u: Tensor) -> Tensor:
        """Map unit-cube points `n x d` to the box."""
        lo = torch.tensor(self.lower, dtype=u.dtype, device=u.device)
        hi = torch.tensor(self.upper, dtype=u.dtype, device=u.device)
        return lo + (hi - lo) * u

    def normalise(self, x: Tensor) -> Tensor:
        """Map box points to :math:`[-1, 1]^d` (the network's input scaling)."""
        lo = torch.tensor(self.lower, dtype=x.dtype, device=x.device)
        hi = torch.tensor(self.upper, dtype=x.dtype, device=x.device)
        return 2.0 * (x - lo) / (hi - lo) - 1.0

    def sample(self, n: int, seed: int, dtype: torch.dtype = torch.float32,
               sobol: bool = True) -> Tensor:
        """``n`` interior points, `n x d`."""
        if sobol:
            engine = torch.quasirandom.SobolEngine(self.dim, scramble=True, seed=seed)
            u = engine.draw(n, dtype=torch.float64)
        else:
            u = torch.rand(n, self.dim, generator=torch.Generator().manual_seed(seed),
                           dtype=torch.float64)
        return self.scale(u).to(dtype)

    def sample_face(self, name: str, side: str, n: int, seed: int,
                    dtype: torch.dtype = torch.float32) -> Tensor:
        """``n`` points on the face where dimension ``name`` is at its ``"lower"``/``"upper"``
        bound (for the time dimension, ``"lower"`` is the initial face)."""
        j = self.index(name)
        if side not in ("lower", "upper"):
            raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
        if self.dim == 1:
            points = torch.empty(n, 1, dtype=torch.float64)
        else:
            points = self.sample(n, seed, torch.float64)
        bound = self.lower[j] if side == "lower" else self.upper[j]
        points[:, j] = bound
        return points.to(dtype)

    def grid(self, counts: Sequence[int], dtype: torch.dtype = torch.float64) -> Tensor:
        """Tensor-product grid with ``counts[j]`` points per dimension, bounds included,
        `prod(counts) x d`, last dimension fastest."""
        axes = [torch.linspace(a, b, c, dtype=dtype)
                for a, b, c in zip(self.lower, self.upper, counts, strict=True)]
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=1)
