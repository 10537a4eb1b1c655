"""What the pictures show, read from the database into plain values.

*Rounds.* A round is one batch of suggestions (one suggest job): an observation of a
suggested design belongs to its suggestion's round; an observation posted without a suggestion
belongs to the latest round started before it was posted (round 0 before the first batch).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.tables import Campaign, ModelVersion, Observation, Suggestion
from service.repositories.campaigns import campaign_spec, is_feasible
from service.repositories.observations import all_observations
from service.schemas.campaign import CampaignSpec


@dataclass(frozen=True)
class Experiment:
    """One observation as the pictures see it.

    Attributes:
        round: Its round (see the module docstring), from 0.
        outcomes: Finite outcome values by name (in the outcomes' own units).
        failed: The experiment failed (no outcomes).
        feasible: Not failed, and every outcome constraint holds.
    """

    round: int
    outcomes: dict[str, float]
    failed: bool
    feasible: bool


@dataclass(frozen=True)
class ParityPoint:
    """A suggested design that was then observed: what the model predicted, what was measured.

    Attributes:
        predicted: The predicted mean.
        sd: The predicted standard deviation (``None`` when the strategy gave none).
        observed: The measured value.
    """

    predicted: float
    sd: float | None
    observed: float


def experiments(session: Session, campaign: Campaign) -> list[Experiment]:
    """Every observation of the campaign, oldest first, with its round and feasibility."""
    spec = campaign_spec(campaign)
    batches = _batches(session, campaign.id)
    starts = [started for started, _ in batches]
    by_job = {job: index + 1 for index, (_, job) in enumerate(batches)}
    job_of: dict[uuid.UUID, uuid.UUID | None] = {
        sid: job for sid, job in session.execute(select(Suggestion.id, Suggestion.job_id).where(
            Suggestion.campaign_id == campaign.id))}
    out = []
    for row in all_observations(session, campaign.id):
        job = job_of.get(row.suggestion_id) if row.suggestion_id else None
        number = by_job.get(job) if job is not None else None
        if number is None:
            number = bisect.bisect_right(starts, row.created_at)
        out.append(Experiment(round=number, outcomes=_finite(row.outcomes), failed=row.failed,
                              feasible=not row.failed and is_feasible(spec, row.outcomes)))
    return out


def _batches(session: Session, campaign_id: uuid.UUID) -> list[tuple[dt.datetime, Any]]:
    """``(first creation time, job id)`` of each batch of suggestions, in order."""
    first: dict[Any, dt.datetime] = {}
    for job_id, created in session.execute(select(Suggestion.job_id, Suggestion.created_at).where(
            Suggestion.campaign_id == campaign_id).order_by(Suggestion.created_at)):
        key = job_id if job_id is not None else ("imported", created)
        first.setdefault(key, created)
    return sorted(((created, key) for key, created in first.items()), key=lambda t: t[0])


def parity_points(session: Session, campaign: Campaign) -> dict[str, list[ParityPoint]]:
    """Per outcome, the observed suggestions whose stored predictions name that outcome
    (``predictions["mean"][outcome]`` and, when present, ``predictions["sd"][outcome]``)."""
    spec = campaign_spec(campaign)
    rows = session.execute(select(Suggestion.predictions, Observation.outcomes).join(
        Observation, Observation.suggestion_id == Suggestion.id).where(
        Suggestion.campaign_id == campaign.id, Observation.failed.is_(False))
        .order_by(Observation.created_at, Observation.id))
    points: dict[str, list[ParityPoint]] = {name: [] for name in spec.outcome_names()}
    for predictions, outcomes in rows:
        means, sds = (predictions or {}).get("mean"), (predictions or {}).get("sd")
        if not isinstance(means, dict):
            continue
        for name, found in points.items():
            mean, value = _number(means.get(name)), _number((outcomes or {}).get(name))
            if mean is None or value is None:
                continue
            sd = _number(sds.get(name)) if isinstance(sds, dict) else None
            found.append(ParityPoint(predicted=mean, sd=sd, observed=value))
    return points


def pareto_axes(spec: CampaignSpec) -> list[tuple[str, str]]:
    """The outcomes a trade-off picture plots, as ``(name, goal)``: the objectives, or, with
    one objective, that objective and the first outcome constraint (whose "goal" is to be
    well inside its threshold: ``minimize`` for ``<=``, ``maximize`` for ``>=``)."""
    axes: list[tuple[str, str]] = [(o.name, o.goal) for o in spec.objectives]
    if len(axes) == 1 and spec.constraints:
        c = spec.constraints[0]
        axes.append((c.name, "minimize" if c.op == "<=" else "maximize"))
    return axes


def _finite(outcomes: dict[str, Any] | None) -> dict[str, float]:
    return {k: v for k, v in ((k, _number(v)) for k, v in (outcomes or {}).items())
            if v is not None}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def latest_loss_curves(session: Session, campaign_id: uuid.UUID
                       ) -> tuple[str, list[dict[str, Any]]] | None:
    """``("v<number> <kind>", curves)`` of the newest model version that stored loss curves."""
    rows = session.execute(select(ModelVersion.number, ModelVersion.kind, ModelVersion.metrics)
                           .where(ModelVersion.campaign_id == campaign_id)
                           .order_by(ModelVersion.number.desc())).all()
    for number, kind, metrics in rows:
        curves = (metrics or {}).get("loss_curves")
        if isinstance(curves, list) and curves:
            return f"v{number} {kind}", [c for c in curves if isinstance(c, dict)]
    return None
