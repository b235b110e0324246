"""`recado tick`: run the hub's periodic jobs once (what `recado run` does every minute)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, parse_at, print_json
from hub.core.jobs import JOBS
from hub.core.scheduler import JobContext, run_jobs, select_jobs


def tick(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None, "--at", help="Run as if it were this time (ISO 8601; without an offset, Lisbon time). Default: now."
    ),
    job: list[str] = typer.Option([], "--job", help="Run only this job (repeatable). Default: every job."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array of job runs."),
) -> None:
    """Run the periodic jobs once: contract reminders and ends, settlements, reports, retention.

    Every job is idempotent for a given time, so running `tick` from cron as well as
    `recado run` is safe. Exit code 1 when a job failed.
    """
    context = get(ctx)
    try:
        chosen = select_jobs(JOBS, job)
    except ValueError as exc:
        raise InputError(f"--job: {exc}") from None
    now = parse_at(at) or datetime.now(UTC)
    runs = run_jobs(
        JobContext(context.store, context.plugins.registry, context.settings, now, context.notify),
        chosen,
    )
    if json_output:
        print_json([run.as_dict() for run in runs])
    else:
        table = Table("job", "done", "error")
        for run in runs:
            table.add_row(run.job, str(run.done), run.error or "")
        console.print(table)
    if any(run.error for run in runs):
        raise typer.Exit(1)
