"""Training: the loss terms of the campaign's latest trained model version, epoch by epoch.

A physics model (PINN, neural ODE) stores its curves in ``metrics["loss_curves"]``: a list of
``{"epoch": n, <term>: value, ...}``. One line per term on a log scale, so a residual, a
boundary term and an error against the reference can be read together; non-finite or
non-positive values are left out of the line (a log scale cannot show them). Entries that are
not loss terms — bookkeeping, a neural ODE's solver counters, a PINN's coefficient estimates
(``coef_*``) — are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from service.plots.figure import new_figure, note, to_png

#: Keys of a curve point that are not loss terms: bookkeeping, and the solver counters a neural
#: ODE's history carries (``models.neural_ode.field.SolverStats``; a test keeps them in step).
NOT_TERMS = frozenset({"epoch", "seconds", "stage", "horizon",
                       "nfe", "attempted", "accepted", "rejected", "fallbacks"})
#: Prefixes of keys that are not loss terms (a PINN's coefficient estimates, ``coef_D``).
NOT_TERM_PREFIXES = ("coef_",)


def is_term(name: str) -> bool:
    """Whether a curve point's key is a loss term (drawn) rather than bookkeeping."""
    return name not in NOT_TERMS and not name.startswith(NOT_TERM_PREFIXES)


def terms(curves: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """``term -> [(epoch, value)]`` of the positive finite numbers in the curves."""
    found: dict[str, list[tuple[float, float]]] = {}
    for index, point in enumerate(curves):
        epoch = point.get("epoch", index)
        if not isinstance(epoch, int | float):
            continue
        for name, value in point.items():
            if not is_term(name) or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value) and value > 0:
                found.setdefault(name, []).append((float(epoch), float(value)))
    return found


def render(curves: Sequence[Mapping[str, Any]], title: str = "") -> bytes:
    """The training picture as PNG bytes."""
    figure = new_figure(7.0, 4.4)
    lines = terms(curves)
    if not lines:
        note(figure, "no trained model version of this campaign has loss curves yet "
                     "(POST /v1/campaigns/{id}/models trains one)")
        return to_png(figure)
    axes = figure.add_subplot()
    for name, points in sorted(lines.items()):
        axes.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=1.4)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss term")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize="small")
    axes.set_title(title or "training")
    return to_png(figure)
