"""Reprocessing runs: choosing the campaigns, scheduling their children, cancel and resume.

How a run moves (see also :mod:`workers.handlers.reprocess`): the run's *parent* job (kind
``reprocess``) never waits. Each delivery of it is one short *pass*: it settles the items whose
child finished (writing their report), schedules waiting items up to ``max_in_flight`` children
in flight, and then either finishes (every item settled) or *parks*: the job goes back to
``queued`` without being sent (:func:`park`). A child's completion wakes it
(:func:`parent_to_wake`, called by the worker after each suggest job), the pass re-checks after
its own commit for children that finished meanwhile, and the reaper republishes a parked
parent nobody woke (a child lost with its worker) after ``republish_after_s``. So no worker
slot is held while children run, no child is lost, and a pass is far from any time limit.

Like every repository, these functions flush and leave the commit to the caller.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from models.problems.base import ProblemError
from models.problems.registry import get_spec
from service.db.base import utcnow
from service.db.tables import Campaign, Job, ModelVersion, ReprocessItem, ReprocessRun, Suggestion
from service.enums import (
    JobKind,
    JobStatus,
    ReprocessItemStatus,
    ReprocessStatus,
    SuggestionStatus,
)
from service.errors import Conflict, InvalidInput, LeaseLost, NotFound
from service.jobs import submit
from service.repositories.campaigns import campaign_spec
from service.repositories.model_versions import REPROCESS_TAG
from service.repositories.pagination import paginate
from service.schemas.campaign import CampaignSpec
from service.schemas.reprocess import ReprocessCounts, ReprocessCreate
from service.schemas.space import ContinuousParameter, IntegerParameter, SequenceParameter

#: The tag a run puts on the model versions (``config``) and suggestions (``predictions``) it
#: makes: ``{TAG: "<run id>"}``. Its suggestions also have the status ``reprocessed``.
TAG = REPROCESS_TAG

Published = tuple[uuid.UUID, JobKind, str]


# --- creating, reading, cancelling, resuming ----------------------------------------------------


def select_campaigns(session: Session, project_id: uuid.UUID,
                     request: ReprocessCreate) -> list[Campaign]:
    """The project's campaigns the request chooses, oldest first.

    Raises:
        NotFound: a ``campaign_ids`` entry is not a campaign of this project (another
            project's id included, as everywhere in the API).
        InvalidInput: nothing matches, naming the first criterion given.
    """
    stmt = select(Campaign).where(Campaign.project_id == project_id)
    if request.campaign_ids:
        stmt = stmt.where(Campaign.id.in_(request.campaign_ids))
    if request.problem:
        stmt = stmt.where(Campaign.problem == request.problem)
    if request.created_after:
        stmt = stmt.where(Campaign.created_at >= request.created_after)
    if request.created_before:
        stmt = stmt.where(Campaign.created_at < request.created_before)
    rows = list(session.scalars(stmt.order_by(Campaign.created_at, Campaign.id)))
    if request.campaign_ids:
        found = {row.id for row in session.scalars(select(Campaign).where(
            Campaign.project_id == project_id, Campaign.id.in_(request.campaign_ids)))}
        for campaign_id in request.campaign_ids:
            if campaign_id not in found:
                raise NotFound("campaign", campaign_id)
    if not rows:
        field = next(name for name in ("campaign_ids", "problem", "created_after",
                                       "created_before", "all")
                     if getattr(request, name) not in (None, False))
        raise InvalidInput("no campaign of this project matches the selection", field=field)
    return rows


def check_strategy(campaigns: Sequence[Campaign], request: ReprocessCreate) -> None:
    """Refuse an override that a chosen campaign's problem does not offer (naming it)."""
    if request.strategy is None:
        return
    kind = request.strategy.kind
    for campaign in campaigns:
        try:
            offered = get_spec(campaign.problem).strategies
        except ProblemError:
            continue  # a campaign whose plug-in vanished fails alone, in its own child
        if offered is not None and kind not in offered:
            raise InvalidInput(f"campaign {campaign.id} (problem {campaign.problem!r}) offers "
                               f"the strategies {list(offered)}, not {kind!r}",
                               field=["strategy", "kind"])


def create_run(session: Session, project_id: uuid.UUID, request: ReprocessCreate, *,
               max_in_flight: int, max_count: int) -> tuple[ReprocessRun, Job]:
    """A run with one waiting item per chosen campaign, and its queued parent job.

    The caller commits, then publishes the parent job.
    """
    if request.count > max_count:
        raise InvalidInput(f"count must be at most {max_count}", field="count")
    campaigns = select_campaigns(session, project_id, request)
    check_strategy(campaigns, request)
    run = ReprocessRun(project_id=project_id, status=ReprocessStatus.running,
                       selection=request.selection(),
                       strategy=request.strategy.model_dump(mode="json")
                       if request.strategy else None,
                       count=request.count, max_in_flight=request.max_in_flight or max_in_flight)
    session.add(run)
    session.flush()
    session.add_all(ReprocessItem(run_id=run.id, campaign_id=c.id, position=i,
                                  status=ReprocessItemStatus.waiting)
                    for i, c in enumerate(campaigns))
    job = _parent_job(session, run)
    return run, job


def _parent_job(session: Session, run: ReprocessRun) -> Job:
    job = submit(session, project_id=run.project_id, kind=JobKind.reprocess,
                 params={"run_id": str(run.id)})
    run.job_id = job.id
    session.flush()
    return job


def get_run(session: Session, project_id: uuid.UUID, run_id: uuid.UUID) -> ReprocessRun:
    run = session.scalar(select(ReprocessRun).where(ReprocessRun.id == run_id,
                                                    ReprocessRun.project_id == project_id))
    if run is None:
        raise NotFound("reprocess run", run_id)
    return run


def list_runs(session: Session, project_id: uuid.UUID, *, limit: int,
              cursor: str | None) -> tuple[list[ReprocessRun], str | None]:
    stmt = select(ReprocessRun).where(ReprocessRun.project_id == project_id)
    return paginate(session, stmt, ReprocessRun, limit=limit, cursor=cursor)


def run_items(session: Session, run_id: uuid.UUID) -> list[ReprocessItem]:
    return list(session.scalars(select(ReprocessItem).where(ReprocessItem.run_id == run_id)
                                .order_by(ReprocessItem.position)))


def count_items(session: Session, run_id: uuid.UUID) -> ReprocessCounts:
    """How many of the run's items are in each state, counted by the database."""
    rows = session.execute(select(ReprocessItem.status, func.count()).where(
        ReprocessItem.run_id == run_id).group_by(ReprocessItem.status)).all()
    return ReprocessCounts(**{status.value: n for status, n in rows})


def cancel_run(session: Session, run: ReprocessRun) -> ReprocessRun:
    """Stop scheduling: waiting items and children still queued are cancelled; children
    already running finish (their results are kept, their items settled on resume).

    Raises:
        Conflict: the run is not running.
    """
    # The parent first: on PostgreSQL this waits for a pass in progress to commit (its fence
    # holds the job row), so the run is read again below as that pass left it.
    if run.job_id is not None:
        _cancel_job(session, run.job_id)
    session.refresh(run)
    if run.status != ReprocessStatus.running:
        raise Conflict(f"reprocess run {run.id} is {run.status.value}, not running")
    run.status = ReprocessStatus.cancelled
    for item in run_items(session, run.id):
        if item.status == ReprocessItemStatus.waiting:
            item.status = ReprocessItemStatus.cancelled
        elif (item.status == ReprocessItemStatus.scheduled and item.job_id is not None
              and _cancel_job(session, item.job_id, only_queued=True)):
            item.status = ReprocessItemStatus.cancelled
            item.job_id = None
    session.flush()
    return run


def _cancel_job(session: Session, job_id: uuid.UUID, *, only_queued: bool = False) -> bool:
    """Cancel a job unless it is final (or, with ``only_queued``, running); whether it was."""
    live = [JobStatus.queued] if only_queued else [JobStatus.queued, JobStatus.running]
    result = session.execute(update(Job).where(Job.id == job_id, Job.status.in_(live)).values(
        status=JobStatus.cancelled, lease_token=None, finished_at=utcnow(),
        message="cancelled with its reprocess run").execution_options(
        synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount == 1


def resume_run(session: Session, run: ReprocessRun) -> Job:
    """Continue a cancelled run (or one whose parent job failed) where it stopped: cancelled
    items wait again, settled items keep their result; a new parent job takes over.

    Raises:
        Conflict: the run has finished, or is running under a live parent job.
    """
    if run.status == ReprocessStatus.finished:
        raise Conflict(f"reprocess run {run.id} has finished")
    if run.status == ReprocessStatus.running:
        parent = session.get(Job, run.job_id) if run.job_id else None
        if parent is not None and not parent.status.is_final:
            raise Conflict(f"reprocess run {run.id} is running")
    for item in run_items(session, run.id):
        if item.status == ReprocessItemStatus.cancelled:
            item.status = ReprocessItemStatus.waiting
    run.status = ReprocessStatus.running
    run.finished_at = None
    return _parent_job(session, run)


# --- the parent's pass ------------------------------------------------------------------------


def settle_finished(session: Session, run: ReprocessRun) -> int:
    """Settle every scheduled item whose child is final: its report, or its error. How many."""
    settled = 0
    for item in session.scalars(select(ReprocessItem).where(
            ReprocessItem.run_id == run.id,
            ReprocessItem.status == ReprocessItemStatus.scheduled)):
        child = session.get(Job, item.job_id) if item.job_id else None
        if child is None:  # the child row vanished: nothing will ever finish it
            item.status, item.error = ReprocessItemStatus.failed, {
                "type": "ChildLost", "message": "the child job no longer exists"}
        elif child.status == JobStatus.succeeded:
            item.status = ReprocessItemStatus.succeeded
            item.report = build_report(session, run, item.campaign_id, child)
        elif child.status in (JobStatus.failed, JobStatus.cancelled):
            item.status = ReprocessItemStatus.failed
            item.error = child.error or {"type": "Cancelled",
                                         "message": f"the child job was {child.status.value}"}
        else:
            continue
        settled += 1
    session.flush()
    return settled


def schedule(session: Session, run: ReprocessRun, parent_id: uuid.UUID) -> list[Published]:
    """Queue children for waiting items, up to ``max_in_flight`` in flight; publish the
    returned jobs after the commit."""
    in_flight = _count(session, run.id, ReprocessItemStatus.scheduled)
    free = max(0, run.max_in_flight - in_flight)
    if free == 0:
        return []
    waiting = list(session.scalars(select(ReprocessItem).where(
        ReprocessItem.run_id == run.id, ReprocessItem.status == ReprocessItemStatus.waiting)
        .order_by(ReprocessItem.position).limit(free)))
    sent: list[Published] = []
    for item in waiting:
        campaign = session.get(Campaign, item.campaign_id)
        strategy = run.strategy or (campaign.spec.get("strategy") if campaign else None) or {}
        # Reprocessing re-fits and re-suggests beside the live loop (``live``: its designs are
        # stored as ``reprocessed``, not pending, and the strategy state is left alone); it does
        # not run a simulator campaign's loop.
        params: dict[str, Any] = {"count": run.count, "tags": {TAG: str(run.id)},
                                  "close_loop": False, "live": False}
        if run.strategy:
            params["strategy"] = dict(run.strategy)
        child = submit(session, project_id=run.project_id, kind=JobKind.suggest,
                       campaign_id=item.campaign_id, params=params, parent_id=parent_id,
                       strategy_kind=strategy.get("kind"))
        item.status, item.job_id, item.error = ReprocessItemStatus.scheduled, child.id, None
        sent.append((child.id, child.kind, child.queue))
    session.flush()
    return sent


def _count(session: Session, run_id: uuid.UUID, status: ReprocessItemStatus) -> int:
    return session.scalar(select(func.count()).select_from(ReprocessItem).where(
        ReprocessItem.run_id == run_id, ReprocessItem.status == status)) or 0


def park(session: Session, job_id: uuid.UUID, token: str, *, progress: float,
         message: str) -> None:
    """Hand the parent back to ``queued`` without sending it: it waits for a wake-up.

    The claim that started this pass is not counted against the job's attempts (a pass that
    parks did not fail), and its publication count restarts, so the reaper's safety net
    (republish after ``republish_after_s``) never runs out on a long run.

    Raises:
        LeaseLost: this attempt no longer holds the job (e.g. the run was cancelled).
    """
    result = session.execute(update(Job).where(
        Job.id == job_id, Job.lease_token == token, Job.status == JobStatus.running,
    ).values(status=JobStatus.queued, lease_token=None, attempts=Job.attempts - 1,
             published_at=utcnow(), publish_count=0, heartbeat_at=utcnow(),
             progress=min(max(progress, 0.0), 1.0), message=message[:500])
        .execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise LeaseLost(f"job {job_id}: this attempt no longer holds the lease")


def finish_run(session: Session, run: ReprocessRun) -> None:
    run.status = ReprocessStatus.finished
    run.finished_at = utcnow()
    session.flush()


def children_finished_meanwhile(session: Session, run_id: uuid.UUID) -> bool:
    """Whether a scheduled item's child is final already (a wake-up the pass may have missed)."""
    return session.scalar(select(Job.id).join(ReprocessItem, ReprocessItem.job_id == Job.id)
                          .where(ReprocessItem.run_id == run_id,
                                 ReprocessItem.status == ReprocessItemStatus.scheduled,
                                 Job.status.in_([JobStatus.succeeded, JobStatus.failed,
                                                 JobStatus.cancelled])).limit(1)) is not None


def parent_to_wake(session: Session, child_id: uuid.UUID) -> Published | None:
    """The parked parent of a run that ``child_id`` belongs to, to publish now; else ``None``.

    Looked up through the item (not the child's ``parent_id``): after a resume, a child of the
    old parent wakes the new one.
    """
    row = session.execute(
        select(Job.id, Job.kind, Job.queue)
        .join(ReprocessRun, ReprocessRun.job_id == Job.id)
        .join(ReprocessItem, ReprocessItem.run_id == ReprocessRun.id)
        .where(ReprocessItem.job_id == child_id, ReprocessRun.status == ReprocessStatus.running,
               Job.status == JobStatus.queued)).first()
    return (row[0], row[1], row[2]) if row is not None else None


def parked_parent(session: Session, run_id: uuid.UUID) -> Published | None:
    """The run's parent job if the run is running and the job parked (queued), else ``None``."""
    row = session.execute(
        select(Job.id, Job.kind, Job.queue).join(ReprocessRun, ReprocessRun.job_id == Job.id)
        .where(ReprocessRun.id == run_id, ReprocessRun.status == ReprocessStatus.running,
               Job.status == JobStatus.queued)).first()
    return (row[0], row[1], row[2]) if row is not None else None


# --- the comparison report --------------------------------------------------------------------


def build_report(session: Session, run: ReprocessRun, campaign_id: uuid.UUID,
                 child: Job) -> dict[str, Any]:
    """What the run changed for one campaign.

    * ``model``: the version the run made and the campaign's latest one before it, with the
      predictive error (RMSE, in each outcome's units) of each and the change, per outcome
      (``error``), where the models' metrics report it: each entry names the metric each side
      came from (``old_metric`` / ``new_metric``: ``loo_rmse``, the leave-one-out error of a
      GP, else ``val_rmse``, the model's held-out validation error; see :data:`ERROR_METRICS`);
    * ``suggestions``: how far the new designs moved from the campaign's latest designs before
      the run: for each new design the distance to its nearest old one, in the unit cube of
      the space (0: the same design, 1: opposite corners), summarised as mean / max.
    """
    result = child.result or {}
    new_version = _version(session, result.get("model_version_id"))
    old_version = _previous_version(session, campaign_id, run.id, child, new_version)
    campaign = session.get(Campaign, campaign_id)
    spec = campaign_spec(campaign) if campaign is not None else None
    new_ids = [uuid.UUID(i) for i in result.get("suggestion_ids", [])
               if i not in set(result.get("reused", []))]
    new = [s.parameters for s in session.scalars(select(Suggestion).where(
        Suggestion.id.in_(new_ids)))] if new_ids else []
    old = [s.parameters for s in session.scalars(
        select(Suggestion).where(Suggestion.campaign_id == campaign_id,
                                 Suggestion.created_at < child.created_at,
                                 Suggestion.status != SuggestionStatus.reprocessed)
        .order_by(Suggestion.created_at.desc(), Suggestion.id.desc()).limit(max(len(new), 1)))]
    return {"model": _model_report(old_version, new_version),
            "suggestions": _moved(spec, old, new), "job_id": str(child.id),
            "strategy": result.get("strategy")}


def _version(session: Session, version_id: Any) -> ModelVersion | None:
    if not version_id:
        return None
    return session.get(ModelVersion, uuid.UUID(str(version_id)))


def _previous_version(session: Session, campaign_id: uuid.UUID, run_id: uuid.UUID, child: Job,
                      new: ModelVersion | None) -> ModelVersion | None:
    """The campaign's newest model version before the run's own (never one of this run)."""
    stmt = select(ModelVersion).where(
        ModelVersion.campaign_id == campaign_id).order_by(ModelVersion.number.desc())
    if new is not None:
        stmt = stmt.where(ModelVersion.number < new.number)
    for row in session.scalars(stmt):
        if (row.config or {}).get(TAG) != str(run_id):
            return row
    return None


def _model_report(old: ModelVersion | None, new: ModelVersion | None) -> dict[str, Any]:
    (old_error, old_metric), (new_error, new_metric) = model_error(old), model_error(new)
    outcomes = sorted(set(old_error) | set(new_error))
    error = {}
    for name in outcomes:
        before, after = old_error.get(name), new_error.get(name)
        change = after - before if before is not None and after is not None else None
        error[name] = {"old_rmse": before, "new_rmse": after, "change": change,
                       "old_metric": old_metric if before is not None else None,
                       "new_metric": new_metric if after is not None else None}
    return {"old_version": _version_ref(old), "new_version": _version_ref(new),
            "error": error}


def _version_ref(row: ModelVersion | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": str(row.id), "number": row.number, "kind": row.kind}


#: The predictive-error metrics the report reads from a model version, in order of preference:
#: ``loo_rmse``: leave-one-out RMSE, ``metrics.quality.<outcome>.rmse`` (GP versions);
#: ``val_rmse``: RMSE on the model's own held-out validation split, ``metrics.val_rmse``
#: (deep ensembles: ``{outcome: value}`` from the inverse-design round, or a list in the order
#: of ``config.outputs`` from the train job).
ERROR_METRICS = ("loo_rmse", "val_rmse")


def model_error(row: ModelVersion | None) -> tuple[dict[str, float], str | None]:
    """The version's predictive RMSE per outcome and the metric it came from
    (see :data:`ERROR_METRICS`); ``({}, None)`` when it reports none."""
    if row is None:
        return {}, None
    metrics, config = row.metrics or {}, row.config or {}
    quality = metrics.get("quality")
    loo = _finite({str(name): m.get("rmse") for name, m in quality.items()
                   if isinstance(m, Mapping)}) if isinstance(quality, Mapping) else {}
    if loo:
        return loo, "loo_rmse"
    val = metrics.get("val_rmse")
    if isinstance(val, list):
        outputs = config.get("outputs")
        val = dict(zip(outputs, val, strict=False)) if isinstance(outputs, list) else None
    out = _finite({str(k): v for k, v in val.items()}) if isinstance(val, Mapping) else {}
    return (out, "val_rmse") if out else ({}, None)


def _finite(values: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(v) for name, v in values.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}


def _moved(spec: CampaignSpec | None, old: Sequence[Mapping[str, Any]],
           new: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    report: dict[str, Any] = {"new": len(new), "compared_with": len(old),
                              "mean_nearest_distance": None, "max_nearest_distance": None}
    if spec is None or not old or not new:
        return report
    nearest = [min(design_distance(spec, n, o) for o in old) for n in new]
    report["mean_nearest_distance"] = sum(nearest) / len(nearest)
    report["max_nearest_distance"] = max(nearest)
    return report


def design_distance(spec: CampaignSpec, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Distance of two designs in the unit cube of the space, in ``[0, 1]``.

    Each coordinate is scaled to ``[0, 1]``: continuous and integer parameters by their bounds
    (log-scale ones in the logarithm), a categorical by 0 (same choice) or 1, a sequence by the
    share of positions that differ, a composition component by its fraction of the group's
    total. The Euclidean norm is divided by the square root of the number of coordinates.

    Example:
        >>> design_distance(spec, {"x": 0.0}, {"x": 10.0})  # x in [0, 10]  # doctest: +SKIP
        1.0
    """
    parts = [_coordinate(p, a.get(p.name), b.get(p.name)) for p in spec.space.parameters]
    for group in spec.space.compositions:
        parts += [(float(a.get(c, 0.0)) - float(b.get(c, 0.0))) / group.total
                  for c in group.components]
    if not parts:
        return 0.0
    return min(1.0, math.sqrt(sum(v * v for v in parts) / len(parts)))


def _coordinate(p: Any, x: Any, y: Any) -> float:
    """The scaled difference of one parameter's values (see :func:`design_distance`)."""
    if isinstance(p, ContinuousParameter | IntegerParameter):
        lower, upper, u, v = float(p.lower), float(p.upper), float(x), float(y)
        if isinstance(p, ContinuousParameter) and p.log_scale:
            lower, upper, u, v = (math.log(t) for t in (lower, upper, u, v))
        return (u - v) / (upper - lower)
    if isinstance(p, SequenceParameter):
        s, t = str(x), str(y)
        return sum(c != d for c, d in zip(s, t, strict=False)) / max(len(s), 1)
    return 0.0 if x == y else 1.0
