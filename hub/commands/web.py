"""`recado serve`, `recado run` and `recado tokens …`: the web server and who may use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json

if TYPE_CHECKING:
    from hub.web.context import WebContext

tokens_app = typer.Typer(help="Access tokens of the web API and pages: create, list, revoke.", no_args_is_help=True)


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="operator, agent or client."),
    client: str | None = typer.Option(None, "--client", help="The client of a client token."),
    agent: str | None = typer.Option(None, "--agent", help="The agent of an agent token."),
    label: str | None = typer.Option(None, "--label", help="A note to recognise the token by."),
) -> None:
    """Create a token; it is printed once, as the last line, and only its hash is kept."""
    from hub.web.tokens import Role, TokenError, create_token

    try:
        chosen = Role(role)
    except ValueError:
        raise InputError(f"--role: expected operator, agent or client, got {role!r}") from None
    try:
        token_id, token = create_token(get(ctx).store, chosen, client=client, agent=agent, label=label)
    except TokenError as exc:
        raise InputError(str(exc)) from None
    whom = f" for {client or agent}" if (client or agent) else ""
    typer.echo(f"token {token_id} ({chosen.value}{whom}); keep it safe, it is not shown again:")
    typer.echo(token)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: str = typer.Argument(..., help="The token id (tok_…).")) -> None:
    """Revoke a token; the sessions opened with it end at once."""
    from hub.web.tokens import TokenError, revoke_token

    try:
        revoke_token(get(ctx).store, token_id)
    except TokenError as exc:
        raise InputError(str(exc)) from None
    typer.echo(f"token {token_id} revoked")


@tokens_app.command("link")
def tokens_link(
    ctx: typer.Context,
    token_id: str = typer.Argument(..., help="The token id (tok_…) whose holder the link logs in."),
    base_url: str = typer.Option("http://127.0.0.1:8000", "--base-url", help="Where people reach the web server."),
    hours: int = typer.Option(24, "--hours", min=1, max=24 * 30, help="How long the link stays valid."),
) -> None:
    """Make a one-time login link to send to a token's holder; printed as the last line."""
    from datetime import timedelta

    from hub.web.tokens import TokenError, create_login_link

    try:
        code = create_login_link(get(ctx).store, token_id, timedelta(hours=hours))
    except TokenError as exc:
        raise InputError(str(exc)) from None
    typer.echo(f"one-time login link for {token_id}, valid {hours} h:")
    typer.echo(f"{base_url.rstrip('/')}/login/link/{code}")


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context, json_output: bool = typer.Option(False, "--json", help="Print a JSON array.")
) -> None:
    """List tokens (never their secret)."""
    from hub.web.tokens import list_tokens

    rows = list_tokens(get(ctx).store)
    if json_output:
        print_json(rows)
        return
    table = Table("id", "role", "client", "agent", "label", "created", "revoked")
    for row in rows:
        table.add_row(
            row["id"],
            row["role"],
            row["client"] or "",
            row["agent"] or "",
            row["label"] or "",
            (row["created_at"] or "")[:19],
            (row["revoked_at"] or "")[:19],
        )
    console.print(table)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
) -> None:
    """Serve the API, the client portal, the operator dashboard and the agent console."""
    from hub.web.runner import Runner, run_forever

    run_forever(Runner(_web_context(ctx), {"web"}, host=host, port=port))


def run(
    ctx: typer.Context,
    role: list[str] = typer.Option(
        [], "--role", help="engine, worker or web (repeat to pick several; default all three)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address of the web server."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port of the web server."),
) -> None:
    """Run the sources of recado.toml with the engine, the delivery workers and the web server."""
    from hub.web.runner import ROLES, RunError, Runner, run_forever

    unknown = sorted(set(role) - set(ROLES))
    if unknown:
        raise InputError(f"--role: expected engine, worker or web, got {', '.join(unknown)}")
    runner = Runner(_web_context(ctx), set(role or ROLES), host=host, port=port)
    try:
        run_forever(runner)
    except RunError as exc:
        raise InputError(str(exc)) from None


def _web_context(ctx: typer.Context) -> WebContext:
    from hub.web.app import build_context

    context = get(ctx)
    return build_context(context.store, context.plugins, context.settings)


def register(app: typer.Typer) -> None:
    """Add `serve`, `run` and `tokens` to the `recado` application."""
    app.command("serve")(serve)
    app.command("run")(run)
    app.add_typer(tokens_app, name="tokens")
