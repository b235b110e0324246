"""`recado clients …`: apply, list and show client configurations."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hub.commands.context import console, fail, get, print_json
from hub.core import blocklist, directory

app = typer.Typer(help="Manage clients: apply a YAML/TOML file, list, show.", no_args_is_help=True)


@app.command("apply")
def apply(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="YAML or TOML file with a `clients` list."),
    json_output: bool = typer.Option(False, "--json", help="Print what changed as JSON."),
) -> None:
    """Validate FILE and save its clients (idempotent: applying twice changes nothing)."""
    context = get(ctx)
    report = directory.apply_file(context.store, context.plugins.registry, file)
    if json_output:
        print_json(report.as_dict())
        return
    for label, ids in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ):
        for client_id in ids:
            console.print(f"{label:9} {client_id}")


@app.command("list")
def list_(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every client with its numbers and destinations."""
    with get(ctx).store.connect() as conn:
        clients = directory.list_clients(conn)
    if json_output:
        print_json([client.model_dump(mode="json") for client in clients])
        return
    table = Table("id", "name", "DIDs", "languages", "destinations")
    for client in clients:
        table.add_row(
            client.id,
            client.name,
            ", ".join(client.dids),
            ", ".join(lang.value for lang in client.languages),
            ", ".join(f"{d.id} ({d.kind})" for d in client.destinations),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    client_id: str = typer.Argument(..., metavar="CLIENT", help="Client id."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one client's configuration (secrets shown as ***)."""
    with get(ctx).store.connect() as conn:
        client = directory.get_client(conn, client_id)
    if client is None:
        fail(f"no client {client_id!r}")
    data = client.model_dump(mode="json")
    if json_output:
        print_json(data)
    else:
        console.print_json(data=data)


def _known_client(ctx: typer.Context, client_id: str) -> None:
    with get(ctx).store.connect() as conn:
        if directory.get_client(conn, client_id) is None:
            fail(f"no client {client_id!r}")


@app.command("block")
def block(
    ctx: typer.Context,
    client_id: str = typer.Argument(..., metavar="CLIENT", help="Client id."),
    number: str = typer.Argument(..., help="The caller's number (E.164, or national)."),
    note: str | None = typer.Option(None, "--note", help="Why (shown to the operator)."),
) -> None:
    """Block a caller for a client: their calls are refused, free, and recorded as `blocked`."""
    _known_client(ctx, client_id)
    with get(ctx).store.begin() as conn:
        try:
            e164 = blocklist.block(conn, client_id, number, note)
        except ValueError as exc:
            fail(f"NUMBER: {exc}")
    print_json({"client": client_id, "number": e164, "blocked": True})


@app.command("unblock")
def unblock(
    ctx: typer.Context,
    client_id: str = typer.Argument(..., metavar="CLIENT", help="Client id."),
    number: str = typer.Argument(..., help="The caller's number."),
) -> None:
    """Let a blocked caller through again."""
    _known_client(ctx, client_id)
    with get(ctx).store.begin() as conn:
        try:
            was = blocklist.unblock(conn, client_id, number)
        except ValueError as exc:
            fail(f"NUMBER: {exc}")
    print_json({"client": client_id, "number": number, "was_blocked": was})


@app.command("blocked")
def blocked(
    ctx: typer.Context,
    client_id: str = typer.Argument(..., metavar="CLIENT", help="Client id."),
) -> None:
    """List the numbers a client blocked (JSON)."""
    _known_client(ctx, client_id)
    with get(ctx).store.connect() as conn:
        print_json(blocklist.listing(conn, client_id))
