"""The ``plot`` job: draw a problem's own picture of one design and cache it.

The picture comes from the problem plug-in (``ProblemSpec.design_plot``,
``design_plot(problem, parameters) -> bytes``), which needs the problem's implementation, so it
runs here and never in the API. The PNG is stored on the cache row the API created
(:mod:`service.plots.cache`), in the job's fenced results transaction. Params: ``plot_id``.
"""

from __future__ import annotations

import functools
import importlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from models.problems.base import ProblemError
from models.problems.registry import get_spec, load_problem
from service.db.engine import session_scope
from service.db.tables import PlotImage
from service.errors import InvalidInput
from service.plots.cache import store_design_png
from service.plots.figure import PNG_SIGNATURE
from service.repositories.campaigns import campaign_spec, get_campaign
from workers.runtime import JobContext

DesignPlot = Callable[[Any, dict[str, Any]], bytes]


def handle(ctx: JobContext) -> None:
    """Render the design of the job's cache row with its problem's ``design_plot``."""
    plot_id = _plot_id(ctx.params)
    campaign_id = ctx.campaign_id
    with session_scope() as session:
        campaign = get_campaign(session, ctx.job.project_id, campaign_id)
        row = session.get(PlotImage, plot_id)
        if row is None or row.campaign_id != campaign.id or row.parameters is None:
            raise InvalidInput(f"plot {plot_id} is not a design picture of this campaign",
                               field="plot_id")
        problem_key, parameters = campaign.problem, dict(row.parameters)
        options = campaign_spec(campaign).problem_options
    ctx.progress(0.1, "loading the problem")
    draw = design_plotter(problem_key)
    problem = load_problem(problem_key, options)
    ctx.progress(0.3, "drawing the design")
    png = draw(problem, parameters)
    if not isinstance(png, bytes | bytearray) or not bytes(png).startswith(PNG_SIGNATURE):
        raise ProblemError(f"problem {problem_key!r}: design_plot did not return PNG bytes")
    ctx.commit_results(functools.partial(_store, plot_id=plot_id, png=bytes(png)))


def design_plotter(problem_key: str) -> DesignPlot:
    """The plug-in's ``design_plot`` function (a broken one is a :class:`ProblemError`)."""
    target = get_spec(problem_key).design_plot
    if target is None:
        raise ProblemError(f"problem {problem_key!r} has no design picture of its own")
    module_name, _, attr = target.partition(":")
    try:
        function: DesignPlot = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProblemError(f"problem {problem_key!r}: cannot import {target}: {exc}") from exc
    return function


def _store(session: Session, *, plot_id: uuid.UUID, png: bytes) -> dict[str, Any]:
    store_design_png(session, plot_id, png)
    return {"plot_id": str(plot_id), "bytes": len(png)}


def _plot_id(params: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(params["plot_id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidInput("a plot job needs a plot_id", field="plot_id") from exc
