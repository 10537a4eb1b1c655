"""``designloop lab``: work with a running service over HTTP, as a lab does.

Unlike the other commands (which act on the configured database directly), these go through
the HTTP API with the Python client (:mod:`service.client`), so they work from any machine
that can reach the service: ``--url`` (or ``DESIGNLOOP_URL``) and ``--key`` (or
``DESIGNLOOP_API_KEY``).

* ``designloop lab run``: the closed loop with an in-silico lab, round after round;
* ``designloop lab observations export|import``: observations as CSV (the lab spreadsheet);
* ``designloop lab export|import``: a whole campaign as one JSON document.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service.client import ApiError, Campaign, Client, ClientError
from service.client.insilico import LABS
from service.client.loop import closed_loop

lab_app = typer.Typer(help="Talk to a running service over HTTP, as a lab does.",
                      no_args_is_help=True)
observations_app = typer.Typer(help="Observations as CSV (the lab spreadsheet).",
                               no_args_is_help=True)
lab_app.add_typer(observations_app, name="observations")

console = Console(stderr=True)
UrlOption = Annotated[str, typer.Option("--url", envvar="DESIGNLOOP_URL",
                                        help="The service's base URL.")]
KeyOption = Annotated[str | None, typer.Option("--key", envvar="DESIGNLOOP_API_KEY",
                                               help="The project's API key.")]
DEFAULT_URL = "http://127.0.0.1:8000"


@contextlib.contextmanager
def _client(url: str, key: str | None) -> Iterator[Client]:
    """A client for the command; a client error ends the command with its message."""
    if not key:
        console.print("[red]error:[/red] give the project's API key with --key or "
                      "DESIGNLOOP_API_KEY")
        raise typer.Exit(1)
    try:
        with Client(url, key) as client:
            yield client
    except ClientError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        if isinstance(exc, ApiError):
            for error in exc.errors[:50]:
                where = (f"row {error.row}" + (f", column {error.column}" if error.column
                                               else "")) if error.row else error.field
                console.print(f"  {where}: {error.message}", markup=False, highlight=False)
        raise typer.Exit(1) from exc


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        console.print(f"wrote {out}")


@lab_app.command("run")
def run(url: UrlOption = DEFAULT_URL, key: KeyOption = None,
        campaign: Annotated[uuid.UUID | None, typer.Option(
            help="The campaign to run (default: the one named --name, created if absent).")]
        = None,
        name: Annotated[str, typer.Option(help="Name of the campaign to reuse or create.")]
        = "lab-robot",
        lab: Annotated[str, typer.Option(help=f"In-silico lab: {', '.join(LABS)}.")]
        = "branin",
        rounds: Annotated[int, typer.Option(min=1)] = 5,
        batch: Annotated[int, typer.Option(min=1, help="Designs per round.")] = 4,
        noise: Annotated[float, typer.Option(min=0.0, help="Measurement noise sd.")] = 0.0,
        failure_rate: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
        seed: Annotated[int | None, typer.Option(help="Seed of the lab's noise.")] = None,
        progress: Annotated[bool, typer.Option(help="Show each job's progress.")] = True,
        ) -> None:
    """Run the closed loop against a running service, with an in-silico lab.

    Each round asks for a batch, measures it, posts the results (idempotently); then a
    table of the rounds.
    """
    if lab not in LABS:
        console.print(f"[red]error:[/red] unknown lab {lab!r}; known: {sorted(LABS)}")
        raise typer.Exit(1)
    bench = LABS[lab](noise_sd=noise, failure_rate=failure_rate, seed=seed)
    with _client(url, key) as client:
        target = client.campaign(campaign) if campaign else _named(client, name, bench.problem)
        console.print(f"campaign {target.id} ({target.name}, problem {target.data.problem})")
        table = Table("round", "designs", "failed", "best so far", "seconds",
                      title=f"lab {lab}: {target.name}")
        for report in closed_loop(target, bench, rounds=rounds, batch=batch,
                                  progress=progress):
            table.add_row(str(report.number), str(len(report.observations)),
                          str(report.failed),
                          "-" if report.best is None else f"{report.best:.6g}",
                          f"{report.seconds:.1f}")
        Console().print(table)
        summary = target.summary
        if summary is not None:
            Console().print(f"{summary.observations} observations, "
                            f"{summary.failed_observations} failed, "
                            f"{summary.pending_suggestions} pending")


def _named(client: Client, name: str, problem: str) -> Campaign:
    """The project's campaign of that name and problem, or a new one (lab evaluator)."""
    for existing in client.campaigns(problem=problem):
        if existing.name == name:
            return existing
    return client.create_campaign(name=name, problem=problem, evaluator={"kind": "lab"})


@lab_app.command("export")
def export(campaign: uuid.UUID,
           out: Annotated[Path | None, typer.Argument(help="File (default: stdout).")] = None,
           url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
    """The whole campaign as one JSON document."""
    with _client(url, key) as client:
        _write(client.campaign(campaign).export().model_dump_json(indent=2) + "\n", out)


@lab_app.command("import")
def import_(document: Annotated[Path, typer.Argument(help="An export document (JSON).")],
            url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
    """Recreate a campaign from its export document, in this key's project."""
    with _client(url, key) as client:
        imported = client.import_campaign(document)
    console.print(f"imported campaign {imported.ids.source_campaign_id} as "
                  f"{imported.campaign.id}: {len(imported.ids.observations)} observations, "
                  f"{len(imported.ids.suggestions)} suggestions, "
                  f"{len(imported.ids.model_versions)} model versions")
    print(imported.campaign.id)


@observations_app.command("export")
def observations_export(
        campaign: uuid.UUID,
        out: Annotated[Path | None, typer.Argument(help="CSV file (default: stdout).")] = None,
        url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
    """The campaign's observations as CSV."""
    with _client(url, key) as client:
        _write(client.campaign(campaign).observations_csv(), out)


@observations_app.command("import")
def observations_import(
        campaign: uuid.UUID, csv: Annotated[Path, typer.Argument(help="The CSV file.")],
        ignore_suggestion_ids: Annotated[bool, typer.Option(
            help="Do not read the suggestion_id column (rows from another campaign).")]
        = False,
        url: UrlOption = DEFAULT_URL, key: KeyOption = None) -> None:
    """Store the observations of a CSV: every row checked, all or nothing."""
    with _client(url, key) as client:
        stored = client.campaign(campaign).import_observations_csv(
            csv, link_suggestions=not ignore_suggestion_ids)
    console.print(f"stored {len(stored)} observation(s)")
