"""``designloop plot CAMPAIGN KIND -o file.png``: a campaign's picture, as the API serves it.

``convergence``, ``pareto`` and ``parity`` are drawn at once; ``design`` is drawn by a worker
(the command queues the job and, by default, waits for it).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from service.cli.reprocess import project_from_key
from service.db.engine import session_scope
from service.enums import JobStatus, PlotKind
from service.jobs import publish_jobs
from service.plots.cache import campaign_plot
from service.repositories import campaigns as campaign_rows
from service.repositories import jobs as job_rows

console = Console()
#: Seconds between two looks at a drawing job.
POLL_S = 0.2


def plot(campaign_id: uuid.UUID, kind: PlotKind,
         output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the PNG.")],
         suggestion: Annotated[uuid.UUID | None, typer.Option(
             help="design: draw this suggestion (default: the best feasible observation).")]
         = None,
         refresh: Annotated[bool, typer.Option(help="design: draw again after a failure.")]
         = False,
         wait: Annotated[float, typer.Option(
             help="design: seconds to wait for the worker (0: do not wait).")] = 300.0,
         key: Annotated[str | None, typer.Option("--key", envvar="DESIGNLOOP_API_KEY",
                                                 help="The project's API key.")] = None,
         ) -> None:
    """Write the campaign's ``convergence``, ``pareto``, ``parity`` or ``design`` PNG."""
    project_id = project_from_key(key)
    png = _ask(project_id, campaign_id, kind, suggestion, refresh)
    deadline = time.monotonic() + wait
    while isinstance(png, uuid.UUID):  # a worker is drawing it
        job_id = png
        if time.monotonic() > deadline:
            console.print(f"the picture is being drawn by job {job_id}; ask again later")
            raise typer.Exit(2)
        time.sleep(POLL_S)
        with session_scope() as session:
            job = job_rows.get_job(session, project_id, job_id)
            status, error = job.status, job.error
        if status in (JobStatus.failed, JobStatus.cancelled):
            console.print(f"[red]error:[/red] drawing failed: {(error or {}).get('message')}")
            raise typer.Exit(1)
        if status == JobStatus.succeeded:
            png = _ask(project_id, campaign_id, kind, suggestion, False)
    output.write_bytes(png)
    console.print(f"wrote {output} ({len(png)} bytes)")


def _ask(project_id: uuid.UUID, campaign_id: uuid.UUID, kind: PlotKind,
         suggestion: uuid.UUID | None, refresh: bool) -> bytes | uuid.UUID:
    """The PNG, or the id of the job drawing it (published here)."""
    with session_scope() as session:
        campaign = campaign_rows.get_campaign(session, project_id, campaign_id)
        answer = campaign_plot(session, campaign, kind, suggestion_id=suggestion,
                               refresh=refresh)
        if answer.png is not None:
            return answer.png
        assert answer.job is not None
        job_id = answer.job.id
    publish_jobs(answer.publish)
    return job_id
