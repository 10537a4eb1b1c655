"""One call from a texture (or a sampled film) to a solved, differentiable bearing.

Example:
    >>> from models.physics.lubrication import Grid, InclinedPad, simulate
    >>> sol = simulate(InclinedPad(1.2), Grid.line(201), cavitation="reynolds")
    >>> round(float(sol.load), 4)   # the best plane slider's load coefficient
    0.1602
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .cavitation import CavitationModel, get_cavitation_model
from .film import Film, Texture, sample_film
from .grid import Grid
from .outputs import MassBalance, friction, load, mass_balance, x_flux
from .reynolds import assemble, embed


@dataclass(frozen=True)
class LubricationSolution:
    r"""A solved batch of films (dimensionless, see :mod:`.scaling`).

    Attributes:
        film: The link-averaged film it solves.
        model: The cavitation model's name.
        pressure: Nodal pressure :math:`p`, `batch_shape x nx x nz` (``nz = 1`` in 1D).
        fill: Nodal fluid fraction :math:`\theta`, `batch_shape x nx x nz`.
        cavitated: Boolean mask of cavitated interior nodes, `batch_shape x nx x nz`.
        load: :math:`w = W h_\text{ref}^2 / (\mu U L^2 B)`, `batch_shape`.
        friction: :math:`f = F h_\text{ref} / (\mu U L B)`, `batch_shape`.
        iterations: Active-set iterations of the cavitation solve.
    """

    film: Film
    model: str
    pressure: Tensor
    fill: Tensor
    cavitated: Tensor
    load: Tensor
    friction: Tensor
    iterations: int

    @property
    def grid(self) -> Grid:
        return self.film.grid

    @property
    def friction_coefficient(self) -> Tensor:
        r""":math:`f / w = (F / W)\,(L / h_\text{ref})`, `batch_shape`; times
        :math:`h_\text{ref} / L` (or :meth:`BearingScales.friction_coefficient`) gives
        :math:`F / W`."""
        return self.friction / self.load

    def x_flux(self) -> Tensor:
        """Flux :math:`q` on every x-link, `batch_shape x (nx - 1) x nz`."""
        return x_flux(self.pressure, self.fill, self.film)

    def mass_balance(self) -> MassBalance:
        """Inflow, outflow, side leakage and their imbalance."""
        return mass_balance(self.pressure, self.fill, self.film)


def solve_film(film: Film, cavitation: str | CavitationModel = "jfo") -> LubricationSolution:
    """Solve the Reynolds equation of a sampled film.

    Args:
        film: From :func:`.film.sample_film`.
        cavitation: ``"jfo"`` (mass-conserving, default), ``"reynolds"`` (:math:`p \\ge 0` LCP)
            or ``"none"``, or a configured :class:`CavitationModel`.

    Returns:
        The :class:`LubricationSolution`; load, friction and pressure are differentiable
        w.r.t. the film (at a fixed cavitated set).
    """
    model = get_cavitation_model(cavitation)
    grid = film.grid
    result = model.solve(assemble(film))
    pressure = embed(result.pressure, grid)
    fill = _fill_field(result.fill, grid, model.fill_inlet)
    cavitated = embed(result.cavitated.to(torch.float64), grid) > 0.5
    return LubricationSolution(film=film, model=model.name, pressure=pressure, fill=fill,
                               cavitated=cavitated, load=load(pressure, grid),
                               friction=friction(pressure, fill, film),
                               iterations=result.iterations)


def simulate(texture: Texture, grid: Grid, *, cavitation: str | CavitationModel = "jfo",
             subsamples: int = 4) -> LubricationSolution:
    """Sample a texture on a grid and solve it: :func:`sample_film` then :func:`solve_film`."""
    return solve_film(sample_film(texture, grid, subsamples=subsamples), cavitation)


def _fill_field(interior: Tensor, grid: Grid, fill_inlet: float) -> Tensor:
    """Nodal fluid fraction: the inlet supply on the leading edge, the nearest interior value on
    the side edges, the last interior column on the trailing edge (where no flux uses it)."""
    field = interior
    if not grid.is_line:
        field = torch.cat([field[..., :1], field, field[..., -1:]], dim=-1)
    inlet = torch.full_like(field[..., :1, :], fill_inlet)
    return torch.cat([inlet, field, field[..., -1:, :]], dim=-2)
