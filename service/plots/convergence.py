"""Convergence: every experiment's objective value by round, and the best feasible value so far.

Feasible experiments are dots, infeasible ones (an outcome constraint broken) red crosses,
failed ones (no value) grey triangles along the bottom edge; the step line is the best
feasible value after each round (lower is better for ``minimize``, higher for ``maximize``).
"""

from __future__ import annotations

from collections.abc import Sequence

from service.plots.data import Experiment
from service.plots.figure import columns, new_figure, note, to_png


def best_so_far(experiments: Sequence[Experiment], objective: str,
                goal: str) -> list[tuple[int, float]]:
    """``(round, best feasible value up to and including that round)`` for every round from
    the first with a feasible value to the last round with any experiment."""
    sign = 1.0 if goal == "minimize" else -1.0
    if not experiments:
        return []
    last = max(e.round for e in experiments)
    best: float | None = None
    out = []
    for number in range(last + 1):
        for e in experiments:
            value = e.outcomes.get(objective)
            if e.round == number and e.feasible and value is not None and (
                    best is None or sign * value < sign * best):
                best = value
        if best is not None:
            out.append((number, best))
    return out


def render(experiments: Sequence[Experiment], objective: str, goal: str,
           title: str = "") -> bytes:
    """The convergence picture as PNG bytes."""
    figure = new_figure()
    if not experiments:
        note(figure, "no observations yet")
        return to_png(figure)
    axes = figure.add_subplot()
    feasible = [(e.round, e.outcomes[objective]) for e in experiments
                if e.feasible and objective in e.outcomes]
    infeasible = [(e.round, e.outcomes[objective]) for e in experiments
                  if not e.feasible and not e.failed and objective in e.outcomes]
    failed = [e.round for e in experiments if e.failed or objective not in e.outcomes]
    if feasible:
        axes.scatter(*columns(feasible), s=22, color="tab:blue", label="feasible")
    if infeasible:
        axes.scatter(*columns(infeasible), s=28, marker="x", color="tab:red",
                     label="infeasible")
    best = best_so_far(experiments, objective, goal)
    if best:
        axes.step(*columns(best), where="post", color="black", linewidth=1.6,
                  label="best feasible so far")
    if failed:
        axes.scatter(failed, [0.0] * len(failed), marker="^", color="grey", s=30,
                     transform=axes.get_xaxis_transform(), clip_on=False,
                     label=f"failed ({len(failed)})")
    axes.set_xlabel("round")
    axes.set_ylabel(f"{objective} ({goal})")
    axes.set_title(title or f"convergence of {objective}")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    return to_png(figure)
