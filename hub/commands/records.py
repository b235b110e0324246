"""`recado records …`: the records of calls."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json
from hub.core import accounts, records
from hub.core.models import Disposition
from hub.core.privacy import mask_phone

app = typer.Typer(help="Records of calls.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Only this client's records."),
    disposition: Disposition | None = typer.Option(None, "--disposition", help="Only this disposition."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List records (oldest call first)."""
    with get(ctx).store.connect() as conn:
        rows = records.query(conn, client=client, disposition=disposition.value if disposition else None, limit=limit)
    if json_output:
        print_json(rows)
        return
    table = Table("offered", "client", "disposition", "caller", "agent", "talk", "price", "balance after")
    for row in rows:
        table.add_row(
            (row.get("offered_at") or "")[:19],
            row["client"],
            row["disposition"] + (" (incomplete)" if row.get("incomplete") else ""),
            mask_phone(row.get("caller")),
            row.get("agent") or "",
            f"{row.get('talk_seconds', 0)} s",
            str(row["price_cents"]),
            str(row["balance_after_cents"]),
        )
    console.print(table)


@app.command("correct")
def correct(
    ctx: typer.Context,
    record_id: str = typer.Argument(..., help="Record id."),
    answer: list[str] = typer.Option([], "--answer", help="FIELD=VALUE, repeatable: the corrected answers."),
    notes: str | None = typer.Option(None, "--notes", help="Corrected notes."),
) -> None:
    """Correct a record's answers; destinations get it as an update of the same object."""
    context = get(ctx)
    with context.store.begin() as conn:
        current = records.get(conn, record_id)
        if current is None:
            raise InputError(f"no record {record_id!r}")
        client = accounts.load_client(conn, current.client)
        answers = dict(current.answers)
        for item in answer:
            name, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"--answer: expected FIELD=VALUE, got {item!r}")
            if name not in client.script.field_names():
                known = ", ".join(client.script.field_names())
                raise InputError(f"--answer: {name!r} is not a field of {client.id}'s script (fields: {known})")
            answers[name] = value
        wrap = {"answers": answers, "notes": notes if notes is not None else current.notes, "agent": current.agent}
        corrected = records.correct(
            conn, record_id, wrap, sends_messages=context.plugins.registry.sends_messages
        )
    print_json({"record_id": record_id, "changed": corrected is not None})
