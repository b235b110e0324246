"""`recado optouts …`: numbers that no campaign contacts again."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json
from hub.core import optouts

app = typer.Typer(help="Numbers that asked not to be contacted by campaigns.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Phone number (E.164, or a Portuguese number as usually written)."),
    client: str | None = typer.Option(None, "--client", help="Only this client stops contacting it (default: all)."),
    reason: str | None = typer.Option(None, "--reason", help="Why, e.g. 'asked by phone on 2 March'."),
) -> None:
    """Opt a number out; its contacts not yet made are marked opted_out at once."""
    try:
        with get(ctx).store.begin() as conn:
            entry = optouts.add(conn, number, client=client, reason=reason)
    except LookupError as exc:
        raise InputError(f"--client: {exc.args[0]}") from None
    except ValueError as exc:
        raise InputError(f"NUMBER: {exc}") from None
    scope = entry["client"] or "all clients"
    console.print(f"{entry['number']} opted out ({scope})", highlight=False)


@app.command("remove")
def remove(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Phone number."),
) -> None:
    """Let a number be contacted by new campaigns again."""
    try:
        with get(ctx).store.begin() as conn:
            removed = optouts.remove(conn, number)
    except ValueError as exc:
        raise InputError(f"NUMBER: {exc}") from None
    if not removed:
        raise InputError(f"{number} has not opted out")
    console.print(f"{number} may be contacted again", highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Only the opt-outs that bind this client."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the numbers that opted out, newest first."""
    with get(ctx).store.connect() as conn:
        entries = optouts.listing(conn, client=client)
    if json_output:
        print_json(entries)
        return
    table = Table("number", "client", "reason", "since")
    for entry in entries:
        table.add_row(
            entry["number"], entry["client"] or "all", entry["reason"] or "", (entry["created_at"] or "")[:10]
        )
    console.print(table)
