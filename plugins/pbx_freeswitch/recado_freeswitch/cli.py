"""``recado freeswitch …``: decode ESL captures, check a FreeSWITCH, generate its configuration."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from recado_freeswitch.connection import CommandError, ConnectionLost, EslConnection
from recado_freeswitch.fsconfig import GeneratorSettings, load_agents, write_config
from recado_freeswitch.protocol import Message, Parser, ProtocolError

__all__ = ["app"]

app = typer.Typer(
    help="FreeSWITCH: decode captures, check the event socket, generate configuration.",
    no_args_is_help=True,
)


@app.command()
def decode(
    file: Path = typer.Argument(..., help="Raw bytes of an ESL session, as read from the socket."),
) -> None:
    """Print each message of a capture as one JSON object per line."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    parser = Parser()

    def show(messages: list[Message]) -> None:
        for message in messages:
            sys.stdout.write(json.dumps(message.as_dict(), ensure_ascii=False) + "\n")

    try:
        show(parser.feed(data))
    except ProtocolError as exc:
        show(exc.messages)
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    if parser.pending:
        typer.echo(
            f"warning: {file}: {parser.pending} bytes at the end do not make a whole message",
            err=True,
        )


async def _check(host: str, port: int, password: str, timeout: float) -> tuple[str, list[str]]:
    conn = await EslConnection.open(host, port, password, timeout_s=timeout)
    try:
        version = (await conn.api("version")).strip()
        listing = await conn.api("callcenter_config queue list")
    finally:
        await conn.close()
    queues = []
    if not listing.startswith("-ERR"):
        for line in listing.splitlines()[1:]:
            if line and line != "+OK":
                queues.append(line.split("|")[0])
    return version, queues


@app.command()
def check(
    host: str = typer.Option("127.0.0.1", help="FreeSWITCH event socket host."),
    port: int = typer.Option(8021, help="Event socket port."),
    password: str = typer.Option(
        "ClueCon", envvar="RECADO_FREESWITCH_PASSWORD", show_default=False, help="Event socket password."
    ),
    timeout: float = typer.Option(5.0, help="Seconds to wait for the connection and each reply."),
) -> None:
    """Connect, authenticate, and print FreeSWITCH's version and callcenter queues."""
    try:
        version, queues = asyncio.run(_check(host, port, password, timeout))
    except CommandError as exc:
        typer.echo(f"error: {host}:{port} refused the login ({exc.reply.strip()})", err=True)
        raise typer.Exit(1) from None
    except (OSError, TimeoutError, ConnectionLost, ProtocolError) as exc:
        typer.echo(f"error: cannot talk to FreeSWITCH at {host}:{port}: {exc or 'timed out'}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"FreeSWITCH at {host}:{port}: {version}")
    if queues:
        typer.echo(f"callcenter queues ({len(queues)}): {', '.join(queues)}")
    else:
        typer.echo("callcenter queues: none (is mod_callcenter loaded?)")


@app.command()
def config(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Directory to write the files into."),
    agents: Path | None = typer.Option(None, help="YAML file listing the agents (id, gender)."),
    socket_host: str = typer.Option("127.0.0.1", help="Where call control listens."),
    socket_port: int = typer.Option(8084, help="Call control port (the source's control_port)."),
    domain: str = typer.Option("default", help="mod_callcenter domain of queues and agents."),
    sounds_dir: str = typer.Option("/usr/share/freeswitch/sounds/recado", help="Recordings folder."),
) -> None:
    """Write the dialplan, callcenter.conf.xml and sound lists for the clients in the database."""
    from hub.core.directory import load_clients

    db_url = (ctx.obj or {}).get("db_url") or "sqlite:///recado.db"
    try:
        roster = load_agents(agents) if agents else []
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    clients = load_clients(db_url)
    if not clients:
        typer.echo(f"error: no clients in {db_url}; run `recado clients apply FILE` first", err=True)
        raise typer.Exit(1)
    settings = GeneratorSettings(
        socket_host=socket_host,
        socket_port=socket_port,
        domain=domain,
        sounds_dir=sounds_dir,
    )
    for path in write_config(out, clients, roster, settings):
        typer.echo(f"wrote {path}")
