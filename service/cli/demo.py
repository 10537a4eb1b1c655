"""``designloop demo``: one whole campaign on the embedded default, round after round.

It uses the production path end to end: job rows in the database, ids through the broker, a
real Celery worker process running the same task code, the problem's simulator as evaluator.
Only the HTTP hop is skipped (the demo calls the same repository functions as the routes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

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
JOB_TIMEOUT_S = 300.0


def run_demo(*, rounds: int, batch: int, problem: str, home: Path | None,
             console: Console, strategy: str = "bayesian") -> None:
    if home is not None:
        override_settings(Settings(home=home))
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade()
    project_id, campaign_id, resumed = _project_and_campaign(problem, strategy)
    console.print(f"[bold]designloop demo[/bold]: problem [cyan]{problem}[/cyan], strategy "
                  f"[cyan]{strategy}[/cyan], database "
                  f"{settings.resolved_database_url}, broker {settings.resolved_broker_url}")
    console.print(("resuming" if resumed else "created") + f" campaign {campaign_id}")
    worker = _start_worker(settings)
    console.print(f"worker log: {settings.home / 'worker.log'}")
    try:
        table = _rounds_table()
        done = _rounds_done(campaign_id)
        for round_index in range(done + 1, done + rounds + 1):
            started = time.monotonic()
            job_id = _ask_for_suggestions(project_id, campaign_id, batch)
            if not _wait_for_campaign_jobs(campaign_id, worker):
                console.print(table)
                raise SystemExit("the worker stopped or a job timed out; see the worker log")
            failed = _failed_jobs(campaign_id, since_job=job_id)
            _add_row(table, round_index, project_id, campaign_id, time.monotonic() - started)
            if failed:
                console.print(table)
                raise SystemExit(f"job failed: {failed}")
        console.print(table)
        best = _best_design(project_id, campaign_id)
        if best is not None:
            console.print(best)
    finally:
        _stop_worker(worker)


def _project_and_campaign(problem: str, strategy: str) -> tuple[uuid.UUID, uuid.UUID, bool]:
    name = f"demo-{problem}-{strategy}"
    with session_scope() as session:
        project = project_rows.get_project_by_name(session, DEMO_PROJECT)
        if project is None:
            project = project_rows.create_project(session, DEMO_PROJECT)
        campaign = session.scalar(select(Campaign).where(Campaign.project_id == project.id,
                                                         Campaign.name == name))
        if campaign is not None:
            return project.id, campaign.id, True
        request = CampaignCreate(name=name, problem=problem, seed=0,
                                 strategy=Strategy(kind=strategy),  # type: ignore[arg-type]
                                 evaluator=Evaluator(kind="simulator"))
        campaign = campaign_rows.create_campaign(session, project.id, request)
        return project.id, campaign.id, False


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


def _wait_for_campaign_jobs(campaign_id: uuid.UUID, worker: subprocess.Popen[bytes]) -> bool:
    """Wait until no job of the campaign is queued or running (suggest, then evaluate)."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
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


def _rounds_table() -> Table:
    table = Table(title="designloop demo: suggest -> simulate -> observe")
    for column in ("round", "observations", "failed", "infeasible", "model", "best feasible",
                   "s"):
        table.add_column(column, justify="right")
    return table


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
             seconds: float) -> None:
    summary, model = _summary(project_id, campaign_id)
    best = summary.best
    infeasible = (f"{summary.infeasible_suggestions}/{summary.observed_suggestions}"
                  if summary.observed_suggestions else "-")
    table.add_row(str(round_index), str(summary.observations), str(summary.failed_observations),
                  infeasible, f"v{model}" if model else "-",
                  f"{best['value']:.4g}" if best else "-", f"{seconds:.1f}")


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
