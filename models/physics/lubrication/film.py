r"""Film thickness on the grid: the link-averaged coefficients the finite volumes need.

The flux through the face between two nodes depends on the film along the whole link, and a
texture may jump (a step, a pocket edge) anywhere inside it. Rather than sampling :math:`h` at
one point, every link coefficient is the *average over the link's rectangle* (see
:mod:`.grid`) of :math:`h^3` (the Poiseuille conductance), of :math:`h` (the Couette flux) and of
:math:`1/h` (the Couette shear), by the midpoint rule with ``subsamples`` points per direction.
The scheme stays conservative whatever the film: each link carries one flux, counted once out
of one control volume and once into the next. A step that falls on a node is represented
exactly; one that falls inside a link is smeared over that link (first-order error there).
For a smooth film the averages are second-order accurate, like the scheme itself.

A *texture* is any callable ``texture(x, zeta)`` of the pad coordinates (see :mod:`.grid`)
returning the dimensionless film :math:`h = H / h_\text{ref}` with shape
`batch_shape x broadcast(x, zeta).shape`; 1D textures get ``zeta=None`` on a 1D grid and ignore
``zeta`` on a 2D one (the film is then extruded across the pad).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .grid import Grid

Texture = Callable[[Tensor, Tensor | None], Tensor]


@dataclass(frozen=True)
class Film:
    r"""Link-averaged film coefficients of a batch of films on one grid (all dimensionless).

    Attributes:
        grid: The grid they live on.
        h_x: Mean :math:`h` over each x-link, `batch_shape x (nx - 1) x nz`.
        h3_x: Mean :math:`h^3` over each x-link, `batch_shape x (nx - 1) x nz`.
        inv_h_x: Mean :math:`1/h` over each x-link, `batch_shape x (nx - 1) x nz`.
        h3_z: Mean :math:`h^3` over each z-link, `batch_shape x nx x (nz - 1)` (None in 1D).
        h_nodes: :math:`h` at the nodes, `batch_shape x nx x nz` (for plots and reports).
    """

    grid: Grid
    h_x: Tensor
    h3_x: Tensor
    inv_h_x: Tensor
    h3_z: Tensor | None
    h_nodes: Tensor

    @property
    def batch_shape(self) -> torch.Size:
        return self.h_x.shape[:-2]

    @property
    def dtype(self) -> torch.dtype:
        return self.h_x.dtype


def sample_film(texture: Texture, grid: Grid, *, subsamples: int = 4,
                dtype: torch.dtype = torch.float64) -> Film:
    r"""Average a texture over every link of a grid.

    Args:
        texture: ``texture(x, zeta) -> h``, differentiable in its parameters.
        grid: The grid.
        subsamples: Midpoint-rule points per direction in each link rectangle.
        dtype: Dtype of the sample coordinates (float64 unless you know why not).

    Returns:
        The :class:`Film`; gradients flow from its coefficients back to the texture's parameters.

    Raises:
        ValueError: If the film is not strictly positive somewhere.

    Example:
        >>> from models.physics.lubrication.textures import InclinedPad
        >>> film = sample_film(InclinedPad(1.2), Grid.line(101))
        >>> film.h3_x.shape
        torch.Size([100, 1])
    """
    if subsamples < 1:
        raise ValueError(f"subsamples must be at least 1, got {subsamples}")
    x, zeta = grid.x_link_cells(subsamples, dtype)
    h = texture(x, zeta)
    _check_positive(h)
    nz = grid.nz
    h_x = _cell_mean(h, nz)
    h3_x = _cell_mean(h**3, nz)
    inv_h_x = _cell_mean(1.0 / h, nz)
    h3_z = None
    if not grid.is_line:
        xz, zz = grid.z_link_cells(subsamples, dtype)
        hz = texture(xz, zz)
        _check_positive(hz)
        h3_z = _cell_mean(hz**3, nz - 1)
    xn, zn = grid.node_points(dtype)
    hn = texture(xn, zn)
    h_nodes = torch.broadcast_to(hn, (*hn.shape[:-2], grid.nx, nz))
    return Film(grid=grid, h_x=h_x, h3_x=h3_x, inv_h_x=inv_h_x, h3_z=h3_z, h_nodes=h_nodes)


def _cell_mean(values: Tensor, n_cols: int) -> Tensor:
    """Mean over the sample axes of `batch x n_rows x m x (n_cols | 1) x (m | 1)` values."""
    mean = values.mean(dim=(-3, -1))
    return torch.broadcast_to(mean, (*mean.shape[:-1], n_cols))


def _check_positive(h: Tensor) -> None:
    low = h.detach().min()
    if not bool(low > 0):
        raise ValueError(f"the film thickness must be positive everywhere, min is {float(low)}")
