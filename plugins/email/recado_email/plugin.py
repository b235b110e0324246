"""Entry point of the plugin: registers the `email` sink kind."""

from __future__ import annotations

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_email.config import EmailConfig
from recado_email.sink import EmailSink


@hookimpl
def register_sinks(register: RegisterKind) -> None:
    """Register the `email` kind: `EmailSink` built from `EmailConfig` settings."""
    register(EmailSink.kind, EmailSink, EmailConfig)
