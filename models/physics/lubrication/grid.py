r"""The finite-volume grid of the pad: pressure nodes, the links between them, their weights.

Pressure lives on the nodes :math:`x_i = i\,\Delta x` (:math:`i = 0 \dots n_x - 1`,
:math:`\Delta x = 1 / (n_x - 1)`) and, on a 2D pad, :math:`z_j = j\,\Delta z`. The edge nodes
carry the ambient pressure; the others are unknowns. Each interior node owns the control
volume :math:`[x_{i-1/2}, x_{i+1/2}] \times [z_{j-1/2}, z_{j+1/2}]`; the flux through its
faces is carried by *links*:

* an **x-link** :math:`(i + 1/2, j)` joins node :math:`(i, j)` to :math:`(i + 1, j)`; its film
  coefficients are averages over the rectangle
  :math:`[x_i, x_{i+1}] \times [z_{j-1/2}, z_{j+1/2}]` (clipped to the pad), and these
  rectangles tile the pad exactly;
* a **z-link** :math:`(i, j + 1/2)` joins :math:`(i, j)` to :math:`(i, j + 1)`, averaged over
  :math:`[x_{i-1/2}, x_{i+1/2}] \times [z_j, z_{j+1}]`.

A 1D grid (an infinitely wide pad) is the case ``nz == 1``: one row, no z-links, unit width.

Textures are evaluated in *pad coordinates* :math:`(X/L, (Z - B/2)/L)`: both in units of the
pad length (so a circular dimple is circular), the second measured from the pad's midline
(so a pattern centred on :math:`\zeta = 0` is symmetric about it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Grid:
    r"""A uniform node grid on the unit pad.

    Args:
        nx: Nodes along the sliding direction, edges included (at least 3).
        nz: Nodes across it, edges included: 1 for a 1D (infinitely wide) pad, else at least 3.
        width_ratio: :math:`B / L`, the pad's width over its length (2D only; ``inf`` in 1D).

    Example:
        >>> Grid.line(201).dx
        0.005
        >>> Grid.pad(64, 32, width_ratio=1.0).interior_shape
        (62, 30)
    """

    nx: int
    nz: int = 1
    width_ratio: float = math.inf

    def __post_init__(self) -> None:
        if self.nx < 3:
            raise ValueError(f"a grid needs at least 3 nodes along x, got nx={self.nx}")
        if self.nz == 2 or self.nz < 1:
            raise ValueError(f"nz must be 1 (a 1D pad) or at least 3, got nz={self.nz}")
        if self.nz > 1 and not (0 < self.width_ratio < math.inf):
            raise ValueError(f"a 2D pad needs a finite positive width_ratio B/L, "
                             f"got {self.width_ratio}")

    @classmethod
    def line(cls, nx: int) -> Grid:
        """A 1D grid: an infinitely wide pad (no side leakage)."""
        return cls(nx=nx)

    @classmethod
    def pad(cls, nx: int, nz: int, width_ratio: float) -> Grid:
        """A 2D grid of a pad with :math:`B / L` = ``width_ratio``."""
        return cls(nx=nx, nz=nz, width_ratio=float(width_ratio))

    @property
    def is_line(self) -> bool:
        """Whether this is a 1D (infinitely wide) pad."""
        return self.nz == 1

    @property
    def dx(self) -> float:
        return 1.0 / (self.nx - 1)

    @property
    def dz(self) -> float:
        """Node spacing across the pad (1 for a 1D pad: its one row stands for unit width)."""
        return 1.0 if self.is_line else 1.0 / (self.nz - 1)

    @property
    def lambda_sq(self) -> float:
        r""":math:`\lambda^2 = (L / B)^2`, the weight of the z-diffusion (0 in 1D)."""
        return 0.0 if self.is_line else 1.0 / self.width_ratio**2

    @property
    def interior_shape(self) -> tuple[int, int]:
        """``(nx - 2, nz - 2)`` unknowns (``(nx - 2, 1)`` in 1D)."""
        return (self.nx - 2, 1 if self.is_line else self.nz - 2)

    @property
    def interior_rows(self) -> slice:
        """The z-indices of the unknown rows."""
        return slice(0, 1) if self.is_line else slice(1, self.nz - 1)

    def x(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """Node abscissae :math:`x_i`, shape `nx`."""
        return torch.linspace(0.0, 1.0, self.nx, dtype=dtype)

    def z(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """Node ordinates :math:`z_j` in :math:`[0, 1]`, shape `nz` (``[0.5]`` in 1D)."""
        if self.is_line:
            return torch.full((1,), 0.5, dtype=dtype)
        return torch.linspace(0.0, 1.0, self.nz, dtype=dtype)

    def z_weights(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """Trapezoid weights of the rows, shape `nz`, summing to 1 (the pad's unit width)."""
        if self.is_line:
            return torch.ones(1, dtype=dtype)
        w = torch.full((self.nz,), self.dz, dtype=dtype)
        w[0] = w[-1] = 0.5 * self.dz
        return w

    def to_pad_z(self, z: Tensor) -> Tensor:
        r"""Pad coordinate :math:`\zeta = (Z - B/2) / L` of the dimensionless :math:`z = Z/B`."""
        return (z - 0.5) * self.width_ratio

    def x_link_cells(self, subsamples: int, dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
        r"""Midpoint sample points of every x-link rectangle.

        Returns:
            ``x`` of shape `(nx - 1) x m x 1 x 1` and the pad coordinate :math:`\zeta` of shape
            `1 x 1 x nz x m` (``None`` in 1D), which broadcast to the
            `(nx - 1) x m x nz x m` samples (``m`` = ``subsamples``).
        """
        x = _cell_midpoints(self.x(dtype), 0.0, 1.0, subsamples, link=True)
        if self.is_line:
            return x[:, :, None, None], None
        z = _cell_midpoints(self.z(dtype), 0.0, 1.0, subsamples, link=False)
        return x[:, :, None, None], self.to_pad_z(z)[None, None]

    def z_link_cells(self, subsamples: int, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        r"""Midpoint sample points of every z-link rectangle (2D only).

        Returns:
            ``x`` of shape `nx x m x 1 x 1` and :math:`\zeta` of shape `1 x 1 x (nz - 1) x m`.
        """
        if self.is_line:
            raise ValueError("a 1D grid has no z-links")
        x = _cell_midpoints(self.x(dtype), 0.0, 1.0, subsamples, link=False)
        z = _cell_midpoints(self.z(dtype), 0.0, 1.0, subsamples, link=True)
        return x[:, :, None, None], self.to_pad_z(z)[None, None]

    def node_points(self, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor | None]:
        r"""The nodes as ``x`` of shape `nx x 1` and :math:`\zeta` of shape `1 x nz` (or None)."""
        if self.is_line:
            return self.x(dtype)[:, None], None
        return self.x(dtype)[:, None], self.to_pad_z(self.z(dtype))[None, :]


def _cell_midpoints(nodes: Tensor, lo: float, hi: float, m: int, *, link: bool) -> Tensor:
    """``m`` midpoints of each link interval (``link``) or each dual cell clipped to [lo, hi]."""
    if link:
        left, right = nodes[:-1], nodes[1:]
    else:
        h = nodes[1] - nodes[0]
        left = (nodes - 0.5 * h).clamp(min=lo)
        right = (nodes + 0.5 * h).clamp(max=hi)
    frac = (torch.arange(m, dtype=nodes.dtype) + 0.5) / m
    return left[:, None] + (right - left)[:, None] * frac[None, :]
