"""Entry point of the ``recado-webhook`` distribution: the hooks it implements."""

from __future__ import annotations

from typing import Any

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_webhook.cli import webhook_app
from recado_webhook.config import WebhookConfig
from recado_webhook.sink import WebhookSink


@hookimpl
def register_sinks(register: RegisterKind) -> None:
    """Register the ``webhook`` sink kind with its settings model."""
    register(WebhookSink.kind, WebhookSink, WebhookConfig)


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``recado webhook …`` (secret generation) to the command line."""
    cli.add_typer(webhook_app, name="webhook")
