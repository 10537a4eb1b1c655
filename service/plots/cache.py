"""Campaign pictures, cached per campaign state: the one entry point of the API and the CLI.

A picture's ``state_key`` hashes what it shows: for ``convergence``, ``pareto`` and ``parity``
the campaign's observations (count and newest), model versions (newest number) and suggestion
batches (``suggestions_version``); for ``design``, the design itself. A request whose key is
cached gets the stored PNG; otherwise the light pictures are drawn here at once (and stored,
replacing the campaign's older picture of that kind), while a ``design`` picture, which needs
the problem's implementation, is queued as a ``plot`` job for a worker: the answer is then the
job, and the PNG once the worker stored it.

These functions flush and leave the commit (and publishing the job) to the caller.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, undefer

from models.problems.base import ProblemError
from models.problems.registry import get_spec
from models.space.keys import design_key
from service.db.tables import Campaign, Job, ModelVersion, Observation, PlotImage
from service.enums import JobKind, JobStatus, PlotKind
from service.errors import Conflict, InvalidInput
from service.jobs import submit
from service.plots import convergence, pareto, parity, training
from service.plots.data import experiments, latest_loss_curves, pareto_axes, parity_points
from service.repositories.campaigns import best_feasible, campaign_spec
from service.repositories.suggestions import get_suggestion

#: Bump when a renderer changes, so pictures drawn by the old one are not served.
RENDERER_VERSION = 1

Published = tuple[uuid.UUID, JobKind, str]


class PlotFailed(Conflict):
    """The last rendering of this design picture failed; ``refresh`` asks for a new one."""

    code = "plot_failed"


@dataclass
class PlotAnswer:
    """A picture, or the job that renders it.

    Attributes:
        png: The picture, when it is ready.
        job: The ``plot`` job rendering it (queued or running), when it is not.
        state_key: What the picture shows (also a fine HTTP ``ETag``).
        publish: Jobs to publish once the caller has committed.
    """

    state_key: str
    png: bytes | None = None
    job: Job | None = None
    publish: list[Published] = field(default_factory=list)


def campaign_plot(session: Session, campaign: Campaign, kind: PlotKind, *,
                  suggestion_id: uuid.UUID | None = None, refresh: bool = False) -> PlotAnswer:
    """The campaign's picture of ``kind`` (see the module docstring).

    Raises:
        InvalidInput: the picture cannot exist: ``pareto`` of a campaign with one outcome,
            ``design`` of a problem without a picture of its own, or no design to draw.
        NotFound: ``suggestion_id`` is not a suggestion of the campaign.
        PlotFailed: the last rendering of this design failed (``refresh`` retries).
    """
    if kind == PlotKind.design:
        return _design(session, campaign, suggestion_id=suggestion_id, refresh=refresh)
    if kind == PlotKind.model:
        return _model_picture(session, campaign)
    if suggestion_id is not None:
        raise InvalidInput("suggestion_id chooses the design of a design picture only",
                           field=["query", "suggestion_id"])
    key = state_key(session, campaign, kind)
    cached = _cached(session, campaign.id, kind, key)
    if cached is not None and cached.png is not None:
        return PlotAnswer(state_key=key, png=cached.png)
    png = render(session, campaign, kind)
    session.execute(delete(PlotImage).where(PlotImage.campaign_id == campaign.id,
                                            PlotImage.kind == kind))
    _store(session, PlotImage(campaign_id=campaign.id, kind=kind, state_key=key, png=png))
    return PlotAnswer(state_key=key, png=png)


def render(session: Session, campaign: Campaign, kind: PlotKind) -> bytes:
    """Draw one of the light pictures from the database (no cache)."""
    spec = campaign_spec(campaign)
    title = f"{campaign.name} ({campaign.problem})"
    if kind == PlotKind.convergence:
        objective = spec.objectives[0]
        return convergence.render(experiments(session, campaign), objective.name,
                                  objective.goal, title=title)
    if kind == PlotKind.pareto:
        axes = pareto_axes(spec)
        if len(axes) < 2:
            raise InvalidInput("a trade-off picture needs two outcomes (two objectives, or "
                               "an objective and an outcome constraint); this campaign has "
                               "one", field=["path", "kind"])
        return pareto.render(experiments(session, campaign), axes, title=title)
    if kind == PlotKind.parity:
        return parity.render(parity_points(session, campaign), title=title)
    if kind == PlotKind.training:
        found = latest_loss_curves(session, campaign.id)
        if found is None:
            return training.render([], title=title)
        label, curves = found
        return training.render(curves, title=f"{title}: model {label}")
    raise InvalidInput(f"{kind.value} pictures are rendered by a worker", field=["path", "kind"])


def state_key(session: Session, campaign: Campaign, kind: PlotKind) -> str:
    """The hash of what a light picture of ``kind`` shows of the campaign now."""
    count, newest = session.execute(
        select(func.count(Observation.id), func.max(Observation.created_at))
        .where(Observation.campaign_id == campaign.id)).one()
    last_id = session.scalar(select(Observation.id).where(
        Observation.campaign_id == campaign.id)
        .order_by(Observation.created_at.desc(), Observation.id.desc()).limit(1))
    models = session.scalar(select(func.max(ModelVersion.number)).where(
        ModelVersion.campaign_id == campaign.id))
    parts = [RENDERER_VERSION, kind.value, count, newest, last_id, models,
             campaign.suggestions_version]
    return _digest(parts)


def _digest(parts: list[Any]) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _cached(session: Session, campaign_id: uuid.UUID, kind: PlotKind,
            key: str) -> PlotImage | None:
    return session.scalar(select(PlotImage).options(undefer(PlotImage.png)).where(
        PlotImage.campaign_id == campaign_id, PlotImage.kind == kind,
        PlotImage.state_key == key))


def _store(session: Session, row: PlotImage) -> None:
    """Insert a cache row; a concurrent request that stored the same key first wins."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa_exc.IntegrityError:
        pass  # the savepoint's rollback took the row out of the session


# --- design pictures (a worker renders them) -------------------------------------------------


def _design(session: Session, campaign: Campaign, *, suggestion_id: uuid.UUID | None,
            refresh: bool) -> PlotAnswer:
    try:
        plotter = get_spec(campaign.problem).design_plot
    except ProblemError as exc:
        raise InvalidInput(str(exc), field=["path", "kind"]) from exc
    if plotter is None:
        raise InvalidInput(f"problem {campaign.problem!r} has no design picture of its own",
                           field=["path", "kind"])
    parameters = _design_parameters(session, campaign, suggestion_id)
    key = _digest([RENDERER_VERSION, "design", design_key(parameters)])
    row = _cached(session, campaign.id, PlotKind.design, key)
    if row is not None and row.png is not None:
        return PlotAnswer(state_key=key, png=row.png)
    job = session.get(Job, row.job_id) if row is not None and row.job_id else None
    if job is not None and not job.status.is_final:
        return PlotAnswer(state_key=key, job=job)
    if job is not None and job.status != JobStatus.succeeded and not refresh:
        reason = (job.error or {}).get("message", job.status.value)
        raise PlotFailed(f"rendering this design picture failed: {reason}; ask again with "
                         "refresh=true to retry", details={"job_id": str(job.id)})
    if row is None:
        row = PlotImage(campaign_id=campaign.id, kind=PlotKind.design, state_key=key,
                        parameters=dict(parameters))
        _store(session, row)
        # A concurrent request may have stored the row (and queued its job) first.
        row = _cached(session, campaign.id, PlotKind.design, key) or row
        live = session.get(Job, row.job_id) if row.job_id else None
        if live is not None and not live.status.is_final:
            return PlotAnswer(state_key=key, job=live)
    job = submit(session, project_id=campaign.project_id, kind=JobKind.plot,
                 campaign_id=campaign.id, params={"plot_id": str(row.id)})
    row.job_id = job.id
    session.flush()
    return PlotAnswer(state_key=key, job=job, publish=[(job.id, job.kind, job.queue)])


def _design_parameters(session: Session, campaign: Campaign,
                       suggestion_id: uuid.UUID | None) -> dict[str, Any]:
    """The chosen suggestion's design, else the best feasible observation's."""
    if suggestion_id is not None:
        return dict(get_suggestion(session, campaign.id, suggestion_id).parameters)
    best = best_feasible(session, campaign.id, campaign_spec(campaign))
    if best is None:
        raise InvalidInput("the campaign has no feasible observation yet: choose a design "
                           "with suggestion_id", field=["query", "suggestion_id"])
    return dict(best["parameters"])


def _model_picture(session: Session, campaign: Campaign) -> PlotAnswer:
    """The picture the latest train job drew of its model (see :func:`store_model_png`)."""
    row = session.scalar(select(PlotImage).options(undefer(PlotImage.png)).where(
        PlotImage.campaign_id == campaign.id, PlotImage.kind == PlotKind.model)
        .order_by(PlotImage.created_at.desc()).limit(1))
    if row is None or row.png is None:
        raise InvalidInput("no trained model of this campaign has a picture yet: train a "
                           "pinn or neural_ode model version (POST /v1/campaigns/{id}/models)",
                           field=["path", "kind"])
    return PlotAnswer(state_key=row.state_key, png=row.png)


def store_model_png(session: Session, campaign_id: uuid.UUID, version: ModelVersion,
                    png: bytes) -> PlotImage:
    """Keep the train job's picture of its model version (in the job's fenced transaction)."""
    row = PlotImage(campaign_id=campaign_id, kind=PlotKind.model,
                    state_key=_digest([RENDERER_VERSION, "model", version.id]), png=png)
    session.add(row)
    session.flush()
    return row


def store_design_png(session: Session, plot_id: uuid.UUID, png: bytes) -> PlotImage:
    """Store a worker's rendering on its cache row (inside the job's fenced transaction)."""
    row = session.get(PlotImage, plot_id)
    if row is None:
        raise InvalidInput(f"plot {plot_id} no longer exists", field="plot_id")
    row.png = png
    session.flush()
    return row
