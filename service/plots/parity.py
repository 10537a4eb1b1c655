"""Parity: what the model predicted for a suggested design against what was then measured.

One panel per outcome; error bars are one predicted standard deviation; the diagonal is a
perfect prediction. The title of each panel gives the number of points and the share whose
measurement fell within two predicted standard deviations (about 95 % for a calibrated model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from service.plots.data import ParityPoint
from service.plots.figure import new_figure, note, to_png


def within_two_sd(points: Sequence[ParityPoint]) -> float | None:
    """Share of the points with an sd whose measurement lies within 2 sd of the prediction."""
    rated = [p for p in points if p.sd is not None and p.sd > 0]
    if not rated:
        return None
    return sum(abs(p.observed - p.predicted) <= 2 * (p.sd or 0.0) for p in rated) / len(rated)


def render(points: Mapping[str, Sequence[ParityPoint]], title: str = "") -> bytes:
    """The parity picture as PNG bytes (one panel per outcome that has points)."""
    shown = {name: found for name, found in points.items() if found}
    if not shown:
        figure = new_figure()
        note(figure, "no suggested design with stored predictions has been observed yet")
        return to_png(figure)
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    figure = new_figure(4.2 * columns, 4.0 * rows)
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    for panel, (name, found) in zip(panels, shown.items(), strict=False):
        predicted = [p.predicted for p in found]
        observed = [p.observed for p in found]
        errors = [p.sd if p.sd is not None else 0.0 for p in found]
        panel.errorbar(predicted, observed, xerr=errors, fmt="o", markersize=4,
                       color="tab:blue", ecolor="tab:blue", alpha=0.8, capsize=2)
        low = min(predicted + observed)
        high = max(predicted + observed)
        pad = 0.05 * (high - low or 1.0)
        panel.plot([low - pad, high + pad], [low - pad, high + pad], color="black",
                   linewidth=1.0, linestyle="--")
        share = within_two_sd(found)
        label = f"{name}: n={len(found)}" + (f", {share:.0%} within 2 sd"
                                             if share is not None else "")
        panel.set_title(label, fontsize="medium")
        panel.set_xlabel("predicted (mean +/- 1 sd)")
        panel.set_ylabel("observed")
        panel.grid(alpha=0.3)
    for panel in panels[len(shown):]:
        panel.set_axis_off()
    figure.suptitle(title or "predicted vs observed")
    return to_png(figure)
