"""``designloop demo``: one whole campaign on the embedded default, round after round.

It uses the production path end to end: job rows in the database, ids through the broker, a
real Celery worker process running the same task code, the problem's simulator as evaluator.
Only the HTTP hop is skipped (the demo calls the same repository functions as the routes).

Each round prints the best feasible value so far and, where the problem plug-in documents a
reference optimum (:data:`REFERENCE_OPTIMA`), the gap to it, so convergence is visible. Strategy
and problem options can be given as JSON (``--options``, ``--problem-options``); without them
the ``inverse_design`` strategy gets lighter settings (:data:`DEMO_STRATEGY_OPTIONS`). A round
may take as long as two jobs may run (``2 x job_time_limit_s`` plus a margin), or
``--round-timeout`` seconds.

The demo runs in the API process, which never imports torch: it reads everything from the
database and the torch-free problem specs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from models.problems.base import ProblemError
from models.problems.registry import get_spec
from service.config import Settings, get_settings, override_settings
from service.db.engine import session_scope
from service.db.tables import Campaign, Job, ModelVersion
from service.enums import JobKind, JobStatus
from service.jobs import publish_jobs, submit
from service.migrate import upgrade
from service.repositories import campaigns as campaign_rows
from service.repositories import projects as project_rows
from service.schemas.campaign import CampaignCreate, CampaignSummary, Evaluator, Strategy

DEMO_PROJECT = "demo"
#: Seconds a round may take beyond its two jobs' time limits (queueing, worker start-up).
ROUND_MARGIN_S = 60.0

#: Reference optima that the built-in problem plug-ins document for their default space (the
#: demo's campaigns use it; the nanoparticle lab's options only change its noise, not the
#: truth), as ``(value, source)``. Kept here, torch-free,
#: because the plug-ins compute them in their torch implementations; a unit test
#: (``tests/unit/service/test_demo_reference.py``) keeps them equal to the plug-ins' own values.
#: Problems without a documented optimum (``texture``: the least friction at a load floor is
#: not known in closed form) show no gap.
REFERENCE_OPTIMA: dict[str, tuple[float, str]] = {
    "branin": (0.397887357729738, "Branin's global minimum (BraninProblem.optimal_value)"),
    "nanoparticle": (45.978248666718635,
                     "noise-free dense search (NanoparticleProblem.reference_optimum())"),
}

#: Strategy options the demo uses when none are given: the demo shows the loop, so a model
#: round should take tens of seconds, not minutes (the strategy's own defaults, 5 MLPs of width
#: 64 for up to 1500 epochs, took 219 s a round on a loaded 2-core machine).
DEMO_STRATEGY_OPTIONS: dict[str, dict[str, Any]] = {
    "inverse_design": {"members": 3, "width": 32, "epochs": 500},
}


def run_demo(*, rounds: int, batch: int, problem: str, home: Path | None,
             console: Console, strategy: str = "bayesian",
             options: dict[str, Any] | None = None,
             problem_options: dict[str, Any] | None = None,
             round_timeout_s: float | None = None) -> None:
    """Create (or resume) the demo campaign and run ``rounds`` rounds of it.

    Args:
        rounds: Rounds to run now (suggest ``batch`` designs, simulate them, store them).
        batch: Designs per round.
        problem: Problem key.
        home: Embedded state directory (default: the configured one).
        console: Where to print.
        strategy: Strategy kind.
        options: The strategy's options (None: :data:`DEMO_STRATEGY_OPTIONS` for the kind, if
            any). A resumed campaign keeps the options it was created with.
        problem_options: The problem's options (None: its defaults), at creation only.
        round_timeout_s: Seconds to wait for one round (None: two jobs' hard time limits plus
            :data:`ROUND_MARGIN_S`).
    """
    if home is not None:
        override_settings(Settings(home=home))
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade()
    wanted = DEMO_STRATEGY_OPTIONS.get(strategy, {}) if options is None else options
    project_id, campaign_id, resumed = _project_and_campaign(problem, strategy, wanted,
                                                             problem_options or {})
    timeout = round_timeout_s if round_timeout_s is not None else \
        2.0 * settings.job_time_limit_s + ROUND_MARGIN_S
    console.print(f"[bold]designloop demo[/bold]: problem [cyan]{problem}[/cyan], strategy "
                  f"[cyan]{strategy}[/cyan], database "
                  f"{settings.resolved_database_url}, broker {settings.resolved_broker_url}")
    console.print(("resuming" if resumed else "created") + f" campaign {campaign_id}")
    spec = _campaign_spec(project_id, campaign_id)
    stored = spec["strategy"].get("options") or {}
    console.print(f"strategy options: {escape(json.dumps(stored, sort_keys=True))}")
    if resumed and ((options is not None and options != stored) or problem_options):
        console.print("[yellow]note:[/yellow] a resumed campaign keeps the options it was "
                      "created with; use another --home for a fresh campaign")
    objective = spec["objectives"][0]
    reference = _reference(problem, spec, console)
    worker = _start_worker(settings)
    console.print(f"worker log: {settings.home / 'worker.log'}; a round may take up to "
                  f"{timeout:.0f} s")
    try:
        table = _rounds_table(reference is not None)
        done = _rounds_done(campaign_id)
        for round_index in range(done + 1, done + rounds + 1):
            started = time.monotonic()
            job_id = _ask_for_suggestions(project_id, campaign_id, batch)
            if not _wait_for_campaign_jobs(campaign_id, worker, timeout):
                console.print(table)
                raise SystemExit("the worker stopped or a round took longer than "
                                 f"{timeout:.0f} s; see the worker log (--round-timeout "
                                 "sets the wait)")
            failed = _failed_jobs(campaign_id, since_job=job_id)
            row = _add_row(table, round_index, project_id, campaign_id,
                           time.monotonic() - started, objective, reference)
            console.print(row)
            if failed:
                console.print(table)
                raise SystemExit(f"job failed: {failed}")
        console.print(table)
        best = _best_design(project_id, campaign_id)
        if best is not None:
            console.print(best)
    finally:
        _stop_worker(worker)


def _project_and_campaign(problem: str, strategy: str, options: dict[str, Any],
                          problem_options: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID, bool]:
    name = f"demo-{problem}-{strategy}"
    with session_scope() as session:
        project = project_rows.get_project_by_name(session, DEMO_PROJECT)
        if project is None:
            project = project_rows.create_project(session, DEMO_PROJECT)
        campaign = session.scalar(select(Campaign).where(Campaign.project_id == project.id,
                                                         Campaign.name == name))
        if campaign is not None:
            return project.id, campaign.id, True
        try:
            request = CampaignCreate(
                name=name, problem=problem, seed=0, problem_options=problem_options,
                strategy=Strategy(kind=strategy, options=options),  # type: ignore[arg-type]
                evaluator=Evaluator(kind="simulator", gradients=_simulator_gradients(
                    problem, strategy)))
        except ValidationError as exc:
            raise SystemExit(f"bad demo campaign: {_first_error(exc)}") from None
        campaign = campaign_rows.create_campaign(session, project.id, request)
        return project.id, campaign.id, False


def _simulator_gradients(problem: str, strategy: str) -> bool:
    """Gradient inverse design stores the simulator's derivatives where it has them: the
    ensemble fits values and slopes (how ``benchmarks/textures.py`` runs it)."""
    try:
        spec = get_spec(problem)
    except ProblemError:
        return False  # the campaign's creation names the unknown problem
    return strategy == "inverse_design" and spec.simulator_gradients


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _campaign_spec(project_id: uuid.UUID, campaign_id: uuid.UUID) -> dict[str, Any]:
    with session_scope() as session:
        return dict(campaign_rows.get_campaign(session, project_id, campaign_id).spec)


def _reference(problem: str, spec: dict[str, Any], console: Console) -> float | None:
    """The documented reference optimum of the campaign's objective, announced, or None."""
    known = REFERENCE_OPTIMA.get(problem)
    objective = spec["objectives"][0]
    if known is None:
        console.print(f"no documented reference optimum for {problem!r}: the table shows the "
                      "best feasible value only")
        return None
    value, source = known
    console.print(f"reference optimum: {objective['name']} = {value:.6g} ({source}); gap: "
                  "how far the best feasible measurement is from it"
                  + (" (noisy: it can dip below 0)" if problem == "nanoparticle" else ""))
    return value


def _rounds_done(campaign_id: uuid.UUID) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Job).where(
            Job.campaign_id == campaign_id, Job.kind == JobKind.suggest)) or 0


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["DESIGNLOOP_HOME"] = str(settings.home.resolve())
    if settings.database_url:
        env["DESIGNLOOP_DATABASE_URL"] = settings.database_url
    if settings.broker_url:
        env["DESIGNLOOP_BROKER_URL"] = settings.broker_url
    argv = [sys.executable, "-m", "workers", "--queues", "cpu,gpu", "--pool", "solo",
            "--loglevel", "WARNING"]
    log = (settings.home / "worker.log").open("ab")  # the worker's banner and logs, kept apart
    return subprocess.Popen(argv, env=env, start_new_session=True, stdout=log,
                            stderr=subprocess.STDOUT)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _ask_for_suggestions(project_id: uuid.UUID, campaign_id: uuid.UUID, count: int) -> uuid.UUID:
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        job = submit(session, project_id=project_id, kind=JobKind.suggest,
                     campaign_id=campaign_id, params={"count": count},
                     strategy_kind=campaign.spec["strategy"]["kind"])
    publish_jobs([(job.id, job.kind, job.queue)])
    return job.id


def _wait_for_campaign_jobs(campaign_id: uuid.UUID, worker: subprocess.Popen[bytes],
                            timeout_s: float) -> bool:
    """Wait until no job of the campaign is queued or running (suggest, then evaluate)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and worker.poll() is None:
        with session_scope() as session:
            open_jobs = session.scalar(select(Job.id).where(
                Job.campaign_id == campaign_id,
                Job.status.in_([JobStatus.queued, JobStatus.running])).limit(1))
        if open_jobs is None:
            return True
        time.sleep(0.2)
    return False


def _failed_jobs(campaign_id: uuid.UUID, since_job: uuid.UUID) -> list[str]:
    with session_scope() as session:
        since = session.scalar(select(Job.created_at).where(Job.id == since_job))
        rows = session.scalars(select(Job).where(Job.campaign_id == campaign_id,
                                                 Job.status == JobStatus.failed,
                                                 Job.created_at >= since))
        return [f"{job.kind.value} {job.id}: {(job.error or {}).get('message')}" for job in rows]


def _rounds_table(with_gap: bool) -> Table:
    table = Table(title="designloop demo: suggest -> simulate -> observe")
    columns = ["round", "observations", "failed", "infeasible", "model", "best feasible",
               *(["gap"] if with_gap else []), "s"]
    for column in columns:
        table.add_column(column, justify="right")
    return table


def gap_to_reference(best: float, reference: float, goal: str) -> float:
    """How far ``best`` is from the reference optimum, positive while short of it.

    Example:
        >>> gap_to_reference(40.0, 46.0, "maximize"), gap_to_reference(0.5, 0.25, "minimize")
        (6.0, 0.25)
    """
    return reference - best if goal == "maximize" else best - reference


def _summary(project_id: uuid.UUID, campaign_id: uuid.UUID) -> tuple[CampaignSummary,
                                                                     int | None]:
    """The campaign's summary and its latest model version number."""
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        summary = campaign_rows.summarize(session, campaign)
        model = session.scalar(select(func.max(ModelVersion.number)).where(
            ModelVersion.campaign_id == campaign_id))
    return summary, model


def _add_row(table: Table, round_index: int, project_id: uuid.UUID, campaign_id: uuid.UUID,
             seconds: float, objective: dict[str, Any], reference: float | None) -> str:
    """Add the round's row to the table; return it as one line to print now."""
    summary, model = _summary(project_id, campaign_id)
    best = summary.best
    infeasible = (f"{summary.infeasible_suggestions}/{summary.observed_suggestions}"
                  if summary.observed_suggestions else "-")
    best_text = f"{best['value']:.4g}" if best else "-"
    gap_text = "-"
    if best is not None and reference is not None:
        gap = gap_to_reference(float(best["value"]), reference, objective["goal"])
        gap_text = f"{gap:.3g} ({100.0 * gap / abs(reference):.1f}%)" if reference else \
            f"{gap:.3g}"
    table.add_row(str(round_index), str(summary.observations), str(summary.failed_observations),
                  infeasible, f"v{model}" if model else "-", best_text,
                  *([gap_text] if reference is not None else []), f"{seconds:.1f}")
    line = (f"round {round_index}: {summary.observations} observations, best feasible "
            f"{objective['name']} = {best_text}")
    if reference is not None:
        line += f", gap to reference {gap_text}"
    return line + f" ({seconds:.1f} s)"


def _best_design(project_id: uuid.UUID, campaign_id: uuid.UUID) -> Table | None:
    """The best feasible design so far, one parameter per row."""
    best = _summary(project_id, campaign_id)[0].best
    if best is None:
        return None
    table = Table(title=f"best feasible design: {best['objective']} = {best['value']:.4g}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name, value in best["parameters"].items():
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    return table
