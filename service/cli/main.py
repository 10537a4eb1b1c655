"""The ``designloop`` command line.

Operator commands (``serve``, ``worker``, ``migrate``, ``reap``, ``project create``, ``demo``)
act on the configured deployment. Campaign commands act as a project, identified by its API
key (``--key`` or ``DESIGNLOOP_API_KEY``), through the same repository functions the HTTP API
uses, so the CLI can never do what the API would refuse.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from service.cli.lab import lab_app
from service.cli.plot import plot
from service.cli.reprocess import reprocess_app
from service.config import get_settings
from service.db.engine import session_scope
from service.enums import JobKind
from service.errors import DesignloopError, Unauthorized
from service.jobs import publish_jobs, submit
from service.repositories import campaigns as campaign_rows
from service.repositories import jobs as job_rows
from service.repositories import observations as observation_rows
from service.repositories import projects as project_rows
from service.schemas.campaign import CampaignCreate, CampaignRead
from service.schemas.job import JobRead
from service.schemas.observation import ObservationBatch

app = typer.Typer(help="designloop: inverse design and discovery campaigns.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
project_app = typer.Typer(help="Projects (tenants) and their API keys.", no_args_is_help=True)
campaign_app = typer.Typer(help="Design campaigns.", no_args_is_help=True)
job_app = typer.Typer(help="Queued work.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(campaign_app, name="campaign")
app.add_typer(job_app, name="job")
app.add_typer(lab_app, name="lab")
app.add_typer(reprocess_app, name="reprocess")
app.command("plot")(plot)

console = Console()
BodyT = TypeVar("BodyT", bound=BaseModel)
KeyOption = Annotated[str | None, typer.Option("--key", envvar="DESIGNLOOP_API_KEY",
                                               help="The project's API key.")]


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=1)


def _project_id(key: str | None) -> uuid.UUID:
    if not key:
        _fail("give the project's API key with --key or DESIGNLOOP_API_KEY")
    with session_scope() as session:
        row = project_rows.authenticate(session, key or "")
        if row is None:
            raise Unauthorized("the API key is not valid")
        return row.project_id


def _read_body(schema: type[BodyT], path: Path) -> BodyT:
    """A JSON file validated by the same schema as the matching API request body."""
    try:
        return schema.model_validate_json(path.read_text())
    except ValidationError as exc:
        console.print(f"[red]error:[/red] {path}: {exc}")
        raise typer.Exit(code=1) from exc


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    uvicorn.run("service.api.app:create_app", factory=True, host=host, port=port,
                workers=workers, proxy_headers=True)


@app.command()
def worker(queues: Annotated[str | None, typer.Option(
               help="Comma-separated queues (default: settings).")] = None,
           concurrency: int = 1, pool: str = "prefork", loglevel: str = "INFO") -> None:
    """Run a Celery worker (started as ``python -m workers``: the service imports no task code)."""
    argv = [sys.executable, "-m", "workers", "--concurrency", str(concurrency), "--pool", pool,
            "--loglevel", loglevel]
    if queues:
        argv += ["--queues", queues]
    os.execv(sys.executable, argv)


@app.command()
def migrate(revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (Alembic)."""
    from service.migrate import upgrade

    upgrade(revision=revision)
    console.print(f"database at {revision}: {get_settings().resolved_database_url}")


@app.command()
def reap() -> None:
    """Run one reaper pass: requeue jobs of lost workers, republish lost messages."""
    from service.jobs import reap_once

    report = reap_once()
    console.print(f"republished {len(report.republish)}, requeued {len(report.requeued)}, "
                  f"failed {len(report.failed)}")


@project_app.command("create")
def project_create(name: str) -> None:
    """Create a project and print its API key (shown once, stored only as a hash)."""
    with session_scope() as session:
        project = project_rows.create_project(session, name)
        _, key = project_rows.create_api_key(session, project.id, label="created by CLI")
    console.print(f"project [bold]{name}[/bold] {project.id}")
    console.print("API key (shown once, keep it safe):")
    print(key)


@campaign_app.command("create")
def campaign_create(spec: Annotated[Path, typer.Argument(help="JSON file: the campaign body.")],
                    key: KeyOption = None) -> None:
    """Create a campaign from a JSON file shaped like ``POST /v1/campaigns``."""
    project_id = _project_id(key)
    request = _read_body(CampaignCreate, spec)
    with session_scope() as session:
        campaign = campaign_rows.create_campaign(session, project_id, request)
    console.print(f"campaign {campaign.id}")


@campaign_app.command("list")
def campaign_list(key: KeyOption = None, limit: int = 50) -> None:
    project_id = _project_id(key)
    table = Table("id", "name", "problem", "created")
    with session_scope() as session:
        rows, _ = campaign_rows.list_campaigns(session, project_id, limit=limit, cursor=None)
        for row in rows:
            table.add_row(str(row.id), row.name, row.problem, row.created_at.isoformat())
    console.print(table)


@campaign_app.command("show")
def campaign_show(campaign_id: uuid.UUID, key: KeyOption = None) -> None:
    project_id = _project_id(key)
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        read = CampaignRead.model_validate(campaign)
        read.summary = campaign_rows.summarize(session, campaign)
    _print_json(read.model_dump(mode="json"))


@app.command()
def suggest(campaign_id: uuid.UUID, count: int = 1, key: KeyOption = None,
            wait: Annotated[bool, typer.Option(help="Wait for the job.")] = True) -> None:
    """Ask for ``count`` new designs (queues a job)."""
    project_id = _project_id(key)
    if not 1 <= count <= get_settings().max_suggestion_count:
        _fail(f"count must be in [1, {get_settings().max_suggestion_count}]")
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        job = submit(session, project_id=project_id, kind=JobKind.suggest,
                     campaign_id=campaign.id, params={"count": count},
                     strategy_kind=campaign.spec["strategy"]["kind"])
    publish_jobs([(job.id, job.kind, job.queue)])
    console.print(f"job {job.id} queued")
    if wait:
        _print_json(wait_for_job(project_id, job.id).model_dump(mode="json"))


@app.command()
def observe(campaign_id: uuid.UUID,
            data: Annotated[Path, typer.Argument(help="JSON file: {\"observations\": [...]}")],
            key: KeyOption = None) -> None:
    """Post measurements (all or nothing)."""
    project_id = _project_id(key)
    batch = _read_body(ObservationBatch, data)
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        rows = observation_rows.add_observations(session, campaign, batch, posted_by="cli")
    console.print(f"stored {len(rows)} observation(s)")


@job_app.command("show")
def job_show(job_id: uuid.UUID, key: KeyOption = None) -> None:
    project_id = _project_id(key)
    with session_scope() as session:
        job = job_rows.get_job(session, project_id, job_id)
        _print_json(JobRead.model_validate(job).model_dump(mode="json"))


def wait_for_job(project_id: uuid.UUID, job_id: uuid.UUID, timeout_s: float = 600.0) -> JobRead:
    """Poll the job row until it is final (the row, not the broker, is the truth)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with session_scope() as session:
            job = JobRead.model_validate(job_rows.get_job(session, project_id, job_id))
        if job.status.is_final or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


@app.command()
def demo(rounds: int = 8, batch: int = 4, problem: str = "nanoparticle",
         strategy: Annotated[str, typer.Option(
             help="space_filling, bayesian, inverse_design, sequence_design (as the problem "
                  "offers).")] = "bayesian",
         home: Annotated[Path | None, typer.Option(help="Embedded state directory.")] = None,
         options: Annotated[str | None, typer.Option(
             "--options", help="Strategy options as a JSON object, e.g. '{\"members\": 3}' "
                               "(default: lighter settings for inverse_design).")] = None,
         problem_options: Annotated[str | None, typer.Option(
             "--problem-options", help="Problem options as a JSON object, e.g. "
                                       "'{\"grid\": {\"nx\": 21, \"nz\": 11}}'.")] = None,
         round_timeout: Annotated[float | None, typer.Option(
             min=1.0, help="Seconds to wait for one round (default: two jobs' time limits "
                           "plus a minute).")] = None,
         ) -> None:
    """Run a whole campaign on the embedded default: suggest -> simulate -> observe, per round.

    State lives under ``home`` (default ``.designloop``): run it again and the campaign goes on
    from where it stopped (with the options it was created with). Each round prints the best
    feasible value and, where the problem documents a reference optimum, the gap to it.
    """
    from service.cli.demo import run_demo

    run_demo(rounds=rounds, batch=batch, problem=problem, home=home, console=console,
             strategy=strategy, options=_json_object(options, "--options"),
             problem_options=_json_object(problem_options, "--problem-options"),
             round_timeout_s=round_timeout)


def _json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object given on the command line, or None."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return value


def main() -> None:
    try:
        app()
    except DesignloopError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        sys.exit(1)


if __name__ == "__main__":
    main()
