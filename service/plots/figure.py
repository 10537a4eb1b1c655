"""Figures without a display: matplotlib's Agg canvas, imported only when a picture is drawn
(the API starts without matplotlib), and a figure turned into PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Pixels per inch of every picture.
DPI = 100
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_figure(width_in: float = 6.4, height_in: float = 4.4) -> Figure:
    """A figure on the Agg canvas (no pyplot: no global state, safe in threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (metadata without a timestamp, so equal data give equal bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def note(figure: Figure, text: str) -> None:
    """A figure that says why it holds no data, instead of an empty frame."""
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=12)


def columns(points: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of a list of ``(x, y)`` points."""
    return [p[0] for p in points], [p[1] for p in points]
