"""`recado payments …`: bank statements imported, and the payments that matched no invoice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from hub.commands.context import InputError, console, err_console, get, print_json, progress_bar
from hub.core import reconcile
from hub.core.statements import FORMATS, StatementError, parse_statement
from hub.core.tariff import format_eur

app = typer.Typer(help="Payments by bank transfer: import statements, see what matched.", no_args_is_help=True)

#: How each outcome is shown in the table.
STYLES = {"matched": "green", "unmatched": "red", "ignored": "dim", "duplicate": "dim"}


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A bank statement: ISO 20022 camt.053 (XML) or CSV."),
    format: str | None = typer.Option(None, "--format", help="csv or camt053 (default: detected from the content)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would match; change nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Import a statement: credits quoting an invoice's reference and paying its total mark it paid.

    Paid sign-ups are activated (number, contract, welcome email); everything else is listed as
    unmatched with the reason. Importing the same statement again changes nothing.
    """
    context = get(ctx)
    if format is not None and format not in FORMATS:
        raise InputError(f"--format: expected csv or camt053, got {format!r}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    try:
        statement = parse_statement(data, name=str(file), format=format)
    except StatementError as exc:
        raise InputError(str(exc)) from None
    progress = progress_bar(show=not json_output and err_console.is_terminal)
    with progress:
        task = progress.add_task("importing", total=len(statement.lines))
        report = reconcile.import_statement(
            context.store,
            context.plugins.registry,
            statement,
            file=file.name,
            at=datetime.now(UTC),
            settings=context.settings,
            dry_run=dry_run,
            notify=context.notify,
            progress=lambda: progress.advance(task),
        )
    if json_output:
        print_json(report.as_dict())
        return
    table = Table("line", "date", "amount", "payer", "reference", "invoice", "outcome", "why / activation")
    for line in report.lines:
        activation = line.activation or {}
        detail = line.reason or ""
        if activation:
            detail = f"{activation['state']} {activation.get('client') or ''} {activation.get('did') or ''}".strip()
        amount = format_eur(line.amount_cents if line.credit else -line.amount_cents, "pt")
        table.add_row(
            line.position,
            line.booked_on or "",
            amount,
            line.payer or "",
            line.reference or "",
            line.invoice or "",
            f"[{STYLES.get(line.status, '')}]{line.status}[/]",
            detail,
        )
    console.print(table)
    counts = report.counts()
    prefix = "dry run: " if dry_run else ""
    console.print(
        f"{prefix}{counts['matched']} matched, {counts['unmatched']} unmatched, {counts['ignored']} ignored, "
        f"{counts['duplicate']} already imported",
        highlight=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="Only matched, unmatched or ignored lines."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List imported statement lines, newest first (`--status unmatched`: those the operator must look at)."""
    if status is not None and status not in ("matched", "unmatched", "ignored", "pending"):
        raise InputError(f"--status: expected matched, unmatched, ignored or pending, got {status!r}")
    with get(ctx).store.connect() as conn:
        rows = reconcile.list_payments(conn, status=status)
    if json_output:
        print_json(rows)
        return
    table = Table("date", "amount", "payer", "remittance", "invoice", "status", "why")
    for row in rows:
        table.add_row(
            row["booked_on"] or "",
            format_eur(row["amount_cents"], "pt"),
            row["payer"] or "",
            (row["remittance"] or "")[:60],
            row["invoice"] or "",
            row["status"],
            row["reason"] or "",
        )
    console.print(table)
