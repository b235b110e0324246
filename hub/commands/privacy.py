"""`recado privacy …`: retention purges, data exports and erasures, and their log."""

from __future__ import annotations

import getpass
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from hub.commands.context import InputError, console, err_console, get, parse_at, print_json, progress_bar
from hub.core import export, privacy_log
from hub.core.erasure import erase_caller
from hub.core.privacy_log import ACTIONS
from hub.core.retention import purge as run_purge

app = typer.Typer(help="Data protection: retention, exports and erasures, all logged.", no_args_is_help=True)


def _actor() -> str:
    try:
        return f"cli {getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@app.command("purge")
def purge(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Only this client (default: every client)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be purged; change nothing."),
    at: str | None = typer.Option(
        None, "--at", help="Purge as if it were this time (ISO 8601; without an offset, Lisbon time). Default: now."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Purge records older than each client's retention period, with their finished deliveries.

    A client's `retention_months` (or `[privacy] default_retention_months`) says how many
    calendar months are kept besides the running one. The ledger is kept.
    """
    context = get(ctx)
    now = parse_at(at) or datetime.now(UTC)
    show = not json_output and not dry_run and err_console.is_terminal
    with progress_bar(show=show) as progress:
        tasks: dict[str, Any] = {}

        def advance(subject: str, done: int, total: int) -> None:
            if subject not in tasks:
                tasks[subject] = progress.add_task(f"purge {subject}", total=total)
            progress.update(tasks[subject], completed=done, total=total)

        report = run_purge(
            context.store,
            now=now,
            client=client,
            dry_run=dry_run,
            default_months=context.settings.privacy.default_retention_months,
            actor=_actor(),
            progress=advance,
        )
    if json_output:
        print_json(report.as_dict())
        return
    table = Table("client", "kept", "cutoff", "records", "deliveries", "attempts", "calls", "contacts", "kept pending")
    for item in report.clients:
        table.add_row(
            item.client,
            "forever" if item.months is None else f"{item.months} months",
            "" if item.cutoff is None else item.cutoff.date().isoformat(),
            str(item.records),
            str(item.deliveries),
            str(item.attempts),
            str(item.calls),
            str(item.contacts),
            str(item.kept_pending),
        )
    console.print(table)
    if report.unrouted_calls:
        console.print(f"{report.unrouted_calls} calls to numbers of no client", highlight=False)
    if dry_run:
        console.print("dry run: nothing was purged", highlight=False)


def _write(sections: list[export.Section], handle: IO[str], engine: Engine, show: bool) -> dict[str, int]:
    with progress_bar(show=show) as progress:
        task = progress.add_task("export", total=export.total_rows(sections))
        return export.write_json(sections, handle, engine, advance=lambda n: progress.advance(task, n))


@app.command("export")
def export_command(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Everything the hub keeps of this client."),
    number: str | None = typer.Option(None, "--number", help="Everything the hub keeps about this caller's number."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here (default: standard output)."),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists."),
) -> None:
    """Export the data of a client, or of a caller's number, as one JSON document (logged).

    The file is written in full, the export logged, and only then is the file put in place.
    """
    if (client is None) == (number is None):
        raise InputError("give either --client CLIENT or --number NUMBER")
    if out is not None and out.exists() and not force:
        raise InputError(f"--out: {out} exists (add --force to replace it)")
    if out is not None and not out.parent.is_dir():
        raise InputError(f"--out: directory {out.parent} does not exist")
    context = get(ctx)
    now = datetime.now(UTC)
    kind = "client" if client is not None else "number"
    with context.store.connect() as conn:
        try:
            if client is not None:
                sections, subject = export.client_sections(conn, client, at=now), client
            else:
                sections = export.number_sections(conn, number or "", at=now)
                subject = privacy_log.number_subject(str(dict(sections)["number"]))
        except ValueError as exc:
            raise InputError(f"--number: {exc}") from None
    # The export is written to a private file first and logged once complete; only then
    # does it reach --out or standard output, so that no export leaves unlogged.
    fd, partial = tempfile.mkstemp(
        dir=out.parent if out else None, prefix=f".{out.name}." if out else ".recado-export.", suffix=".part"
    )
    try:
        os.chmod(partial, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            written = _write(sections, handle, context.store.engine, err_console.is_terminal)
        with context.store.begin() as conn:
            export.log(conn, at=now, subject=subject, actor=_actor(), kind=kind, written=written)
        if out is None:
            with open(partial, encoding="utf-8") as done:
                shutil.copyfileobj(done, sys.stdout)
            sys.stdout.flush()
            return
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    err_console.print(f"wrote {out} ({sum(written.values())} items)", highlight=False)


@app.command("erase")
def erase(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The caller's number (E.164, or a Portuguese number as usually written)."),
    requested_by: str = typer.Option(
        ..., "--requested-by", help="A reference to the request (e.g. your register's entry), not a name."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (e.g. 'GDPR art. 17 request')."),
    at: str | None = typer.Option(None, "--at", help="Time of the erasure for the log (ISO 8601). Default: now."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be erased; change nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Erase a caller's personal data from every record, call, delivery and contact (logged).

    Prices, dispositions and times stay; blocks and opt-outs of the number are kept. The
    report lists the destinations that already received this caller's records.
    """
    context = get(ctx)
    try:
        report = erase_caller(
            context.store,
            number,
            at=parse_at(at) or datetime.now(UTC),
            requested_by=requested_by,
            reason=reason,
            actor=_actor(),
            dry_run=dry_run,
        )
    except ValueError as exc:
        raise InputError(f"NUMBER: {exc}") from None
    if json_output:
        print_json(report.as_dict())
        return
    verb = "would erase" if dry_run else "erased"
    console.print(
        f"{report.subject}: {verb} {report.records} records ({', '.join(report.clients) or 'no client'}), "
        f"{report.calls} calls, {report.contacts} contacts; pseudonym {report.pseudonym}",
        highlight=False,
    )
    for place, rows in sorted(report.replaced.items()):
        console.print(f"  replaced in {place}: {rows}", highlight=False)
    if report.blocked_by:
        console.print(f"  kept: blocked by {', '.join(report.blocked_by)} (notes cleared)", highlight=False)
    if report.opted_out:
        console.print("  kept: the number's opt-out", highlight=False)
    for place, rows in sorted(report.left_in.items()):
        console.print(f"  left in {place}: {rows}", highlight=False)
    if report.destinations:
        table = Table("client", "destination", "kind", "records received", title="ask these to erase their copies")
        for item in report.destinations:
            table.add_row(item["client"], item["destination"], item["kind"], str(len(item["records"])))
        console.print(table)


@app.command("log")
def log_command(
    ctx: typer.Context,
    action: str | None = typer.Option(None, "--action", help="Only purge, export or erase."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many entries."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """The privacy log: every purge, export and erasure, newest first."""
    if action is not None and action not in ACTIONS:
        raise InputError(f"--action: {action!r} is not one of {', '.join(ACTIONS)}")
    with get(ctx).store.connect() as conn:
        rows = privacy_log.entries(conn, action=action, limit=limit)
    if json_output:
        print_json(rows)
        return
    table = Table("id", "at", "action", "subject", "actor", "details")
    for row in rows:
        details = ", ".join(f"{key}={value}" for key, value in row["details"].items() if value not in (0, [], {}, None))
        table.add_row(str(row["id"]), row["at"][:19], row["action"], row["subject"], row["actor"], details)
    console.print(table)
