r"""What a solved film delivers: load, friction, fluxes, all dimensionless (see :mod:`.scaling`).

* Load :math:`w = \iint p \,dx\,dz` by the trapezoid rule on the nodes (second order; exact for
  the piecewise-linear pressure of a stepped 1D film).
* Friction on the moving surface,
  :math:`f = \iint (\theta / h + \tfrac{h}{2} \partial_x p)\,dx\,dz` (Couette + Poiseuille
  shear), summed over the x-link rectangles, which tile the pad: the Couette part uses the link
  average of :math:`1/h` times the upwind node's fluid fraction (the sheared fluid of a partly
  filled film is the fraction :math:`\theta` of the gap, JFO), the Poiseuille part the link
  average of :math:`h` times the pressure drop across the link.
* The x-flux :math:`q = \theta h / 2 - h^3 \partial_x p / 12` through every x-link, exactly the
  flux the finite volumes balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .film import Film
from .grid import Grid


def load(pressure: Tensor, grid: Grid) -> Tensor:
    """Dimensionless load :math:`w = W h_\\text{ref}^2 / (\\mu U L^2 B)`.

    Args:
        pressure: Nodal pressure `batch_shape x nx x nz`, zero on the edges.
        grid: Its grid.

    Returns:
        `batch_shape`.
    """
    weights = grid.z_weights(pressure.dtype)
    return grid.dx * (pressure * weights).sum(dim=(-2, -1))


def friction(pressure: Tensor, fill: Tensor, film: Film) -> Tensor:
    r"""Dimensionless friction :math:`f = F h_\text{ref} / (\mu U L B)` on the moving surface.

    Args:
        pressure: Nodal pressure `batch_shape x nx x nz`.
        fill: Nodal fluid fraction :math:`\theta`, `batch_shape x nx x nz`.
        film: The link-averaged film.

    Returns:
        `batch_shape`.
    """
    grid = film.grid
    weights = grid.z_weights(pressure.dtype)
    couette = grid.dx * fill[..., :-1, :] * film.inv_h_x
    poiseuille = 0.5 * film.h_x * (pressure[..., 1:, :] - pressure[..., :-1, :])
    return ((couette + poiseuille) * weights).sum(dim=(-2, -1))


def x_flux(pressure: Tensor, fill: Tensor, film: Film) -> Tensor:
    r"""Dimensionless flux :math:`q = Q_x / (U h_\text{ref})` per unit width on every x-link.

    Returns:
        `batch_shape x (nx - 1) x nz`.
    """
    dp = (pressure[..., 1:, :] - pressure[..., :-1, :]) / film.grid.dx
    return 0.5 * fill[..., :-1, :] * film.h_x - film.h3_x * dp / 12.0


@dataclass(frozen=True)
class MassBalance:
    r"""Volume flows of the interior rows, in units of :math:`U h_\text{ref} B`, `batch_shape`.

    Attributes:
        inflow: Through the leading edge's links.
        outflow: Through the trailing edge's links.
        side_leakage: Out through both side edges (0 in 1D).
        imbalance: ``inflow - outflow - side_leakage``: zero up to round-off for a
            mass-conserving solution, the mass lost in the cavitated zone otherwise.
    """

    inflow: Tensor
    outflow: Tensor
    side_leakage: Tensor
    imbalance: Tensor


def mass_balance(pressure: Tensor, fill: Tensor, film: Film) -> MassBalance:
    """The global flow balance of the interior control volumes."""
    grid = film.grid
    rows = grid.interior_rows
    dz = grid.dz
    q = x_flux(pressure, fill, film)[..., rows]
    inflow = dz * q[..., 0, :].sum(-1)
    outflow = dz * q[..., -1, :].sum(-1)
    if film.h3_z is None:
        side = torch.zeros_like(inflow)
    else:
        h3z = film.h3_z[..., 1:-1, :]
        p = pressure[..., 1:-1, :]
        south = h3z[..., 0] * (p[..., 1] - p[..., 0]) / dz
        north = -h3z[..., -1] * (p[..., -1] - p[..., -2]) / dz
        side = grid.lambda_sq * grid.dx * (south + north).sum(-1) / 12.0
    return MassBalance(inflow, outflow, side, inflow - outflow - side)
