"""`recado records …`: the records of calls."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from hub.commands.context import console, get, print_json
from hub.core import store as t
from hub.core.models import Disposition
from hub.core.privacy import mask_phone

app = typer.Typer(help="Records of calls.", no_args_is_help=True)


def query_records(
    conn: Any,
    *,
    client: str | None = None,
    disposition: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Records as JSON-ready dicts, in the order the calls were offered."""
    query = select(t.records.c.data).order_by(t.records.c.offered_at, t.records.c.record_id)
    if client is not None:
        query = query.where(t.records.c.client == client)
    if disposition is not None:
        query = query.where(t.records.c.disposition == disposition)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row.data) for row in conn.execute(query)]


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
        rows = query_records(conn, client=client, disposition=disposition.value if disposition else None, limit=limit)
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
