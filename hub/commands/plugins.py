"""`recado plugins`: what is installed and what it provides."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.commands.context import console, get, print_json


def command(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List installed plugins: version, hooks, kinds registered, and errors."""
    infos = get(ctx).plugins.list()
    if json_output:
        print_json([info.as_dict() for info in infos])
        return
    table = Table("plugin", "version", "hooks", "kinds", "error")
    for info in infos:
        kinds = [f"sink:{k}" for k in info.sinks] + [f"source:{k}" for k in info.sources]
        kinds += [f"filter:{k}" for k in info.filters] + [f"payment:{k}" for k in info.payments]
        table.add_row(
            info.name,
            info.version,
            ", ".join(info.hooks),
            ", ".join(kinds),
            "; ".join(info.errors) or "",
        )
    console.print(table)
