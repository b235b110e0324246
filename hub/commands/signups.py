"""`recado signups …`: applicants of the online sign-up and their activation."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from hub.commands.context import console, get, print_json
from hub.core import billing, signups
from hub.core.tariff import format_eur

app = typer.Typer(help="Online sign-ups: pending applicants and activated clients.", no_args_is_help=True)

STATUSES = "pending, waiting_for_did, active, failed, cancelled"


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help=f"Only this state ({STATUSES})."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List sign-ups, newest first: who applied, their invoice, and whether they are active."""
    with get(ctx).store.connect() as conn:
        rows = signups.list_signups(conn, status=status)
    if json_output:
        print_json(rows)
        return
    table = Table("client", "company", "status", "plan", "invoice", "total", "number", "applied", "problem")
    for row in rows:
        table.add_row(
            row["client"],
            row["company"] or "",
            row["status"],
            row["plan"],
            f"{row['invoice']} ({row['invoice_status']})",
            format_eur(row["gross_cents"], "pt"),
            row["did"] or "",
            (row["created_at"] or "")[:16],
            row["problem"] or "",
        )
    console.print(table)


@app.command("resume")
def resume(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Finish the activations and renewals of paid invoices that were waiting (a free number, a fix)."""
    context = get(ctx)
    results = billing.resume_pending(
        context.store, context.plugins.registry, context.settings, datetime.now(UTC), context.notify
    )
    if json_output:
        print_json([result.as_dict() for result in results])
        return
    if not results:
        console.print("nothing is waiting", highlight=False)
    for result in results:
        detail = result.did or result.problem or ""
        console.print(f"{result.invoice} {result.client}: {result.state} {detail}", highlight=False)
