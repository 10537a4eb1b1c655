r"""The finite-volume Reynolds operator: flux balances of the interior control volumes.

For interior node :math:`(i, j)`, twelve times the net dimensionless volume outflow of its
control volume, divided by its area, is

.. math::

    R_{ij} = \frac{F_{i+1/2,j} - F_{i-1/2,j}}{\Delta x}
           + \lambda^2 \frac{G_{i,j+1/2} - G_{i,j-1/2}}{\Delta z},
    \qquad
    F_{i+1/2,j} = 6\,\theta_{ij}\,\overline{h}_{i+1/2,j}
        - \overline{h^3}_{i+1/2,j} \frac{p_{i+1,j} - p_{ij}}{\Delta x},
    \qquad
    G_{i,j+1/2} = -\overline{h^3}_{i,j+1/2} \frac{p_{i,j+1} - p_{ij}}{\Delta z},

(:math:`F = 12 q_x`, bars are link averages, see :mod:`.film`). The Couette flux of the link
takes the fluid fraction :math:`\theta` of its *upwind* node (the runner moves towards
:math:`+x`): first-order upwinding of the Elrod–Adams transport, which is exactly the central
scheme wherever the film is full (:math:`\theta = 1`). :math:`R` is affine in :math:`(p,
\theta)`:

.. math::

    R = A\,p + C\,\theta + \theta_\text{in}\,c_\text{in},

with :math:`A` the (M-matrix) Poiseuille operator, :math:`C` the Couette operator (centre and
west coefficients only) and :math:`c_\text{in}` the Couette inflow through the leading edge.
With :math:`\theta \equiv 1` this is the plain Reynolds equation :math:`A p = b`,
:math:`b = -(C \mathbf{1} + c_\text{in})`, i.e. :math:`-\partial_x(h^3 \partial_x p) - \dots =
-6\,\partial_x h`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .film import Film
from .grid import Grid
from .stencil import Stencil


@dataclass(frozen=True)
class ReynoldsOperator:
    r"""The discrete Reynolds equation of a batch of films.

    Attributes:
        film: The film it was assembled from.
        poiseuille: :math:`A`, coefficients `batch_shape x nxi x nzi`.
        couette: :math:`C`.
        inlet: :math:`c_\text{in}`, `batch_shape x nxi x nzi` (nonzero on the first column).
    """

    film: Film
    poiseuille: Stencil
    couette: Stencil
    inlet: Tensor

    @property
    def grid(self) -> Grid:
        return self.film.grid

    def full_film_rhs(self) -> Tensor:
        r""":math:`b = -(C\mathbf{1} + c_\text{in})`: the right-hand side when :math:`\theta = 1`."""
        ones = torch.ones_like(self.inlet)
        return -(self.couette.matvec(ones) + self.inlet)

    def residual(self, pressure: Tensor, fill: Tensor, fill_inlet: float = 1.0) -> Tensor:
        r""":math:`R(p, \theta)` on the interior, for interior fields `batch_shape x nxi x nzi`."""
        return (self.poiseuille.matvec(pressure) + self.couette.matvec(fill)
                + fill_inlet * self.inlet)


def assemble(film: Film) -> ReynoldsOperator:
    """Assemble :math:`A`, :math:`C` and :math:`c_\\text{in}` from link-averaged film data.

    Example:
        >>> from models.physics.lubrication.textures import InclinedPad
        >>> from models.physics.lubrication.film import sample_film
        >>> op = assemble(sample_film(InclinedPad(1.0), Grid.line(11)))
        >>> op.poiseuille.shape
        torch.Size([9, 1])
    """
    grid = film.grid
    rows = grid.interior_rows
    dx2 = grid.dx**2
    h3x = film.h3_x[..., rows]
    hx = film.h_x[..., rows]
    east = -h3x[..., 1:, :] / dx2
    west = -h3x[..., :-1, :] / dx2
    north = south = torch.zeros_like(east)
    if film.h3_z is not None:
        scale = grid.lambda_sq / grid.dz**2
        h3z = film.h3_z[..., 1:-1, :]
        north, south = -scale * h3z[..., 1:], -scale * h3z[..., :-1]
    # The links to edge nodes count on the diagonal; their off-diagonal entries would couple
    # to known (zero) pressures, so they are dropped.
    centre = -(east + west + north + south)
    poiseuille = Stencil(centre=centre, west=_zero_first_column(west),
                         east=_zero_last_column(east), south=_zero_first_row(south),
                         north=_zero_last_row(north))
    zeros = torch.zeros_like(hx[..., 1:, :])
    couette = Stencil(centre=6.0 * hx[..., 1:, :] / grid.dx,
                      west=_zero_first_column(-6.0 * hx[..., :-1, :] / grid.dx),
                      east=zeros, south=zeros, north=zeros)
    inlet = torch.zeros_like(zeros)
    inlet = torch.cat([-6.0 * hx[..., :1, :] / grid.dx, inlet[..., 1:, :]], dim=-2)
    return ReynoldsOperator(film=film, poiseuille=poiseuille, couette=couette, inlet=inlet)


def _zero_first_column(t: Tensor) -> Tensor:
    return torch.cat([torch.zeros_like(t[..., :1, :]), t[..., 1:, :]], dim=-2)


def _zero_last_column(t: Tensor) -> Tensor:
    return torch.cat([t[..., :-1, :], torch.zeros_like(t[..., -1:, :])], dim=-2)


def _zero_first_row(t: Tensor) -> Tensor:
    return torch.cat([torch.zeros_like(t[..., :1]), t[..., 1:]], dim=-1)


def _zero_last_row(t: Tensor) -> Tensor:
    return torch.cat([t[..., :-1], torch.zeros_like(t[..., -1:])], dim=-1)


def embed(interior: Tensor, grid: Grid, *, edge: float = 0.0) -> Tensor:
    """Place an interior field `batch x nxi x nzi` into a nodal field `batch x nx x nz`,
    with the value ``edge`` on the edge nodes."""
    pad = (0, 0, 1, 1) if grid.is_line else (1, 1, 1, 1)
    return torch.nn.functional.pad(interior, pad, value=edge)
