"""``designloop reprocess``: re-fit and re-suggest many campaigns as one run.

Like the campaign commands, these act as a project (``--key`` or ``DESIGNLOOP_API_KEY``) on the
configured database, through the same repository functions as ``/v1/reprocess``; a worker does
the work. ``create`` starts a run, ``show`` prints its progress and per-campaign report,
``cancel`` stops it, ``resume`` continues it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service.api.routes.reprocess import read_run
from service.config import get_settings
from service.db.engine import session_scope
from service.errors import Unauthorized
from service.jobs import publish_jobs
from service.repositories import projects as project_rows
from service.repositories import reprocess as reprocess_rows
from service.schemas.reprocess import ReprocessCreate, ReprocessRead

reprocess_app = typer.Typer(help="Re-fit and re-suggest many campaigns (a reprocessing run).",
                            no_args_is_help=True)
console = Console()
KeyOption = Annotated[str | None, typer.Option("--key", envvar="DESIGNLOOP_API_KEY",
                                               help="The project's API key.")]


def project_from_key(key: str | None) -> uuid.UUID:
    """The project of an API key (the command ends with a message when there is none)."""
    if not key:
        console.print("[red]error:[/red] give the project's API key with --key or "
                      "DESIGNLOOP_API_KEY")
        raise typer.Exit(1)
    with session_scope() as session:
        row = project_rows.authenticate(session, key)
        if row is None:
            raise Unauthorized("the API key is not valid")
        return row.project_id


@reprocess_app.command("create")
def create(campaign: Annotated[list[uuid.UUID] | None, typer.Option(
               "--campaign", "-c", help="A campaign id (repeat for several).")] = None,
           problem: Annotated[str | None, typer.Option(help="Campaigns of this problem.")] = None,
           since: Annotated[dt.datetime | None, typer.Option(
               help="Campaigns created at or after (UTC when no zone is given).")] = None,
           until: Annotated[dt.datetime | None, typer.Option(
               help="Campaigns created before (UTC when no zone is given).")] = None,
           all_campaigns: Annotated[bool, typer.Option(
               "--all", help="Every campaign of the project.")] = False,
           strategy: Annotated[str | None, typer.Option(
               help="Strategy kind to re-suggest with (default: each campaign's own).")] = None,
           options: Annotated[str | None, typer.Option(
               help="The strategy's options as JSON.")] = None,
           count: Annotated[int, typer.Option(help="Designs per campaign.")] = 4,
           in_flight: Annotated[int | None, typer.Option(
               "--max-in-flight", help="Campaigns processed at once.")] = None,
           key: KeyOption = None) -> None:
    """Start a run over the chosen campaigns; prints the run id."""
    project_id = project_from_key(key)
    body: dict[str, Any] = {"campaign_ids": campaign or None, "problem": problem,
                            "created_after": _utc(since), "created_before": _utc(until),
                            "all": all_campaigns, "count": count, "max_in_flight": in_flight}
    if strategy is not None:
        body["strategy"] = {"kind": strategy, "options": json.loads(options or "{}")}
    elif options is not None:
        _fail("--options needs --strategy")
    try:
        request = ReprocessCreate.model_validate(body)
    except ValidationError as exc:
        _fail(str(exc))
    settings = get_settings()
    with session_scope() as session:
        run, job = reprocess_rows.create_run(session, project_id, request,
                                             max_in_flight=settings.reprocess_max_in_flight,
                                             max_count=settings.max_suggestion_count)
        run_id, sent = run.id, (job.id, job.kind, job.queue)
        items = len(reprocess_rows.run_items(session, run.id))
    publish_jobs([sent])
    console.print(f"reprocess run {run_id}: {items} campaign(s), parent job {sent[0]}")


@reprocess_app.command("show")
def show(run_id: uuid.UUID, key: KeyOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Progress of a run and, per campaign, its comparison report (old vs new model's
    predictive RMSE, with the metric of each: ``loo`` leave-one-out, ``val`` held-out
    validation; how far the suggestions moved)."""
    project_id = project_from_key(key)
    with session_scope() as session:
        read = read_run(session, reprocess_rows.get_run(session, project_id, run_id))
    if as_json:
        console.print_json(read.model_dump_json())
        return
    print_run(read)


@reprocess_app.command("cancel")
def cancel(run_id: uuid.UUID, key: KeyOption = None) -> None:
    """Stop scheduling; queued children are cancelled, running ones finish."""
    project_id = project_from_key(key)
    with session_scope() as session:
        run = reprocess_rows.cancel_run(session,
                                        reprocess_rows.get_run(session, project_id, run_id))
        read = read_run(session, run)
    print_run(read)


@reprocess_app.command("resume")
def resume(run_id: uuid.UUID, key: KeyOption = None) -> None:
    """Continue a cancelled run where it stopped."""
    project_id = project_from_key(key)
    with session_scope() as session:
        run = reprocess_rows.get_run(session, project_id, run_id)
        job = reprocess_rows.resume_run(session, run)
        sent = (job.id, job.kind, job.queue)
    publish_jobs([sent])
    console.print(f"reprocess run {run_id} resumed: parent job {sent[0]}")


def print_run(read: ReprocessRead) -> None:
    """The run's header line and one table row per campaign."""
    job = read.job
    progress = f", parent job {job.status.value} {job.progress:.0%}" if job else ""
    counts = ", ".join(f"{name} {value}" for name, value in read.counts.model_dump().items()
                       if value)
    console.print(f"run {read.id}: [bold]{read.status.value}[/bold]{progress} ({counts})")
    table = Table("campaign", "status", "RMSE old -> new (metric)", "moved (mean / max)", "note")
    for item in read.items:
        report = item.report or {}
        table.add_row(str(item.campaign_id), item.status.value, _errors(report),
                      _moved(report), escape(str((item.error or {}).get("message", ""))[:80]))
    console.print(table)


def _errors(report: dict[str, Any]) -> str:
    model = report.get("model") or {}
    rows = model.get("error") or model.get("loo_error") or {}  # "loo_error": older reports
    return "\n".join(f"{name}: {_num(v.get('old_rmse'))} -> {_num(v.get('new_rmse'))}"
                     f"{_metrics(v)}" for name, v in rows.items()) or "-"


def _metrics(entry: dict[str, Any]) -> str:
    """Which error metric each side is (``loo``: leave-one-out, ``val``: held-out split)."""
    names = [str(entry.get(k) or "-").removesuffix("_rmse")
             for k in ("old_metric", "new_metric")]
    return "" if names == ["-", "-"] else f" ({names[0]} / {names[1]})"


def _moved(report: dict[str, Any]) -> str:
    moved = report.get("suggestions") or {}
    if moved.get("mean_nearest_distance") is None:
        return "-"
    return (f"{moved['mean_nearest_distance']:.3f} / {moved['max_nearest_distance']:.3f} "
            f"({moved['new']} new)")


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "-"


def _utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)
