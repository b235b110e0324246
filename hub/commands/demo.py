"""`recado demo`: a month of calls on the embedded default, no set-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from hub.commands.context import console, get, print_json
from hub.core.privacy import mask_phone
from hub.core.tariff import format_eur
from hub.demo.run import LISBON, Demo, DemoState


def _view(state: DemoState) -> Group:
    records = Table(
        "offered (Lisbon)",
        "client",
        "disposition",
        "caller",
        "agent",
        "price",
        "balance after",
        title="latest records",
    )
    for record in state.records:
        offered = record.offered_at.astimezone(LISBON).strftime("%m-%d %H:%M") if record.offered_at else ""
        records.add_row(
            offered,
            record.client,
            record.disposition.value + (" *" if record.incomplete else ""),
            mask_phone(record.caller),
            record.agent or "",
            format_eur(record.price_cents, "pt"),
            format_eur(record.balance_after_cents, "pt"),
        )
    balances = Table("client", "balance", "service", title="balances")
    for client, cents in sorted(state.balances.items()):
        balances.add_row(
            client,
            format_eur(cents, "pt"),
            "[red]interrupted[/red]" if state.interrupted.get(client) else "running",
        )
    status = (
        f"day {state.day or '-'} · records {state.finalized} · "
        + " · ".join(f"{k} {v}" for k, v in sorted(state.by_disposition.items()))
        + f"\nemails delivered {state.delivered} · to retry {state.retried} · dead {state.dead}"
        + (f"\ntop-ups: {', '.join(state.topups)}" if state.topups else "")
    )
    return Group(Panel(status, title="recado demo"), balances, records)


def command(
    ctx: typer.Context,
    calls: int = typer.Option(400, "--calls", min=1, max=100_000, help="Calls to simulate in the month."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed plays the same month."),
    data_dir: Path = typer.Option(Path("recado-demo"), "--data-dir", help="Where the database and Maildir go."),
    json_output: bool = typer.Option(False, "--json", help="No live view; print a JSON summary as the last line."),
) -> None:
    """Play a month of calls for three sample clients: records, balances, emails in a Maildir."""
    context = get(ctx)
    if json_output:
        demo = Demo(data_dir, calls=calls, seed=seed, plugins=context.plugins)
        print_json(asyncio.run(demo.run()))
        return
    with Live(console=console, refresh_per_second=8, transient=False) as live:
        demo = Demo(
            data_dir,
            calls=calls,
            seed=seed,
            plugins=context.plugins,
            on_change=lambda state: live.update(_view(state)),
        )
        summary = asyncio.run(demo.run())
    console.print()
    console.print(f"Database: {summary['database']}")
    console.print(f"Emails (Maildir): {summary['maildir']}")
    console.print("Try: recado --db " + summary["database"] + " records list --client oficina-lopes")
