"""`recado contracts …`: who is under contract until when, and in what state."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, parse_at, print_json
from hub.core import contracts
from hub.core.tariff import format_eur

app = typer.Typer(help="Contracts of the clients: ends, days left, state, balance.", no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    ending_within: int | None = typer.Option(
        None, "--ending-within", help="Only running contracts that end within this many days."
    ),
    at: str | None = typer.Option(None, "--at", help="Count days from this time (ISO 8601). Default: now."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List every client with its plan, contract end, days left, state and balance, soonest end first.

    States: active, pending (the end passed; the balance is forfeited once the calls in
    progress are over), ended, none (never bought a contract).
    """
    if ending_within is not None and ending_within < 0:
        raise InputError(f"--ending-within: expected a number of days >= 0, got {ending_within}")
    context = get(ctx)
    now = parse_at(at) or datetime.now(UTC)
    with context.store.connect() as conn:
        rows = contracts.list_contracts(conn, now, context.settings, ending_within=ending_within)
    if json_output:
        print_json(rows)
        return
    table = Table("client", "plan", "ends", "days left", "state", "balance", "mode")
    for row in rows:
        table.add_row(
            row["client"],
            row["plan"] or "",
            row["end_date"] or "",
            "" if row["days_left"] is None else str(row["days_left"]),
            row["state"] + (" (interrupted)" if row["interrupted"] else ""),
            format_eur(row["balance_cents"], "pt"),
            row["tariff_mode"],
        )
    console.print(table)
