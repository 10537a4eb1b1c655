"""Trade-off: the experiments in the space of two outcomes, and their non-dominated front.

With two objectives the axes are the objectives; with one, the objective and the first outcome
constraint (see :func:`service.plots.data.pareto_axes`); with three or more, one panel per
pair of the first three. The front is computed over the feasible experiments only.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from service.plots.data import Experiment
from service.plots.figure import columns, new_figure, note, to_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def non_dominated(points: Sequence[tuple[float, ...]],
                  goals: Sequence[str]) -> list[int]:
    """Indices of the points no other point dominates (at least as good in every coordinate,
    better in one), where ``goals[k]`` says whether coordinate ``k`` is minimised."""
    signs = [1.0 if g == "minimize" else -1.0 for g in goals]
    scaled = [tuple(s * v for s, v in zip(signs, p, strict=True)) for p in points]

    def dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return all(x <= y for x, y in zip(a, b, strict=True)) and a != b

    return [i for i, p in enumerate(scaled)
            if not any(dominates(q, p) for j, q in enumerate(scaled) if j != i)]


def render(experiments: Sequence[Experiment], axes_spec: Sequence[tuple[str, str]],
           title: str = "") -> bytes:
    """The trade-off picture as PNG bytes (``axes_spec``: ``(outcome, goal)`` pairs, >= 2)."""
    pairs = list(itertools.combinations(range(min(len(axes_spec), 3)), 2))
    figure = new_figure(6.4 * len(pairs) if len(pairs) > 1 else 6.4, 4.8)
    names = [name for name, _ in axes_spec]
    measured = [e for e in experiments if not e.failed and all(n in e.outcomes for n in names)]
    if not measured:
        note(figure, "no experiment measured every plotted outcome yet")
        return to_png(figure)
    panels = figure.subplots(1, len(pairs), squeeze=False)[0]
    for panel, (i, j) in zip(panels, pairs, strict=True):
        _panel(panel, measured, axes_spec[i], axes_spec[j])
    figure.suptitle(title or "trade-off and non-dominated front")
    return to_png(figure)


def _panel(axes: Axes, measured: Sequence[Experiment], x: tuple[str, str],
           y: tuple[str, str]) -> None:
    feasible = [(e.outcomes[x[0]], e.outcomes[y[0]]) for e in measured if e.feasible]
    infeasible = [(e.outcomes[x[0]], e.outcomes[y[0]]) for e in measured if not e.feasible]
    if infeasible:
        axes.scatter(*columns(infeasible), marker="x", color="tab:red", s=26,
                     label="infeasible")
    if feasible:
        axes.scatter(*columns(feasible), color="tab:blue", s=22, label="feasible")
        front = sorted(feasible[k] for k in non_dominated(feasible, (x[1], y[1])))
        axes.plot(*columns(front), color="black", marker="o", markersize=7,
                  markerfacecolor="none", linewidth=1.4, label=f"front ({len(front)})")
    axes.set_xlabel(f"{x[0]} ({x[1]})")
    axes.set_ylabel(f"{y[0]} ({y[1]})")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
