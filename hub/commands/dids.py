"""`recado dids …`: the pool of numbers that new clients get when their sign-up is paid."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json
from hub.core import billing, did_pool

app = typer.Typer(
    help="The pool of telephone numbers (DIDs) handed to new clients at activation.", no_args_is_help=True
)


def _read_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--file {path}: cannot read it ({exc.strerror or exc})") from None
    # One number per line; blank lines and `#` comments are skipped.
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@app.command("add")
def add(
    ctx: typer.Context,
    numbers: list[str] = typer.Argument(None, metavar="NUMBER...", help="Numbers in E.164 (+351217000001)."),
    file: Path | None = typer.Option(None, "--file", help="A file with one number per line (# starts a comment)."),
    reserved: bool = typer.Option(False, "--reserved", help="Keep them aside: never handed out automatically."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add numbers to the pool; paid sign-ups that were waiting for a number are activated at once."""
    context = get(ctx)
    given = list(numbers or [])
    try:
        parsed = did_pool.parse_numbers(given, where="NUMBER ") if given else []
        if file is not None:
            parsed += [n for n in did_pool.parse_numbers(_read_file(file), where=f"--file {file}, ") if n not in parsed]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if not parsed:
        raise InputError("give at least one NUMBER or --file FILE")
    now = datetime.now(UTC)
    with context.store.begin() as conn:
        report = did_pool.add(conn, parsed, now, reserved=reserved)
    results = billing.resume_pending(context.store, context.plugins.registry, context.settings, now, context.notify)
    activated = [result.as_dict() for result in results if result.fulfilled]
    if json_output:
        print_json(report.as_dict() | {"activated": activated})
        return
    console.print(f"added {len(report.added)}, already in the pool {len(report.already)}", highlight=False)
    for number, client in report.in_use.items():
        console.print(f"{number} already belongs to client {client}: recorded as assigned", highlight=False)
    for result in activated:
        console.print(f"activated {result['client']} with {result['did']}", highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    free: bool = typer.Option(False, "--free", help="Only the numbers that can still be handed out."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the pool, lowest number first, with who has each number."""
    with get(ctx).store.connect() as conn:
        rows = did_pool.listing(conn, free_only=free)
        free_count = did_pool.free_count(conn)
    if json_output:
        print_json(rows)
        return
    table = Table("number", "status", "client", "assigned at")
    for row in rows:
        table.add_row(row["did"], row["status"], row["client"] or "", (row["assigned_at"] or "")[:16])
    console.print(table)
    console.print(f"{free_count} free", highlight=False)
