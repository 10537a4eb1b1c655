r"""The texture problem's ``design`` plot: the film (profile or dimple layout) and its pressure.

Drawn with matplotlib's Agg canvas on a private :class:`~matplotlib.figure.Figure` (no pyplot
state, safe in a worker thread). Left: the film :math:`h` in units of :math:`h_\min`
(the 1D profile, or the 2D map of the dimples on the pad); right: the dimensionless pressure
:math:`p = P h_\min^2 / (\mu U L)` (a curve in 1D, a map in 2D, cavitated nodes hatched).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from models.figures import new_figure, to_png
from models.physics.lubrication import LubricationSolution
from models.problems.base import DesignError
from models.problems.texture.problem import TextureProblem


def design_plot(problem: TextureProblem, parameters: Mapping[str, Any]) -> bytes:
    """A PNG of one design: film and pressure, with its load and friction in the title.

    Args:
        problem: The campaign's problem (its options decide 1D or 2D).
        parameters: The design, name -> value.

    Returns:
        PNG bytes.

    Raises:
        DesignError: A parameter is missing or the design lies outside the bounds.

    Example:
        >>> png = design_plot(TextureProblem({"profile": "free_form"}),
        ...                   {f"h_{k:02d}": 2.0 if k < 23 else 1.0 for k in range(32)})
        >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    names = problem.parameter_names()
    missing = [n for n in names if n not in parameters]
    if missing:
        raise DesignError(f"the design lacks parameters {missing}")
    X = torch.tensor([[float(parameters[n]) for n in names]], dtype=torch.float64)
    with torch.no_grad():
        sol = problem.solve(X)
    figure = new_figure(10.0, 4.0, constrained=False)
    film_ax, pressure_ax = figure.subplots(1, 2)
    if problem.grid.is_line:
        _line(film_ax, pressure_ax, sol)
    else:
        _maps(figure, film_ax, pressure_ax, sol, problem.grid.width_ratio)
    figure.suptitle(f"{problem.profile}: load w = {float(sol.load[0]):.4g}, friction "
                    f"f = {float(sol.friction[0]):.4g}, f/w = "
                    f"{float(sol.friction_coefficient[0]):.4g}")
    figure.tight_layout()
    return to_png(figure)


def _line(film_ax: Axes, pressure_ax: Axes, sol: LubricationSolution) -> None:
    x = sol.grid.x().numpy()
    film_ax.fill_between(x, 0.0, sol.film.h_nodes[0, :, 0].numpy(), step="post",
                         color="tab:blue", alpha=0.4)
    film_ax.set(xlabel="x / L", ylabel="film h / h_min", title="film profile", ylim=(0, None))
    pressure_ax.plot(x, sol.pressure[0, :, 0].numpy(), color="tab:red")
    cavitated = sol.cavitated[0, :, 0].numpy()
    if cavitated.any():
        pressure_ax.fill_between(x, 0.0, 1.0, where=cavitated, color="grey", alpha=0.3,
                                 transform=pressure_ax.get_xaxis_transform(), label="cavitated")
        pressure_ax.legend(loc="upper left")
    pressure_ax.set(xlabel="x / L", ylabel="p h_min^2 / (mu U L)", title="pressure")


def _maps(figure: Figure, film_ax: Axes, pressure_ax: Axes, sol: LubricationSolution,
          width_ratio: float) -> None:
    extent = (0.0, 1.0, -0.5 * width_ratio, 0.5 * width_ratio)
    for ax, field, title, cmap in (
            (film_ax, sol.film.h_nodes[0], "film h / h_min", "viridis"),
            (pressure_ax, sol.pressure[0], "pressure p h_min^2 / (mu U L)", "magma")):
        image = ax.imshow(field.T.numpy(), origin="lower", extent=extent, aspect="equal",
                          cmap=cmap, interpolation="nearest")
        figure.colorbar(image, ax=ax, shrink=0.8)
        ax.set(xlabel="x / L (sliding direction)", ylabel="z / L", title=title)
    cavitated = sol.cavitated[0].T.numpy().astype(float)
    if cavitated.any():
        pressure_ax.contourf(cavitated, levels=[0.5, 1.5], hatches=["//"], colors="none",
                             extent=extent, origin="lower")
