"""`recado alerts`, `recado check`, `recado migrate`: running the hub."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from sqlalchemy import select, text

from hub.commands.context import console, get, print_json
from hub.core import notices
from hub.core import store as t


def alerts(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the alerts raised for the operator, newest first."""
    with get(ctx).store.connect() as conn:
        rows = notices.list_alerts(conn)
    if json_output:
        print_json(rows)
        return
    table = Table("at", "client", "kind", "message")
    for row in rows:
        table.add_row(row["at"] or "", row["client"] or "", row["kind"], row["message"])
    console.print(table)


def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (every command also does it when needed)."""
    get(ctx).store.migrate()
    console.print("schema is up to date")


def check(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the database, the plugins and every destination's credentials and reachability."""
    context = get(ctx)
    report: dict[str, object] = {}
    with context.store.connect() as conn:
        conn.execute(text("SELECT 1"))
        rows = conn.execute(select(t.destinations)).all()
    report["database"] = {"ok": True, "dialect": context.store.dialect}
    report["plugins"] = [
        {"name": info.name, "ok": not info.errors, "error": "; ".join(info.errors) or None}
        for info in context.plugins.list()
    ]
    box = context.store.secret_box()
    registry = context.plugins.registry

    async def check_all() -> list[dict[str, object]]:
        results: list[dict[str, object]] = []
        for row in rows:
            entry: dict[str, object] = {
                "client": row.client,
                "destination": row.id,
                "kind": row.kind,
            }
            try:
                sink = registry.build_sink(row.kind, box.open(row.settings))
                health = await sink.check()
                await sink.aclose()
                entry |= {"ok": health.ok, "detail": health.detail}
            except Exception as exc:
                entry |= {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            results.append(entry)
        return results

    destinations = asyncio.run(check_all())
    report["destinations"] = destinations
    ok = all(not info.errors for info in context.plugins.list()) and all(d["ok"] for d in destinations)
    report["ok"] = ok
    if json_output:
        print_json(report)
    else:
        console.print_json(data=report)
    if not ok:
        raise typer.Exit(1)
