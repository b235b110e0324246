"""`recado reports …`: a client's monthly report, the operator's month CSV, sending the reports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from hub.commands.context import InputError, console, err_console, get, print_json
from hub.core import reports
from hub.core.clock import now_for_reports, now_for_views
from hub.core.report_chart import bar_rows
from hub.core.report_delivery import MonthNotOver, send_month_reports
from hub.core.report_words import duration, label
from hub.core.tariff import format_eur

app = typer.Typer(help="Monthly reports: per client, across clients (CSV), and their emails.", no_args_is_help=True)

T = TypeVar("T")
MONTH_HELP = "The month, YYYY-MM (Lisbon calendar). Default: {default}."


def _month(value: str | None, default: str) -> str:
    if value is None:
        return default
    try:
        return reports.parse_month(value)
    except ValueError as exc:
        raise InputError(f"--month: {exc}") from None


def _progress(items: list[T], description: str, *, quiet: bool) -> Iterator[T]:
    """`items`, with a progress bar on stderr when it is a terminal and the output is for people."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def eur(cents: int) -> str:
    """An amount as the operator reads it (Portuguese format)."""
    return format_eur(cents, "pt")


def _rows(title: str, values: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    for name, value in values:
        table.add_row(name, value)
    return table


@app.command("month")
def month_command(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    month: str | None = typer.Option(None, "--month", help=MONTH_HELP.format(default="the current month")),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Show a client's month: calls by disposition and category, talk time, contacts, spend, balance, days."""
    context = get(ctx)
    with context.store.connect() as conn:
        clock = now_for_views(conn)
        chosen = _month(month, reports.current_month(clock))
        now = now_for_reports(conn)
        report = reports.month_report(conn, client, chosen, tariff=context.settings.tariff, now=now)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    state = "" if report.complete else " (in progress)"
    console.print(f"[bold]{report.name}[/bold] ({report.client}) — {report.month}{state}")
    summary = [
        ("calls received", str(report.calls)),
        ("answered", str(report.answered)),
        ("total talk time", duration(report.talk_seconds_total)),
        ("average talk time", duration(report.talk_seconds_average)),
        ("outbound contacts", str(report.outbound)),
        ("spent", eur(report.spend_cents)),
        ("credited", eur(report.credits_cents)),
        ("balance at month end", eur(report.balance_end_cents)),
        ("balance now", eur(report.balance_now_cents)),
    ]
    console.print(_rows("Summary", summary))
    if report.average_talk_above_limit:
        console.print(
            f"[red]ALERT[/red] average talk time {duration(report.talk_seconds_average)} is above "
            f"the {duration(report.talk_limit_seconds)} the tariff assumes",
            highlight=False,
        )
    console.print(_rows("By disposition", ((label(k, "en"), str(v)) for k, v in report.by_disposition.items())))
    categories = Table("category", "answered", "total", title="By category", title_justify="left")
    for category, counts in report.by_category.items():
        categories.add_row(label(category, "en"), str(counts.get("answered", 0)), str(sum(counts.values())))
    console.print(categories)
    console.print(_rows("Outbound", ((label(k, "en"), str(v)) for k, v in report.outbound_by_channel.items())))
    money = [(f"spent: {label(k, 'en')}", eur(v)) for k, v in report.spend_by_kind.items()]
    money += [(f"credited: {label(k, 'en')}", eur(v)) for k, v in report.credits_by_kind.items()]
    console.print(_rows("Money", money))
    days = Table("day", "calls", "answered", "", title="Calls per day", title_justify="left")
    for row in bar_rows(report.days, width_px=30):
        days.add_row(
            row.day.day.isoformat(),
            str(row.day.calls),
            str(row.day.answered),
            "█" * row.answered_px + "░" * row.other_px,
        )
    console.print(days)


@app.command("operator")
def operator_command(
    ctx: typer.Context,
    month: str | None = typer.Option(None, "--month", help=MONTH_HELP.format(default="the current month")),
    out: Path | None = typer.Option(None, "--out", help="Write the CSV to this file instead of stdout."),
) -> None:
    """The month across clients as CSV: one line per client (columns in docs/reports.md)."""
    context = get(ctx)
    with context.store.connect() as conn:
        clock = now_for_views(conn)
        chosen = _month(month, reports.current_month(clock))
        now = now_for_reports(conn)
        ids = reports.client_ids(conn)
        found = [
            reports.month_report(conn, client_id, chosen, tariff=context.settings.tariff, now=now)
            for client_id in _progress(ids, f"clients of {chosen}", quiet=out is None)
        ]
    text = reports.operator_csv(found)
    if out is None:
        typer.echo(text, nl=False)
        return
    _write_atomically(out, text)
    err_console.print(f"{len(found)} client line(s) written to {out}", highlight=False)


def _write_atomically(path: Path, text: str) -> None:
    """Write `path` whole or not at all: a failed write leaves an existing file as it was."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise InputError(f"--out: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@app.command("send")
def send_command(
    ctx: typer.Context,
    month: str | None = typer.Option(None, "--month", help=MONTH_HELP.format(default="the previous month")),
    client: list[str] = typer.Option([], "--client", help="Only this client (repeatable). Default: every client."),
    json_output: bool = typer.Option(False, "--json", help="Print what was queued as JSON."),
) -> None:
    """Queue the monthly report emails now (each client at most once per month); workers deliver them."""
    context = get(ctx)
    with context.store.connect() as conn:
        now = now_for_reports(conn)
    chosen = _month(month, reports.previous_month(reports.current_month(now)))
    try:
        result = send_month_reports(
            context.store, chosen, now=now, tariff=context.settings.tariff, client_ids=list(client) or None
        )
    except MonthNotOver as exc:
        raise InputError(f"--month: {exc}") from None
    except LookupError as exc:
        raise InputError(f"--client: {exc.args[0]}") from None
    if json_output:
        print_json(result.as_dict())
        return
    table = Table("client", "report email", title=f"Reports of {chosen}", title_justify="left")
    for name, clients in (
        ("queued", result.queued),
        ("already sent", result.already_sent),
        ("no contact_email", result.no_address),
        ("nothing this month", result.no_activity),
    ):
        for client_id in clients:
            table.add_row(client_id, name)
    console.print(table)
    if result.alerts:
        console.print(f"average talk time alert raised for: {', '.join(result.alerts)}", highlight=False)
