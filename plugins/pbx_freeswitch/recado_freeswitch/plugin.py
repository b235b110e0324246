"""Recado's entry point for the FreeSWITCH plugin: the ``freeswitch`` source and commands."""

from __future__ import annotations

from typing import Any

from hub import hookimpl
from hub.hookspecs import RegisterKind
from recado_freeswitch.source import FreeSwitchConfig, FreeSwitchSource


@hookimpl
def register_sources(register: RegisterKind) -> None:
    """Register the ``freeswitch`` source kind."""
    register("freeswitch", FreeSwitchSource, FreeSwitchConfig)


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``recado freeswitch …`` (decode, check, config)."""
    from recado_freeswitch.cli import app

    cli.add_typer(app, name="freeswitch")
