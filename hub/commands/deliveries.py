"""`recado deliveries …` and `recado worker`: the outbox and who delivers it."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json
from hub.core import outbox
from hub.core.worker import Worker

app = typer.Typer(help="Deliveries of records to destinations: list and replay.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="pending, delivered or dead."),
    client: str | None = typer.Option(None, "--client", help="Only this client's deliveries."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List outbox rows with their status, attempts and last error."""
    if status is not None and status not in outbox.STATUSES:
        raise InputError(f"--status: expected one of {', '.join(outbox.STATUSES)}, got {status!r}")
    with get(ctx).store.connect() as conn:
        rows = outbox.list_rows(conn, status=status, client=client)
    if json_output:
        print_json(rows)
        return
    table = Table("id", "client", "destination", "event", "status", "attempts", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["client"],
            row["destination"],
            row["event_type"],
            row["status"],
            str(row["attempts"]),
            (row["last_error"] or "")[:80],
        )
    console.print(table)


@app.command("replay")
def replay(
    ctx: typer.Context,
    destination: str | None = typer.Option(None, "--destination", help="Only this destination's dead letters."),
    client: str | None = typer.Option(None, "--client", help="Only this client's dead letters."),
    json_output: bool = typer.Option(False, "--json", help="Print the count as JSON."),
) -> None:
    """Send dead letters again: they become pending with their attempts reset."""
    count = outbox.replay(get(ctx).store, destination=destination, client=client)
    if json_output:
        print_json({"replayed": count})
    else:
        console.print(f"{count} deliveries will be sent again")


def worker_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Deliver everything due, then exit."),
    worker_id: str | None = typer.Option(None, "--id", help="Worker id (default host:pid)."),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON at the end."),
) -> None:
    """Deliver the outbox to destinations; several workers may share one PostgreSQL."""
    context = get(ctx)
    worker = Worker(context.store, context.plugins.registry, context.settings, worker_id=worker_id)

    async def main() -> dict[str, int]:
        try:
            if once:
                stats = await worker.run_once()
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, stop.set)
                stats = await worker.run(stop)
        finally:
            await worker.aclose()
        return {"delivered": stats.delivered, "retried": stats.retried, "dead": stats.dead}

    counts = asyncio.run(main())
    if json_output:
        print_json(counts)
    else:
        console.print(f"delivered {counts['delivered']}, to retry {counts['retried']}, dead {counts['dead']}")
