"""`recado`: the command line of the hub (Typer + Rich)."""

from __future__ import annotations

import logging
import sys

import typer
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, OperationalError

from hub.commands import (
    accounts,
    clients,
    deliveries,
    destinations,
    ingest,
    operations,
    plugins,
    records,
    schedule,
    web,
)
from hub.commands import campaigns as campaigns_command
from hub.commands import contracts as contracts_command
from hub.commands import demo as demo_command
from hub.commands import dids as dids_command
from hub.commands import invoices as invoices_command
from hub.commands import optouts as optouts_command
from hub.commands import payments as payments_command
from hub.commands import privacy as privacy_command
from hub.commands import reports as reports_command
from hub.commands import signups as signups_command
from hub.commands.context import Context, InputError, err_console
from hub.core.config_files import ConfigError
from hub.core.engine import IngestError
from hub.core.ledger import LedgerError
from hub.core.mapping import MappingError
from hub.core.privacy import PhoneMaskingFilter
from hub.core.registry import UnknownKind
from hub.core.secrets import SecretError
from hub.plugins import Plugins, plugin_names
from hub.settings import Settings

#: Errors that mean "bad input": one clear line on stderr and exit code 2.
INPUT_ERRORS = (
    ConfigError,
    InputError,
    LedgerError,
    IngestError,
    MappingError,
    SecretError,
    UnknownKind,
)


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    # Migrations announce every step at INFO; only their problems are worth showing.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Settings come from RECADO_* variables, .env or recado.toml: name both spellings.
        problems = []
        for error in exc.errors():
            path = [str(part) for part in error["loc"]]
            variable = "RECADO_" + "__".join(path).upper()
            message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"setting {'.'.join(path)} ({variable} or recado.toml): {message}")
        raise InputError("; ".join(problems)) from None


def build_app(loaded: Plugins | None = None) -> typer.Typer:
    """The `recado` application with the core's commands and every plugin's."""
    app = typer.Typer(
        name="recado",
        help="Recado: the integration hub of a call-answering service.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        db: str | None = typer.Option(
            None,
            "--db",
            envvar="RECADO_DATABASE_URL",
            show_envvar=True,
            help="Database URL (default sqlite:///recado.db; postgresql+psycopg://… for several workers).",
        ),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the hub does on stderr."),
    ) -> None:
        """Recado: telephony in, records out, the prepaid balance in between."""
        _configure_logging(verbose)
        settings = _load_settings()
        context = Context(db_url=db or settings.database_url, settings=settings)
        context._plugins = loaded
        ctx.obj = {"recado": context, "db_url": context.db_url}
        ctx.call_on_close(context.close)

    app.add_typer(clients.app, name="clients")
    app.add_typer(accounts.app, name="accounts")
    app.add_typer(records.app, name="records")
    app.add_typer(deliveries.app, name="deliveries")
    app.add_typer(destinations.app, name="destinations")
    app.add_typer(dids_command.app, name="dids")
    app.add_typer(invoices_command.app, name="invoices")
    app.add_typer(payments_command.app, name="payments")
    app.add_typer(signups_command.app, name="signups")
    app.add_typer(contracts_command.app, name="contracts")
    app.add_typer(reports_command.app, name="reports")
    app.add_typer(privacy_command.app, name="privacy")
    app.add_typer(campaigns_command.app, name="campaigns")
    app.add_typer(optouts_command.app, name="optouts")
    app.command("ingest")(ingest.command)
    app.command("worker")(deliveries.worker_command)
    app.command("plugins")(plugins.command)
    app.command("demo")(demo_command.command)
    app.command("alerts")(operations.alerts)
    app.command("check")(operations.check)
    app.command("migrate")(operations.migrate)
    app.command("tick")(schedule.tick)
    web.register(app)
    if loaded is not None:
        loaded.call_guarded("register_commands", cli=app)
    return app


def main() -> None:
    """Entry point of the `recado` command."""
    try:
        # `plugins` may come from .env or recado.toml too, not only from RECADO_PLUGINS.
        configured = Settings().plugins
    except ValidationError:
        configured = None  # the root command reports the invalid settings
    loaded = Plugins(only=plugin_names(configured))
    app = build_app(loaded)
    try:
        app()
    except INPUT_ERRORS as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except ArgumentError as exc:
        err_console.print(f"[red]error:[/red] --db: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        err_console.print(f"[red]error:[/red] cannot use the database: {reason}", highlight=False, soft_wrap=True)
        sys.exit(1)
