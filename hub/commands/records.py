"""`recado records …`: the records of calls."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.commands.context import console, get, print_json
from hub.core import records
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
