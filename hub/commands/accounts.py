"""`recado accounts …`: contracts, top-ups, options, balances and statements."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, parse_at, print_json
from hub.core import accounts, contracts, ledger
from hub.core.clock import now_for_views
from hub.core.tariff import (
    Document,
    document_for_message,
    document_for_plan,
    document_for_topup,
    format_eur,
)

app = typer.Typer(help="Balances, purchases and statements of clients' prepaid accounts.", no_args_is_help=True)

AT_HELP = "When it happened (ISO 8601; without an offset, Lisbon time). Default: now."


def _buy(ctx: typer.Context, client: str, document: Document, at: str | None) -> None:
    context = get(ctx)
    moment = parse_at(at) or datetime.now(UTC)
    body = accounts.purchase(
        context.store, context.plugins.registry, client, document, moment, context.settings.tariff, context.notify
    )
    print_json(body)


@app.command("buy")
def buy(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    plan: str = typer.Option(..., "--plan", help="Contract plan: 12m or 6m."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
) -> None:
    """Buy a prepaid contract; its whole net amount becomes balance. Prints the document."""
    try:
        document = document_for_plan(plan, config=get(ctx).settings.tariff)
    except ValueError as exc:
        raise InputError(f"--plan: {exc}") from None
    _buy(ctx, client, document, at)


@app.command("topup")
def topup(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    amount: int = typer.Option(..., "--amount", help="Top-up in euros: 20, 30 or 50."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
) -> None:
    """Top up the balance (lifts an interruption). Prints the document."""
    try:
        document = document_for_topup(amount, config=get(ctx).settings.tariff)
    except ValueError as exc:
        raise InputError(f"--amount: {exc}") from None
    _buy(ctx, client, document, at)


@app.command("buy-message")
def buy_message(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    languages: str = typer.Option(..., "--languages", help="Recorded message: pt or pt+en."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
) -> None:
    """Buy the out-of-hours recorded message, paid from the balance. Prints the document."""
    try:
        document = document_for_message(languages, config=get(ctx).settings.tariff)
    except ValueError as exc:
        raise InputError(f"--languages: {exc}") from None
    _buy(ctx, client, document, at)


@app.command("renew")
def renew(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    plan: str = typer.Option(..., "--plan", help="Contract plan: 12m or 6m."),
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Renew the contract: keeps the numbers and the recorded message at no cost.

    Before the end it extends the contract from its end; after it (within
    lifecycle.renewal_grace_days) the remaining balance is forfeited and the service
    starts again from now.
    """
    context = get(ctx)
    try:
        document_for_plan(plan, config=context.settings.tariff)
    except ValueError as exc:
        raise InputError(f"--plan: {exc}") from None
    moment = parse_at(at) or datetime.now(UTC)
    report = contracts.renew(
        context.store, context.plugins.registry, client, plan, moment, context.settings, context.notify
    )
    if json_output:
        print_json(report)
        return
    console.print(
        f"[bold]{client}[/bold] renewed ({plan}) until {report['contract_ends_at']}"
        f"  balance {format_eur(report['balance_cents'], 'pt')}"
    )
    console.print(
        f"numbers kept: {', '.join(report['dids'])}  recorded message kept: {report['recorded_message']} (no charge)"
    )
    if report["forfeited_cents"]:
        console.print(f"forfeited at the end of the previous contract: {format_eur(report['forfeited_cents'], 'pt')}")


@app.command("show")
def show(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    at: str | None = typer.Option(None, "--at", help="Month to count calls in (default: the latest event's)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show balance, held amount, service state and calls this month."""
    context = get(ctx)
    with context.store.connect() as conn:
        moment = parse_at(at) or now_for_views(conn)
        view = accounts.show(conn, client, moment, context.settings.tariff)
    if json_output:
        print_json(view)
        return
    console.print(
        f"[bold]{client}[/bold]  balance {format_eur(view['balance_cents'], 'pt')}"
        f"  (held {format_eur(view['held_cents'], 'pt')})"
    )
    console.print(
        f"service: {'INTERRUPTED' if view['interrupted'] else 'running'}"
        f"  next call {format_eur(view['next_call_cents'], 'pt')}"
    )
    month = view["month"]
    console.print(
        f"{month['month']}: {month['answered']} answered, {month['outbound']} outbound, "
        f"average talk {month['average_talk_seconds']} s"
    )


@app.command("statement")
def statement(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List every ledger entry of the client, oldest first."""
    with get(ctx).store.connect() as conn:
        accounts.load_client(conn, client)
        entries = ledger.statement(conn, client)
    if json_output:
        print_json(entries)
        return
    table = Table("at", "kind", "amount", "balance after", "ref")
    for entry in entries:
        table.add_row(
            entry["at"],
            entry["kind"],
            format_eur(entry["amount_cents"], "pt"),
            format_eur(entry["balance_after_cents"], "pt"),
            entry["ref"] or "",
        )
    console.print(table)
