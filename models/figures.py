"""Pictures drawn by the science (a problem's design, a model against its truth): matplotlib's
object API on a private Agg canvas — no display, no global pyplot state, safe in a worker's
threads — turned into PNG bytes without a timestamp (equal data give equal bytes)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Pixels per inch of every picture.
DPI = 100


def new_figure(width_in: float, height_in: float, *, constrained: bool = True) -> Figure:
    """A figure of ``width_in`` x ``height_in`` inches on its own Agg canvas."""
    figure = Figure(figsize=(width_in, height_in), dpi=DPI,
                    layout="constrained" if constrained else None)
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
